"""The rights check log's retention: not-allowed plates go after hours, every row after days.

An allowed check is stored without plate, position or right (``check_sql.check_log_values``).
A not-allowed check keeps its plate and position for ``retention_unallowed_check_hours``
(default 24): long enough for the suspect the car posts to arrive and pass its grace step
(the hit keeps its own copy), short enough not to become a record of where cars were. The
rows themselves (who asked, when, zone, answer: the counts and the audit trail of who checks
what) go after ``retention_rights_check_days`` (default 7).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlmodel import Session

from api.rights.db import RightsCheckLogRow
from api.settings import BackendSettings

_log = RightsCheckLogRow.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class CheckLogPurge:
    anonymised: int  # not-allowed rows whose plate and position were removed
    deleted: int


def purge_check_log(
    session: Session, settings: BackendSettings, now: datetime, *, dry_run: bool = False
) -> CheckLogPurge:
    """Thin and purge the check log in the caller's transaction (the caller commits)."""
    plate_cut = now - timedelta(hours=settings.retention_unallowed_check_hours)
    row_cut = now - timedelta(days=settings.retention_rights_check_days)
    thin = (_log.c.at <= plate_cut, _log.c.at > row_cut, _log.c.plate.is_not(None))
    old = (_log.c.at <= row_cut,)
    conn = session.connection()
    if dry_run:
        count = select(func.count()).select_from(_log)
        return CheckLogPurge(
            int(conn.execute(count.where(*thin)).scalar_one()),
            int(conn.execute(count.where(*old)).scalar_one()),
        )
    anonymised = conn.execute(update(_log).where(*thin).values(plate=None, lon=None, lat=None))
    deleted = conn.execute(delete(_log).where(*old))
    return CheckLogPurge(int(anonymised.rowcount or 0), int(deleted.rowcount or 0))
