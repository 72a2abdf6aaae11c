"""Report aggregates: small per-day tables that the reports and the dashboard read.

Database triggers keep them up to date on every insert, update and delete of hits, fines and
heartbeats (migration 0460), in the writing transaction, whichever code path writes; a year
reads a few thousand rows instead of millions. Days are local (Europe/Amsterdam) calendar
days; an empty ``zone_id`` / ``reject_reason`` stands for none. ``api.reports.rollup.rebuild``
recomputes them from the source tables.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel


class HitDayRow(SQLModel, table=True):
    """Hits per local day of capture, zone, status and reject reason."""

    __tablename__ = "report_hits_daily"

    day: date = Field(primary_key=True)
    zone_id: str = Field(default="", primary_key=True, max_length=128)
    status: str = Field(primary_key=True, max_length=24)
    reject_reason: str = Field(default="", primary_key=True, max_length=32)
    hits: int = 0
    decided: int = 0  # hits with a decision time
    decision_seconds: float = 0.0  # their total time from capture to decision


class HitHourRow(SQLModel, table=True):
    """Hits per local day and local hour of capture."""

    __tablename__ = "report_hits_hourly"

    day: date = Field(primary_key=True)
    hour: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    hits: int = 0


class FineDayRow(SQLModel, table=True):
    """Fines per local day of the offence, zone, track and status, with their amounts."""

    __tablename__ = "report_fines_daily"

    day: date = Field(primary_key=True)
    zone_id: str = Field(default="", primary_key=True, max_length=128)
    track: str = Field(primary_key=True, max_length=8)
    status: str = Field(primary_key=True, max_length=24)
    fines: int = 0
    issued: int = 0  # fines with an issue time
    amount_issued_cents: int = Field(default=0, sa_type=BigInteger)
    paid_cents: int = Field(default=0, sa_type=BigInteger)


class ScanDayRow(SQLModel, table=True):
    """What each car counted per local day: the increments of its heartbeat counters."""

    __tablename__ = "report_scans_daily"

    day: date = Field(primary_key=True)
    device_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    reads: int = Field(default=0, sa_type=BigInteger)
    checks: int = Field(default=0, sa_type=BigInteger)
    suspects: int = Field(default=0, sa_type=BigInteger)
