"""Permit applications: filing one, the waiting position, and the decision (grant within the
area quota or onto its waiting list, refuse)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from api.audit.service import record
from api.auth.principal import Principal
from api.db import utcnow
from api.errors import NotFound
from api.permits.db import PermitApplicationRow
from api.permits.lifecycle import NewPermit, build_permit
from api.permits.quota import load_quota, quota_row_for, store_granted
from api.permits.store import (
    actor_name,
    add_created_event,
    add_event,
    load_permit,
    new_permit_id,
    store_permit,
)
from api.rights.repository import lock_rights
from permits.errors import InvalidPermitError, QuotaError
from permits.lifecycle import PermitAction, transition
from permits.model import Permit, PermitStatus
from permits.quota import review_application


def get_application(session: Session, application_id: int) -> PermitApplicationRow:
    app = session.get(PermitApplicationRow, application_id)
    if app is None:
        raise NotFound(f"no permit application with id {application_id}")
    return app


def waiting_position(session: Session, app: PermitApplicationRow) -> int | None:
    """1-based position on its area's waiting list, or None when not waiting."""
    if app.waiting_area_code is None or app.waiting_order is None:
        return None
    ahead = session.exec(
        select(func.count()).where(
            PermitApplicationRow.waiting_area_code == app.waiting_area_code,
            col(PermitApplicationRow.waiting_order) < app.waiting_order,
        )
    ).one()
    return int(ahead) + 1


def apply_for_permit(
    session: Session,
    data: NewPermit,
    applicant: dict[str, Any],
    documents: list[dict[str, Any]],
    actor: Principal | None,
) -> PermitApplicationRow:
    """File an application: the permit is stored ``applied`` and moves to ``in_review``."""
    lock_rights(session)
    at = utcnow()
    name = actor_name(actor)
    permit = build_permit(data, new_permit_id(), PermitStatus.APPLIED, at)
    store_permit(session, permit)
    add_created_event(session, permit, "application filed", name)
    review = transition(permit, PermitAction.START_REVIEW, "application received", at, name)
    add_event(session, review.record)
    store_permit(session, review.permit)
    app = PermitApplicationRow(
        permit_id=permit.id,
        applicant_json=json.dumps(applicant, sort_keys=True),
        documents_json=json.dumps(documents, sort_keys=True),
        created_by=name[:80],
        created_at=at,
    )
    session.add(app)
    session.flush()
    record(session, actor, "permit_application.created", "permit_application", app.id, permit.id)
    return app


def decide_application(
    session: Session,
    application_id: int,
    decision: str,
    reason: str,
    actor: Principal | None,
) -> PermitApplicationRow:
    """``grant``: granted (and active) when the area quota has room, else waitlisted (FIFO);
    ``refuse``: refused, and taken off the waiting list."""
    lock_rights(session)
    app = get_application(session, application_id)
    permit = load_permit(session, app.permit_id)
    at = utcnow()
    name = actor_name(actor)
    if decision == "refuse":
        result = transition(permit, PermitAction.REFUSE, reason, at, name)
        add_event(session, result.record)
        store_permit(session, result.permit)
        app.waiting_area_code = app.waiting_order = app.waiting_since = None
        mark_decided(app, decision, reason, name, at)
    elif decision == "grant":
        _grant_application(session, app, permit, reason, at, name)
    else:
        raise InvalidPermitError("decision", decision, "allowed: grant, refuse")
    session.add(app)
    session.flush()
    # the outcome, as the audit log's labels and filter know it (a grant may waitlist)
    done = (
        "refused"
        if decision == "refuse"
        else "granted"
        if app.decision == "grant"
        else "waitlisted"
    )
    record(session, actor, f"permit_application.{done}", "permit_application", app.id, reason)
    return app


def mark_decided(
    app: PermitApplicationRow, decision: str, reason: str, actor: str, at: datetime
) -> None:
    app.decision = decision
    app.decision_reason = reason[:500]
    app.decided_by = actor[:80]
    app.decided_at = at


def _grant_application(
    session: Session,
    app: PermitApplicationRow,
    permit: Permit,
    reason: str,
    at: datetime,
    actor: str,
) -> None:
    qrow = quota_row_for(session, permit)
    if qrow is None:
        result = transition(permit, PermitAction.GRANT, reason, at, actor)
        mark_decided(app, "grant", reason, actor, at)
        store_granted(session, result, None, at, actor)
        return
    quota = load_quota(session, qrow)
    if permit.status is PermitStatus.WAITLISTED:
        position = quota.position(permit.id)
        if not quota.has_free_place or position != 1:
            raise QuotaError(
                f"application {app.id} is number {position} on the waiting list of area "
                f"{qrow.area_code!r} ({quota.capacity} places, all taken); it is granted "
                "automatically when a place frees up"
            )
        result = transition(permit, PermitAction.GRANT, reason, at, actor)
        mark_decided(app, "grant", reason, actor, at)
        store_granted(session, result, qrow.area_code, at, actor)
        return
    outcome = review_application(quota, permit, at, actor)
    if outcome.result.permit.status is PermitStatus.GRANTED:
        mark_decided(app, "grant", reason, actor, at)
        store_granted(session, outcome.result, qrow.area_code, at, actor)
        return
    add_event(session, outcome.result.record)
    store_permit(session, outcome.result.permit)
    last = session.exec(select(func.max(PermitApplicationRow.waiting_order))).one()
    app.waiting_area_code = qrow.area_code
    app.waiting_order = int(last or 0) + 1
    app.waiting_since = at
