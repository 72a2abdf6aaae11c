"""The expiry job's side: which permits are due, and expiring one (its quota place goes to the
first waiting application; a waiting application whose validity ended is refused)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from api.audit.service import record
from api.permits.applications import mark_decided
from api.permits.db import PermitRow
from api.permits.quota import release_held_place
from api.permits.store import (
    HOLDER_STATUSES,
    add_event,
    application_of,
    plate_rows,
    store_permit,
    to_domain,
)
from api.rights.repository import lock_rights
from permits.lifecycle import expire_if_due as domain_expire_if_due
from permits.model import PermitStatus

EXPIRY_ACTOR = "system (permit expiry)"


def permits_due_for_expiry(session: Session, now: datetime, limit: int) -> list[str]:
    """Ids of permits ``expire_if_due`` would change: waitlisted applications first (so a
    place freed in the same run is not offered to them), then holders, oldest end first."""
    due: list[str] = []
    for statuses in ((PermitStatus.WAITLISTED,), HOLDER_STATUSES):
        due += session.exec(
            select(PermitRow.id)
            .where(
                col(PermitRow.status).in_([s.value for s in statuses]),
                col(PermitRow.valid_to).is_not(None),
                col(PermitRow.valid_to) < now,
            )
            .order_by(col(PermitRow.valid_to), col(PermitRow.id))
            .limit(limit - len(due))
        ).all()
        if len(due) >= limit:
            break
    return due


@dataclass(frozen=True, slots=True)
class ExpiryOutcome:
    permit_id: str
    status: PermitStatus  # expired, or refused (a waiting application)
    granted: tuple[str, ...]  # waiting applications granted the freed place


def expire_if_due(session: Session, permit_id: str, now: datetime) -> ExpiryOutcome | None:
    """Apply ``permits.lifecycle.expire_if_due`` to one permit in the caller's transaction.

    Takes the rights write lock first and then reads the permit, so two processes running the
    job at once serialise here and the second finds nothing to do (None). An expired holder's
    quota place goes to the first waiting application; a refused application leaves the list.
    """
    lock_rights(session)
    row = session.exec(
        select(PermitRow).where(PermitRow.id == permit_id).execution_options(populate_existing=True)
    ).first()
    if row is None:
        return None
    result = domain_expire_if_due(to_domain(row, plate_rows(session, permit_id)), now, EXPIRY_ACTOR)
    if result is None:
        return None
    add_event(session, result.record)
    granted: list[str] = []
    app = application_of(session, permit_id)
    if result.permit.status is PermitStatus.EXPIRED:
        granted = release_held_place(session, row, now, EXPIRY_ACTOR)
        record(session, None, "permit.expire", "permit", permit_id, result.record.reason)
    else:
        if app is not None:
            app.waiting_area_code = app.waiting_order = app.waiting_since = None
            mark_decided(app, "refuse", result.record.reason, EXPIRY_ACTOR, now)
            session.add(app)
        record(
            session,
            None,
            "permit_application.refused_validity_ended",
            "permit_application",
            app.id if app is not None else permit_id,
            f"permit {permit_id}: {result.record.reason}",
        )
    store_permit(session, result.permit)
    return ExpiryOutcome(permit_id, result.permit.status, tuple(granted))
