"""Heartbeats from scan cars: the counts for reports and the health for the device list."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index
from sqlmodel import Field, SQLModel

from api.db import UTCDateTime, utcnow


class HeartbeatRow(SQLModel, table=True):
    __tablename__ = "heartbeats"
    __table_args__ = (
        Index("ix_heartbeats_device_sent", "device_id", "sent_at"),
        # a car run's previous heartbeat (its counters are cumulative per run)
        Index("ix_heartbeats_device_run", "device_id", "run_id", "id"),
        # each car's latest heartbeat: one index lookup per car
        Index("ix_heartbeats_device_id_id", "device_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    device_id: int = Field(foreign_key="devices.id")
    run_id: str | None = Field(default=None, max_length=36)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    sent_at: datetime = Field(sa_type=UTCDateTime)
    lon: float | None = None
    lat: float | None = None
    counts: dict[str, int] = Field(default_factory=dict, sa_type=JSON)
    outbox_backlog: int = 0
    rights_cache_age_s: float | None = None
    software_version: str = Field(max_length=64)
    # cameras, GPS, clock, rights state, outbox age, dead letters, disk, the car's own problems
    # (``scancar.wire.Heartbeat`` after ``software_version``); None for older cars
    health: dict[str, Any] | None = Field(default=None, sa_type=JSON)
