"""The permit expiry step of the background jobs (``api.retention.jobs.tick``).

Permits past their ``valid_to`` become ``expired`` (waitlisted applications past it are
refused), so lists, quota counts and the waiting list see it; an expired holder's quota place
goes to the first waiting application. Each permit is handled in its own transaction that
starts with the rights write lock and reads the permit afresh, so several server processes
may run the step at once: the second finds the permit already changed and does nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.db import utcnow
from api.permits.service import expire_if_due, permits_due_for_expiry
from permits.model import PermitStatus

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ExpiryReport:
    expired: int = 0  # holders moved to expired
    refused: int = 0  # waitlisted applications refused (validity ended while waiting)
    granted: int = 0  # waiting applications granted a freed place
    failed: int = 0  # permits whose transaction failed (logged; retried next run)


def run_expiry_step(
    engine: Engine, *, now: datetime | None = None, batch: int = 500
) -> ExpiryReport:
    """One pass: up to ``batch`` due permits, each in its own transaction."""
    now = now or utcnow()
    with Session(engine) as session:
        due = permits_due_for_expiry(session, now, batch)
        session.rollback()
    expired = refused = granted = failed = 0
    for permit_id in due:
        with Session(engine, expire_on_commit=False) as session:
            try:
                outcome = expire_if_due(session, permit_id, now)
                session.commit()
            except Exception:
                session.rollback()
                log.exception("permit expiry failed for permit %s; retried next run", permit_id)
                failed += 1
                continue
        if outcome is None:
            continue  # another process got there first, or it changed meanwhile
        expired += outcome.status is PermitStatus.EXPIRED
        refused += outcome.status is PermitStatus.REFUSED
        granted += len(outcome.granted)
    report = ExpiryReport(expired, refused, granted, failed)
    if expired or refused or failed:
        log.info(
            "permit expiry: %d expired, %d waiting applications refused, %d granted from the "
            "waiting list, %d failed",
            expired,
            refused,
            granted,
            failed,
        )
    return report
