"""The resident's own permits over the API (``/api/v1/me/...``, role ``resident``): the same
resident-scoped services as the portal (``api.permits.resident``). Another resident's permit
is 404, as one that does not exist."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from api.auth.db import UserRow
from api.auth.principal import Principal, Role
from api.deps import RowId, SessionDep, SettingsDep, ZoneCatalogDep, allow
from api.errors import Unprocessable
from api.limits import ROW_ID_MAX, PermitIdPath, SaneTime
from api.permits import resident
from api.permits.routes import permit_detail, visitor_out
from api.permits.schemas import PermitDetailOut, VisitorSessionOut
from api.residents.addresses import find_addresses, format_address, normalise_postcode
from permits.model import PermitType

router = APIRouter(prefix="/api/v1/me", tags=["resident"])
Resident = Annotated[Principal, allow(Role.RESIDENT)]


class OwnPermitOut(PermitDetailOut):
    address: str | None
    waiting_list_position: int | None
    decision: str | None
    decision_reason: str | None
    decided_at: datetime | None
    visitor_remaining_minutes: int | None


class AddressOut(BaseModel):
    id: int
    text: str


class OwnApplicationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: PermitType
    address_id: int = Field(ge=1, le=ROW_ID_MAX)
    plates: list[Annotated[str, Field(max_length=20)]] = Field(default_factory=list, max_length=2)
    company_name: str = Field(default="", max_length=120)
    kvk_number: str = Field(default="", max_length=8)
    cared_for_name: str = Field(default="", max_length=120)


class OwnPlateChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    old_plate: str = Field(min_length=1, max_length=20)
    new_plate: str = Field(min_length=1, max_length=20)


class OwnVisitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plate: str = Field(min_length=1, max_length=20)
    end: SaneTime = Field(description="until when; the session starts now")
    foreign: bool = Field(
        default=False,
        description="the plate is not Dutch; without it a plate no Dutch series has is "
        "refused (not_dutch_plate), as it is most likely mistyped",
    )


def own_out(session: Session, own: resident.OwnPermit) -> OwnPermitOut:
    app = own.application
    return OwnPermitOut(
        **permit_detail(session, own.permit).model_dump(),
        address=format_address(own.address) if own.address else None,
        waiting_list_position=own.waiting_position,
        decision=app.decision if app else None,
        decision_reason=app.decision_reason if app else None,
        decided_at=app.decided_at if app else None,
        visitor_remaining_minutes=own.visitor_remaining_minutes,
    )


@router.get("/addresses", response_model=list[AddressOut])
def lookup_addresses(
    session: SessionDep,
    _: Resident,
    postcode: Annotated[str, Query(max_length=10)],
    house_number: Annotated[int, Query(ge=1, le=99999)],
) -> list[AddressOut]:
    """The addresses at a postcode and house number (the portal's address step)."""
    code = normalise_postcode(postcode)
    if code is None:
        raise Unprocessable(f"{postcode!r} is not a postcode like 1234AB", code="bad_postcode")
    return [
        AddressOut(id=a.id or 0, text=format_address(a))
        for a in find_addresses(session, code, house_number)
    ]


@router.get("/permits", response_model=list[OwnPermitOut])
def list_own_permits(session: SessionDep, owner: Resident) -> list[OwnPermitOut]:
    return [own_out(session, p) for p in resident.own_permits(session, owner)]


@router.get("/permits/{permit_id}", response_model=OwnPermitOut)
def get_own_permit(session: SessionDep, owner: Resident, permit_id: PermitIdPath) -> OwnPermitOut:
    """One of the caller's own permits; 404 for any other."""
    return own_out(
        session, resident.describe(session, resident.own_permit(session, owner, permit_id))
    )


@router.post("/applications", response_model=OwnPermitOut, status_code=201)
def apply_for_own_permit(
    session: SessionDep,
    catalog: ZoneCatalogDep,
    settings: SettingsDep,
    owner: Resident,
    body: OwnApplicationIn,
) -> OwnPermitOut:
    """Apply for a resident, business, care or visitor permit at an address; the area
    follows from the address through the zones."""
    user = session.get(UserRow, owner.id)
    index = catalog.current(session).index
    app = resident.apply(
        session,
        owner,
        user.full_name if user else owner.name,
        resident.ResidentApplication(
            type=body.type,
            address_id=body.address_id,
            plates=tuple(body.plates),
            company_name=body.company_name,
            kvk_number=body.kvk_number,
            cared_for_name=body.cared_for_name,
        ),
        index,
        settings,
    )
    session.commit()
    return own_out(
        session, resident.describe(session, resident.own_permit(session, owner, app.permit_id))
    )


@router.post("/permits/{permit_id}/change-plate", response_model=OwnPermitOut)
def change_own_plate(
    session: SessionDep, owner: Resident, permit_id: PermitIdPath, body: OwnPlateChangeIn
) -> OwnPermitOut:
    permit = resident.change_plate(session, owner, permit_id, body.old_plate, body.new_plate)
    session.commit()
    return own_out(session, resident.describe(session, permit))


@router.post("/permits/{permit_id}/end", response_model=OwnPermitOut)
def end_own_permit(session: SessionDep, owner: Resident, permit_id: PermitIdPath) -> OwnPermitOut:
    permit = resident.end_permit(session, owner, permit_id)
    session.commit()
    return own_out(session, resident.describe(session, permit))


@router.get("/permits/{permit_id}/visitor-sessions", response_model=list[VisitorSessionOut])
def list_own_visits(
    session: SessionDep, owner: Resident, permit_id: PermitIdPath
) -> list[VisitorSessionOut]:
    return [visitor_out(session, v) for v in resident.recent_visits(session, owner, permit_id, 50)]


@router.post(
    "/permits/{permit_id}/visitor-sessions", response_model=VisitorSessionOut, status_code=201
)
def start_own_visit(
    session: SessionDep, owner: Resident, permit_id: PermitIdPath, body: OwnVisitIn
) -> VisitorSessionOut:
    """Start a visitor session now, until ``end``; it is a right for the scan cars at once."""
    row = resident.start_visit(
        session, owner, permit_id, body.plate, body.end, foreign=body.foreign
    )
    session.commit()
    return visitor_out(session, row)


@router.post(
    "/permits/{permit_id}/visitor-sessions/{session_id}/stop", response_model=VisitorSessionOut
)
def stop_own_visit(
    session: SessionDep, owner: Resident, permit_id: PermitIdPath, session_id: RowId
) -> VisitorSessionOut:
    row = resident.stop_visit(session, owner, permit_id, session_id)
    session.commit()
    return visitor_out(session, row)
