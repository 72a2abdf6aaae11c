"""Tables for hits (one per observation a scan car posts) and their evidence."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from api.db import UTCDateTime, utcnow


class HitRow(SQLModel, table=True):
    __tablename__ = "hits"

    id: int | None = Field(default=None, primary_key=True)
    observation_id: str = Field(max_length=36, unique=True, index=True)
    device_id: int = Field(foreign_key="devices.id", index=True)
    content_sha256: str = Field(max_length=64)
    metadata_json: str = Field(sa_type=Text)
    status: str = Field(max_length=24, index=True)
    plate: str = Field(max_length=10, index=True)
    country: str | None = Field(default=None, max_length=2)
    plate_confidence: float
    captured_at: datetime = Field(sa_type=UTCDateTime, index=True)
    first_seen_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    lon: float
    lat: float
    position_accuracy_m: float
    heading_deg: float | None = None
    camera: str = Field(max_length=64)
    zone_id: str | None = Field(default=None, max_length=128, index=True)
    reason: str = Field(max_length=32)
    rights_checked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    rights_cache_version: str | None = Field(default=None, max_length=128)
    software_version: str = Field(max_length=64)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class EvidenceRow(SQLModel, table=True):
    __tablename__ = "evidence"
    __table_args__ = (UniqueConstraint("hit_id", "name", name="uq_evidence_hit_name"),)

    id: int | None = Field(default=None, primary_key=True)
    hit_id: int = Field(foreign_key="hits.id", index=True)
    name: str = Field(max_length=64)
    kind: str = Field(max_length=16)
    sha256: str = Field(max_length=64, index=True)
    size_bytes: int
    content_type: str = Field(max_length=32)
    width: int
    height: int
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
