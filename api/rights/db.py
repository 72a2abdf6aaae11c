"""Tables of the materialised rights view, its change log (the scan-car feed) and the check log.

``RightRow`` holds one row per right (``permits.model.Right``) with the plain, normalised plate;
it is rewritten in the same transaction as every permit or session change, and every write
appends a ``RightChangeRow`` whose ``seq`` is the feed cursor. ``RightsCheckLogRow`` records
every ``/rights/check`` (who, when, zone, result; the plate and position of a not-allowed check
for a short while); the retention job thins and purges it by ``at``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, text
from sqlmodel import Field, SQLModel

from api.db import UTCDateTime, utcnow

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
SEQ_TYPE = BigInteger().with_variant(Integer(), "sqlite")


class RightRow(SQLModel, table=True):
    """One plate-bound right. ``area_codes`` is ``;``-separated ('' = the whole city)."""

    __tablename__ = "rights"

    id: str = Field(primary_key=True, max_length=200)
    kind: str = Field(max_length=16)
    plate: str = Field(max_length=10, index=True)
    area_codes: str = Field(default="", max_length=2000)
    start: datetime = Field(sa_type=UTCDateTime)
    end: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    permit_type: str | None = Field(default=None, max_length=16)
    source: str = Field(max_length=120, index=True)  # permit:<id> | paid:<id> | visitor:<id>


class RightChangeRow(SQLModel, table=True):
    """Append-only log of right upserts and removals; ``seq`` orders them (the feed cursor).

    Writers take the rights write lock first (``api.rights.repository.lock_rights``), so
    sequence order equals commit order and a reader never skips a change committed late.
    """

    __tablename__ = "right_changes"

    seq: int | None = Field(default=None, primary_key=True, sa_type=SEQ_TYPE)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    op: str = Field(max_length=8)  # upsert | remove
    right_id: str = Field(max_length=200)
    kind: str | None = Field(default=None, max_length=16)
    plate: str | None = Field(default=None, max_length=10)
    area_codes: str | None = Field(default=None, max_length=2000)
    start: datetime | None = Field(default=None, sa_type=UTCDateTime)
    end: datetime | None = Field(default=None, sa_type=UTCDateTime)
    permit_type: str | None = Field(default=None, max_length=16)


class RightsFeedLockRow(SQLModel, table=True):
    """A single row that rights writers lock (``SELECT ... FOR UPDATE``) to serialise the log."""

    __tablename__ = "rights_feed_lock"

    id: int = Field(primary_key=True)
    log_id: str = Field(max_length=32)


class RightsCheckLogRow(SQLModel, table=True):
    """Every ``GET /rights/check``: who asked, when, in which zone, and the answer.

    An allowed check keeps no plate, no position and no right id: a compliant car leaves no
    trace (``docs/security.md``). A not-allowed check keeps its plate and position only while
    the hit it may become can need them (``retention_unallowed_check_hours``); every row goes
    after ``retention_rights_check_days`` (``api.rights.checklog``).
    """

    __tablename__ = "rights_check_log"
    __table_args__ = (
        # the purge's work list: not-allowed checks that still hold a plate
        Index(
            "ix_rights_check_log_plate_at",
            "at",
            postgresql_where=text("plate IS NOT NULL"),
            sqlite_where=text("plate IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=SEQ_TYPE)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    actor_type: str = Field(max_length=16)  # user | device
    actor_id: int
    actor_name: str = Field(max_length=64)
    plate: str | None = Field(default=None, max_length=10)  # not-allowed checks only
    lon: float | None = None
    lat: float | None = None
    check_at: datetime = Field(sa_type=UTCDateTime)
    zone_id: str | None = Field(default=None, max_length=128)
    area_code: str | None = Field(default=None, max_length=64)
    allowed: bool
    reason: str = Field(max_length=32)
    right_id: str | None = Field(default=None, max_length=200)
