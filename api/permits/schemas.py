"""Request and response models of the permits API (OpenAPI documents them)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.limits import INT32_MAX, SaneTime
from permits.bounds import AREA_CODES_MAX_CHARS
from permits.model import PermitStatus, PermitType

# one area code as the columns hold it (area_quotas.area_code VARCHAR(64)); a permit's codes
# are stored joined by ';' in permits.area_codes VARCHAR(2000)
AreaCode = Annotated[str, Field(min_length=1, max_length=64)]
PlateIn = Annotated[str, Field(min_length=1, max_length=20, description="any spelling")]


def _check_area_codes(codes: list[str] | None) -> None:
    if codes and len(";".join(codes)) > AREA_CODES_MAX_CHARS:
        raise ValueError(
            f"area_codes together (joined by ';') are {len(';'.join(codes))} characters; "
            f"at most {AREA_CODES_MAX_CHARS} are allowed"
        )


class PermitCreate(BaseModel):
    """A permit the back office grants directly (stored ``active``)."""

    model_config = ConfigDict(extra="forbid")

    type: PermitType
    holder: str = Field(min_length=1, max_length=128, description="the holder's reference")
    plates: list[PlateIn] = Field(default_factory=list, max_length=10)
    area_codes: list[AreaCode] = Field(default_factory=list, max_length=50)
    valid_from: SaneTime
    valid_to: SaneTime | None = None
    visitor_budget_minutes: int | None = Field(default=None, ge=0, le=1_000_000)

    @model_validator(mode="after")
    def _area_codes_fit(self) -> PermitCreate:
        _check_area_codes(self.area_codes)
        return self


class PermitUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=500)
    holder: str | None = Field(default=None, min_length=1, max_length=128)
    area_codes: list[AreaCode] | None = Field(default=None, max_length=50)
    valid_from: SaneTime | None = None
    valid_to: SaneTime | None = None
    clear_valid_to: bool = False
    visitor_budget_minutes: int | None = Field(default=None, ge=0, le=1_000_000)

    @model_validator(mode="after")
    def _area_codes_fit(self) -> PermitUpdate:
        _check_area_codes(self.area_codes)
        return self


class ActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=500)


class ChangePlateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    old_plate: str = Field(min_length=1, max_length=20)
    new_plate: str = Field(min_length=1, max_length=20)
    reason: str = Field(min_length=1, max_length=500)
    at: SaneTime | None = Field(default=None, description="default: now")


class PlatePeriodOut(BaseModel):
    plate: str
    start: datetime
    end: datetime | None


class PermitEventOut(BaseModel):
    action: str
    from_status: str | None
    to_status: str
    reason: str
    at: datetime
    actor: str
    old_plate: str | None
    new_plate: str | None


class PermitOut(BaseModel):
    id: str
    type: PermitType
    status: PermitStatus
    holder: str
    plates: list[str] = Field(description="plates registered now (open periods)")
    plate_periods: list[PlatePeriodOut]
    area_codes: list[str]
    valid_from: datetime
    valid_to: datetime | None
    visitor_budget_minutes: int | None
    visitor_used_minutes: int | None
    allowed_actions: list[str]


class PermitDetailOut(PermitOut):
    events: list[PermitEventOut]
    application_id: int | None


class PermitsPage(BaseModel):
    data: list[PermitOut]
    count: int


class DocumentRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ref: str = Field(min_length=1, max_length=200, description="id in the document store")
    kind: str = Field(default="other", max_length=50)


class ApplicationCreate(PermitCreate):
    """An application filed by the back office on behalf of an applicant."""

    applicant: dict[str, Any] = Field(description="applicant details (name, address, ...)")
    documents: list[DocumentRef] = Field(default_factory=list, max_length=50)


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["grant", "refuse"]
    reason: str = Field(min_length=1, max_length=500)


class ApplicationOut(BaseModel):
    id: int
    permit_id: str
    status: PermitStatus
    applicant: dict[str, Any]
    documents: list[DocumentRef]
    waiting_list_area_code: str | None
    waiting_list_position: int | None
    decision: str | None
    decision_reason: str | None
    decided_by: str | None
    decided_at: datetime | None
    created_at: datetime


class QuotaIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    capacity: int = Field(ge=0, le=10_000_000)
    permit_types: list[PermitType] = Field(
        default_factory=lambda: [PermitType.RESIDENT], max_length=len(PermitType)
    )


class WaitingOut(BaseModel):
    position: int
    permit_id: str
    since: datetime


class QuotaOut(BaseModel):
    area_code: str
    capacity: int
    permit_types: list[PermitType]
    holders: int
    free_places: int
    waiting: list[WaitingOut]


class PaidSessionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    provider_session_id: str = Field(min_length=1, max_length=100)
    plate: str = Field(min_length=1, max_length=20)
    area_code: str = Field(min_length=1, max_length=64)
    start: SaneTime
    end: SaneTime | None = None
    amount_cents: int = Field(default=0, ge=0, le=INT32_MAX)


class PaidSessionOut(BaseModel):
    id: int
    provider_session_id: str
    plate: str
    area_code: str
    start: datetime
    end: datetime | None
    amount_cents: int
    stopped_at: datetime | None
    right_id: str


class StopIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at: SaneTime | None = Field(default=None, description="default: now")


class VisitorSessionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plate: str = Field(min_length=1, max_length=20)
    start: SaneTime
    end: SaneTime
    area_codes: list[AreaCode] | None = Field(
        default=None, max_length=50, description="default: the permit's"
    )

    @model_validator(mode="after")
    def _area_codes_fit(self) -> VisitorSessionIn:
        _check_area_codes(self.area_codes)
        return self


class VisitorSessionOut(BaseModel):
    id: int
    permit_id: str
    plate: str
    area_codes: list[str]
    start: datetime
    end: datetime
    charged_minutes: int
    remaining_minutes: int
    right_id: str
