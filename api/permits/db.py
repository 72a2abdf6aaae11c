"""Tables of permits (with plate periods and an event history), applications with the waiting
list, area quotas, paid parking sessions and visitor sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from api.auth.db import UserRow
from api.db import UTCDateTime, utcnow
from api.residents.db import AddressRow

# the tables the foreign keys below refer to, so this module's metadata is complete wherever it
# is imported alone (a CLI command that loads only the permits tables)
REFERENCED_TABLES = (UserRow, AddressRow)


class PermitRow(SQLModel, table=True):
    __tablename__ = "permits"

    id: str = Field(primary_key=True, max_length=64)
    type: str = Field(max_length=16, index=True)
    holder_ref: str = Field(max_length=128, index=True)
    area_codes: str = Field(default="", max_length=2000)  # ';'-separated, '' = city-wide
    valid_from: datetime = Field(sa_type=UTCDateTime)
    valid_to: datetime | None = Field(default=None, sa_type=UTCDateTime)
    status: str = Field(max_length=16, index=True)
    visitor_budget_minutes: int | None = None
    visitor_used_minutes: int = 0
    applied_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # the area whose quota this permit holds a place in (granted / active / suspended)
    quota_area_code: str | None = Field(default=None, max_length=64, index=True)
    # the resident or business account the permit belongs to (portal); None: back office only
    owner_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PermitPlateRow(SQLModel, table=True):
    """A plate registered on a permit from ``start`` until ``end`` (None: until further notice)."""

    __tablename__ = "permit_plates"
    __table_args__ = (UniqueConstraint("permit_id", "position", name="uq_permit_plates_position"),)

    id: int | None = Field(default=None, primary_key=True)
    permit_id: str = Field(foreign_key="permits.id", index=True, max_length=64)
    position: int
    plate: str = Field(max_length=10, index=True)
    start: datetime = Field(sa_type=UTCDateTime)
    end: datetime | None = Field(default=None, sa_type=UTCDateTime)


class PermitEventRow(SQLModel, table=True):
    """The history of a permit: every transition with reason, actor and time."""

    __tablename__ = "permit_events"

    id: int | None = Field(default=None, primary_key=True)
    permit_id: str = Field(foreign_key="permits.id", index=True, max_length=64)
    action: str = Field(max_length=24)
    from_status: str | None = Field(default=None, max_length=16)
    to_status: str = Field(max_length=16)
    reason: str = Field(max_length=500)
    at: datetime = Field(sa_type=UTCDateTime)
    actor: str = Field(max_length=80)
    old_plate: str | None = Field(default=None, max_length=10)
    new_plate: str | None = Field(default=None, max_length=10)


class PermitApplicationRow(SQLModel, table=True):
    """An application (aanvraag) for a permit, made by the back office for an applicant."""

    __tablename__ = "permit_applications"

    id: int | None = Field(default=None, primary_key=True)
    permit_id: str = Field(foreign_key="permits.id", unique=True, max_length=64)
    applicant_json: str = Field(sa_type=Text)
    documents_json: str = Field(sa_type=Text)
    # the address the permit is for (the portal's applications; the area follows from it)
    address_id: int | None = Field(default=None, foreign_key="addresses.id", index=True)
    # waiting list (wachtlijst): the area and a global FIFO order while waitlisted
    waiting_area_code: str | None = Field(default=None, max_length=64, index=True)
    waiting_since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    waiting_order: int | None = Field(default=None, index=True)
    decision: str | None = Field(default=None, max_length=16)  # grant | refuse
    decision_reason: str | None = Field(default=None, max_length=500)
    decided_by: str | None = Field(default=None, max_length=80)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_by: str = Field(max_length=80)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AreaQuotaRow(SQLModel, table=True):
    """How many permits of the listed types an area allows (holders beyond wait in line)."""

    __tablename__ = "permit_area_quotas"

    area_code: str = Field(primary_key=True, max_length=64)
    capacity: int
    permit_types: str = Field(default="resident", max_length=200)  # ';'-separated
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PaidSessionRow(SQLModel, table=True):
    """A paid parking session reported by a provider (parking app), idempotent on its id."""

    __tablename__ = "paid_sessions"
    __table_args__ = (
        UniqueConstraint(
            "provider_id", "provider_session_id", name="uq_paid_sessions_provider_session"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    provider_id: int = Field(foreign_key="users.id", index=True)
    provider_session_id: str = Field(max_length=100)
    plate: str = Field(max_length=10, index=True)
    area_code: str = Field(max_length=64)
    start: datetime = Field(sa_type=UTCDateTime)
    end: datetime | None = Field(default=None, sa_type=UTCDateTime)
    amount_cents: int = 0
    stopped_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class VisitorSessionRow(SQLModel, table=True):
    """A session a visitor-permit holder started for a visitor's plate (bezoekersparkeren)."""

    __tablename__ = "visitor_sessions"

    id: int | None = Field(default=None, primary_key=True)
    permit_id: str = Field(foreign_key="permits.id", index=True, max_length=64)
    plate: str = Field(max_length=10, index=True)
    area_codes: str = Field(max_length=2000)
    start: datetime = Field(sa_type=UTCDateTime)
    end: datetime = Field(sa_type=UTCDateTime)
    charged_minutes: int
    stopped_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_by: str = Field(max_length=80)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
