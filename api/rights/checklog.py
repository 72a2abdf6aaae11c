"""The rights check log's retention: not-allowed plates go after hours, every row after days.

An allowed check is stored without plate, position or right (``check_sql.check_log_values``).
A not-allowed check keeps its plate and position for ``retention_unallowed_check_hours``
(default 24): long enough for the suspect the car posts to arrive and pass its grace step
(the hit keeps its own copy), short enough not to become a record of where cars were. The
rows themselves (who asked, when, zone, answer: the counts and the audit trail of who checks
what) go after ``retention_rights_check_days`` (default 7). The purge
(``api.retention.service``) calls the chunk functions here, a chunk per transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlmodel import Session

from api.rights.db import RightsCheckLogRow
from api.settings import BackendSettings

_log = RightsCheckLogRow.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class CheckLogPurge:
    anonymised: int  # not-allowed rows whose plate and position were removed
    deleted: int


def _cuts(settings: BackendSettings, now: datetime) -> tuple[datetime, datetime]:
    plate_cut = now - timedelta(hours=settings.retention_unallowed_check_hours)
    return plate_cut, now - timedelta(days=settings.retention_rights_check_days)


def _to_thin(settings: BackendSettings, now: datetime) -> tuple[Any, ...]:
    # ``plate IS NOT NULL`` is the predicate of the partial index ix_rights_check_log_plate_at
    plate_cut, row_cut = _cuts(settings, now)
    return (_log.c.plate.is_not(None), _log.c.at <= plate_cut, _log.c.at > row_cut)


def _to_delete(settings: BackendSettings, now: datetime) -> tuple[Any, ...]:
    return (_log.c.at <= _cuts(settings, now)[1],)


def count_due(session: Session, settings: BackendSettings, now: datetime) -> CheckLogPurge:
    """What the purge would do to the check log at ``now`` (no changes)."""
    count = select(func.count()).select_from(_log)
    conn = session.connection()
    return CheckLogPurge(
        int(conn.execute(count.where(*_to_thin(settings, now))).scalar_one()),
        int(conn.execute(count.where(*_to_delete(settings, now))).scalar_one()),
    )


def thin_chunk(session: Session, settings: BackendSettings, now: datetime, n: int) -> int:
    """Remove plate and position from the next ``n`` not-allowed rows past their hours, in the
    caller's transaction (the caller commits). Returns how many."""
    ids = select(_log.c.id).where(*_to_thin(settings, now)).order_by(_log.c.at).limit(n)
    result = session.connection().execute(
        update(_log)
        .where(_log.c.id.in_(ids.scalar_subquery()))
        .values(plate=None, lon=None, lat=None)
    )
    return int(result.rowcount or 0)


def delete_chunk(session: Session, settings: BackendSettings, now: datetime, n: int) -> int:
    """Delete the next ``n`` rows past their days, in the caller's transaction."""
    ids = select(_log.c.id).where(*_to_delete(settings, now)).order_by(_log.c.at).limit(n)
    result = session.connection().execute(delete(_log).where(_log.c.id.in_(ids.scalar_subquery())))
    return int(result.rowcount or 0)
