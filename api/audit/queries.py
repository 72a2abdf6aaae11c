"""The read side of the audit log, shared by ``GET /api/v1/audit`` and the audit page:
filter by actor, object (type and id), action and time; newest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from api.audit.db import AuditRow
from api.pagination import COUNT_CAP, bounded_count


@dataclass(frozen=True, slots=True)
class AuditFilter:
    actor: str | None = None  # the actor's name as recorded (a user name, a car, "system")
    target_type: str | None = None  # hit, fine, user, zone_version, ...
    target_id: str | None = None
    action: str | None = None  # exact (fine.issue), or every action of an object: "fine.*"
    since: datetime | None = None  # at or after (timezone-aware)
    until: datetime | None = None  # before


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime
    actor_type: str
    actor_id: int | None
    actor_name: str
    action: str
    target_type: str
    target_id: str
    request_id: str | None
    detail: str


@dataclass(frozen=True, slots=True)
class AuditPage:
    entries: tuple[AuditEntry, ...]
    count: int  # exact when ``count_exact``, else there are more (``api.pagination``)
    count_exact: bool = True


def _conditions(flt: AuditFilter) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    if flt.actor:
        conds.append(col(AuditRow.actor_name) == flt.actor.strip())
    if flt.target_type:
        conds.append(col(AuditRow.target_type) == flt.target_type)
    if flt.target_id:
        conds.append(col(AuditRow.target_id) == flt.target_id.strip())
    if flt.action and flt.action.endswith(".*"):
        conds.append(col(AuditRow.action).startswith(flt.action[:-1], autoescape=True))
    elif flt.action:
        conds.append(col(AuditRow.action) == flt.action)
    if flt.since is not None:
        conds.append(col(AuditRow.at) >= flt.since)
    if flt.until is not None:
        conds.append(col(AuditRow.at) < flt.until)
    return conds


def audit_entries(session: Session, flt: AuditFilter, *, limit: int, offset: int = 0) -> AuditPage:
    """A page of matching entries, newest first, and how many match: exact up to
    ``COUNT_CAP`` (or as far as this page reaches), else "more than"."""
    conds = _conditions(flt)
    rows = session.exec(
        select(AuditRow).where(*conds).order_by(col(AuditRow.id).desc()).offset(offset).limit(limit)
    ).all()
    cap = max(COUNT_CAP, offset + limit + 1)  # enough to say whether a next page exists
    total = bounded_count(session, select(AuditRow.id).where(*conds), cap)
    entries = tuple(
        AuditEntry(
            id=r.id or 0,
            at=r.at,
            actor_type=r.actor_type,
            actor_id=r.actor_id,
            actor_name=r.actor_name,
            action=r.action,
            target_type=r.target_type,
            target_id=r.target_id,
            request_id=r.request_id,
            detail=r.detail,
        )
        for r in rows
    )
    return AuditPage(entries, total.value, total.exact)
