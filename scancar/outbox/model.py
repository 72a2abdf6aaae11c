"""Value objects of the outbox."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from uuid import UUID


class ItemState(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"  # acknowledged by the backend; evidence deleted
    DEAD = "dead"  # refused by the backend or unreadable; kept with the reason


@dataclass(frozen=True, slots=True)
class EvidenceFile:
    name: str
    path: Path
    sha256: str
    size: int


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """One queued suspect, exactly as it will be sent."""

    seq: int
    observation_id: UUID
    metadata_json: bytes  # the ``metadata`` part, byte-identical on every retry
    evidence: tuple[EvidenceFile, ...]
    created_at: datetime
    attempts: int


@dataclass(frozen=True, slots=True)
class DeadLetter:
    observation_id: UUID
    status: int | None  # HTTP status, None when it never reached the backend
    reason: str  # short code: conflict, rejected, too_large, evidence_missing, ...
    detail: str
    at: datetime


@dataclass(frozen=True, slots=True)
class OutboxStats:
    pending: int
    sent: int
    dead: int
    bytes_queued: int
    quota_bytes: int
    is_accepting: bool  # False after a quota refusal, until the backlog drains below the quota
