"""The append-only audit log table (database triggers refuse UPDATE and DELETE)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from api.db import UTCDateTime, utcnow


class AuditRow(SQLModel, table=True):
    __tablename__ = "audit_log"
    __table_args__ = (
        # newest first within a filter (the list is ordered by id)
        Index("ix_audit_log_target_type_id", "target_type", "id"),
        Index("ix_audit_log_action_id", "action", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    actor_type: str = Field(max_length=16)  # user | device | system
    actor_id: int | None = Field(default=None)
    actor_name: str = Field(max_length=64)
    action: str = Field(max_length=64)
    target_type: str = Field(max_length=32)
    target_id: str = Field(max_length=64, index=True)
    request_id: str | None = Field(default=None, max_length=64)
    detail: str = Field(default="", max_length=500)
