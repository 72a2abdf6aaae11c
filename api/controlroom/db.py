"""Tables of the control room (meldkamer): hits assigned to a BOA, and the positions BOAs
share from the tablet."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from api.db import UTCDateTime, utcnow


class HitAssignmentRow(SQLModel, table=True):
    """A hit the control room gave to one BOA to confirm on site (at most one per hit)."""

    __tablename__ = "hit_assignments"

    hit_id: int = Field(foreign_key="hits.id", primary_key=True)
    boa_id: int = Field(foreign_key="users.id", index=True)
    assigned_by: int = Field(foreign_key="users.id")
    assigned_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class BoaPositionRow(SQLModel, table=True):
    """A BOA who shares their location with the control room, and the latest position.

    The row exists while sharing is on; the position is cleared once it is older than
    ``boa_position_max_age_minutes`` (by the background tick, ``api.controlroom.jobs``) and
    the row goes when the BOA stops sharing."""

    __tablename__ = "boa_positions"

    user_id: int = Field(foreign_key="users.id", primary_key=True)
    lon: float | None = None
    lat: float | None = None
    accuracy_m: float | None = None
    at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    since: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
