"""Heartbeats from scan cars (kept for the scan counts in reports)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from api.db import UTCDateTime, utcnow


class HeartbeatRow(SQLModel, table=True):
    __tablename__ = "heartbeats"

    id: int | None = Field(default=None, primary_key=True)
    device_id: int = Field(foreign_key="devices.id", index=True)
    run_id: str | None = Field(default=None, max_length=36)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    sent_at: datetime = Field(sa_type=UTCDateTime)
    lon: float | None = None
    lat: float | None = None
    counts: dict[str, int] = Field(default_factory=dict, sa_type=JSON)
    outbox_backlog: int = 0
    rights_cache_age_s: float | None = None
    software_version: str = Field(max_length=64)
