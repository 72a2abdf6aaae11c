"""Tables for hits (one per observation a scan car posts) and their evidence."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from api.db import UTCDateTime, utcnow

DISCARDED_SQL = "status IN ('dismissed', 'rejected')"
OPEN_SQL = "status IN ('awaiting_review', 'claimed')"  # the review queue


class HitRow(SQLModel, table=True):
    __tablename__ = "hits"
    __table_args__ = (
        # the review queue and status filters, newest or oldest first
        Index("ix_hits_status_captured_at", "status", "captured_at"),
        # the review queue oldest first: only the open hits (a few thousand of a million)
        Index(
            "ix_hits_open_captured_at",
            "captured_at",
            "id",
            postgresql_where=text(OPEN_SQL),
            sqlite_where=text(OPEN_SQL),
        ),
        # nearest-first: a bounding box over the waiting hits
        Index("ix_hits_status_lat_lon", "status", "lat", "lon"),
        # the purge's work lists: only the discarded hits it has not finished with
        Index(
            "ix_hits_purge_evidence",
            "id",
            postgresql_where=text(f"{DISCARDED_SQL} AND evidence_deleted_at IS NULL"),
            sqlite_where=text(f"{DISCARDED_SQL} AND evidence_deleted_at IS NULL"),
        ),
        Index(
            "ix_hits_purge_plate",
            "id",
            postgresql_where=text(f"{DISCARDED_SQL} AND plate <> ''"),
            sqlite_where=text(f"{DISCARDED_SQL} AND plate <> ''"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    observation_id: str = Field(max_length=36, unique=True, index=True)
    device_id: int = Field(foreign_key="devices.id", index=True)
    content_sha256: str = Field(max_length=64)
    metadata_json: str = Field(sa_type=Text)
    status: str = Field(max_length=24)
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

    # review (BOA) state
    grace_until: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    original_plate: str | None = Field(default=None, max_length=10)  # the car's read, if corrected
    repeat: bool = Field(default=False)
    claimed_by: int | None = Field(default=None, foreign_key="users.id")
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_by: int | None = Field(default=None, foreign_key="users.id")
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decision_mode: str | None = Field(default=None, max_length=16)  # remote | on_site
    decision_lon: float | None = None
    decision_lat: float | None = None
    decision_distance_m: float | None = None
    reject_reason: str | None = Field(default=None, max_length=32)
    decision_note: str | None = Field(default=None, max_length=1000)
    decision_rights_check_id: int | None = Field(default=None)
    evidence_deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


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


class HitEventRow(SQLModel, table=True):
    """The history of one hit: every transition with who, when and why."""

    __tablename__ = "hit_events"

    id: int | None = Field(default=None, primary_key=True)
    hit_id: int = Field(foreign_key="hits.id", index=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    actor_type: str = Field(max_length=16)
    actor_id: int | None = None
    actor_name: str = Field(max_length=64)
    action: str = Field(max_length=32)
    from_status: str = Field(max_length=24)
    to_status: str = Field(max_length=24)
    detail: str = Field(default="", max_length=1000)


class HitRightsCheckRow(SQLModel, table=True):
    """A rights check made for a hit (by the car, at the grace step, after a plate correction)."""

    __tablename__ = "hit_rights_checks"

    id: int | None = Field(default=None, primary_key=True)
    hit_id: int = Field(foreign_key="hits.id", index=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    source: str = Field(max_length=16)  # car | grace | confirm | correction | manual
    plate: str = Field(max_length=10)
    zone_id: str | None = Field(default=None, max_length=128)
    checked_for: datetime = Field(sa_type=UTCDateTime)  # the moment the right was checked for
    allowed: bool
    reason: str = Field(max_length=32)
    right_id: str | None = Field(default=None, max_length=64)
    valid_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
