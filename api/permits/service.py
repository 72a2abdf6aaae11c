"""Permits in the backend: storing domain permits, lifecycle actions, applications with the
area quota and waiting list, paid (provider) sessions and visitor sessions.

The rules are the domain's (``permits.lifecycle``, ``permits.quota``, ``permits.visitor``);
this module loads and stores their values. Every function runs in the caller's session,
takes the rights write lock first (``lock_rights``), keeps the materialised rights in step
(``SqlRightsRepository.put_*``) and writes one audit row; the route commits.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from api.audit.service import record
from api.auth.principal import Principal
from api.db import utcnow
from api.errors import Conflict, NotFound
from api.permits.db import (
    AreaQuotaRow,
    PaidSessionRow,
    PermitApplicationRow,
    PermitEventRow,
    PermitPlateRow,
    PermitRow,
    VisitorSessionRow,
)
from api.rights.repository import SqlRightsRepository, join_areas, lock_rights, split_areas
from permits.csvio import CsvPermit
from permits.errors import CsvImportError, CsvRowError, InvalidPermitError, QuotaError
from permits.lifecycle import (
    PermitAction,
    TransitionRecord,
    TransitionResult,
    transition,
)
from permits.lifecycle import change_plate as domain_change_plate
from permits.lifecycle import expire_if_due as domain_expire_if_due
from permits.model import (
    PaidSession,
    Permit,
    PermitStatus,
    PermitType,
    PlatePeriod,
    VisitorSession,
)
from permits.plates import normalise_plate
from permits.quota import HOLDER_STATUSES as DOMAIN_HOLDER_STATUSES
from permits.quota import (
    AreaLoad,
    AreaQuota,
    LoadPlan,
    ReleaseOutcome,
    WaitingEntry,
    fill_places,
    place_loaded_permits,
    plan_area_change,
    release_place,
    review_application,
)
from permits.visitor import (
    VisitorAccount,
    session_minutes,
    start_visitor_session,
    stop_visitor_session,
)

HOLDER_STATUSES = tuple(s for s in PermitStatus if s in DOMAIN_HOLDER_STATUSES)
EXPIRY_ACTOR = "system (permit expiry)"
LIFECYCLE_ACTIONS = (
    PermitAction.SUSPEND,
    PermitAction.REVOKE,
    PermitAction.REINSTATE,
    PermitAction.EXPIRE,
)


def actor_name(actor: Principal | None) -> str:
    return actor.label if actor else "system"


def new_permit_id() -> str:
    return f"P-{uuid.uuid4().hex[:12].upper()}"


# --------------------------------------------------------------------------- load / store
def _to_domain(row: PermitRow, plates: Sequence[PermitPlateRow]) -> Permit:
    return Permit(
        id=row.id,
        type=PermitType(row.type),
        holder_ref=row.holder_ref,
        plate_periods=tuple(
            PlatePeriod(p.plate, p.start, p.end) for p in sorted(plates, key=lambda p: p.position)
        ),
        area_codes=split_areas(row.area_codes),
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        status=PermitStatus(row.status),
        visitor_budget_minutes=row.visitor_budget_minutes,
        applied_at=row.applied_at,
    )


def get_permit_row(session: Session, permit_id: str) -> PermitRow:
    row = session.get(PermitRow, permit_id)
    if row is None:
        raise NotFound(f"no permit with id {permit_id!r}")
    return row


def plate_rows(session: Session, permit_id: str) -> list[PermitPlateRow]:
    return list(
        session.exec(
            select(PermitPlateRow)
            .where(PermitPlateRow.permit_id == permit_id)
            .order_by(col(PermitPlateRow.position))
        )
    )


def load_permit(session: Session, permit_id: str) -> Permit:
    return _to_domain(get_permit_row(session, permit_id), plate_rows(session, permit_id))


def store_permit(session: Session, permit: Permit, *, quota_area_code: str | None = None) -> None:
    """Insert or update the permit, its plate periods and its materialised rights."""
    row = session.get(PermitRow, permit.id)
    if row is None:
        row = PermitRow(
            id=permit.id,
            type=permit.type.value,
            holder_ref=permit.holder_ref,
            valid_from=permit.valid_from,
            status=permit.status.value,
        )
    row.type = permit.type.value
    row.holder_ref = permit.holder_ref
    row.area_codes = join_areas(permit.area_codes)
    row.valid_from = permit.valid_from
    row.valid_to = permit.valid_to
    row.status = permit.status.value
    row.visitor_budget_minutes = permit.visitor_budget_minutes
    row.applied_at = permit.applied_at
    row.updated_at = utcnow()
    if quota_area_code is not None:
        row.quota_area_code = quota_area_code or None
    if permit.status not in HOLDER_STATUSES:
        row.quota_area_code = None
    session.add(row)
    session.flush()
    existing = {p.position: p for p in plate_rows(session, permit.id)}
    for position, period in enumerate(permit.plate_periods):
        plate_row = existing.pop(position, None) or PermitPlateRow(
            permit_id=permit.id, position=position, plate=period.plate, start=period.start
        )
        plate_row.plate, plate_row.start, plate_row.end = period.plate, period.start, period.end
        session.add(plate_row)
    for stale in existing.values():
        session.delete(stale)
    session.flush()
    rights = SqlRightsRepository(session)
    rights.put_permit(permit)
    if permit.type is PermitType.VISITOR:
        # visitor sessions give rights only while their permit is active
        for visit in visitor_sessions(session, permit.id):
            if permit.status is PermitStatus.ACTIVE:
                rights.put_visitor_session(_visitor_domain(visit))
            else:
                rights.remove_right(_visitor_domain(visit).right_id)


def add_event(session: Session, rec: TransitionRecord) -> None:
    session.add(
        PermitEventRow(
            permit_id=rec.permit_id,
            action=rec.action.value,
            from_status=rec.from_status.value,
            to_status=rec.to_status.value,
            reason=rec.reason[:500],
            at=rec.at,
            actor=rec.actor[:80],
            old_plate=rec.old_plate,
            new_plate=rec.new_plate,
        )
    )


def _add_created_event(session: Session, permit: Permit, reason: str, actor: str) -> None:
    session.add(
        PermitEventRow(
            permit_id=permit.id,
            action="create",
            from_status=None,
            to_status=permit.status.value,
            reason=reason[:500],
            at=utcnow(),
            actor=actor[:80],
        )
    )


def events(session: Session, permit_id: str) -> list[PermitEventRow]:
    return list(
        session.exec(
            select(PermitEventRow)
            .where(PermitEventRow.permit_id == permit_id)
            .order_by(col(PermitEventRow.id))
        )
    )


# --------------------------------------------------------------------------- quota
def _quota_row_for(session: Session, permit: Permit) -> AreaQuotaRow | None:
    """The quota that ``permit`` counts against: its first area (by code) with a quota for its
    permit type."""
    return _quota_row_for_type(session, permit.type, permit.area_codes)


def _quota_row_for_type(
    session: Session, permit_type: PermitType, area_codes: Iterable[str]
) -> AreaQuotaRow | None:
    for code in sorted(area_codes):
        row = session.get(AreaQuotaRow, code)
        if row is not None and permit_type.value in split_areas(row.permit_types):
            return row
    return None


def load_quota(session: Session, row: AreaQuotaRow) -> AreaQuota:
    holders = session.exec(
        select(PermitRow.id).where(
            PermitRow.quota_area_code == row.area_code,
            col(PermitRow.status).in_([s.value for s in HOLDER_STATUSES]),
        )
    ).all()
    waiting = session.exec(
        select(PermitApplicationRow)
        .where(PermitApplicationRow.waiting_area_code == row.area_code)
        .order_by(col(PermitApplicationRow.waiting_order))
    ).all()
    return AreaQuota(
        area_code=row.area_code,
        capacity=row.capacity,
        holders=frozenset(holders),
        waiting=tuple(WaitingEntry(a.permit_id, a.waiting_since or a.created_at) for a in waiting),
        permit_types=frozenset(PermitType(t) for t in split_areas(row.permit_types)),
    )


def load_quotas(session: Session, area_codes: Iterable[str]) -> dict[str, AreaQuota]:
    """The quotas of those of ``area_codes`` that have one, by area code."""
    quotas: dict[str, AreaQuota] = {}
    for code in sorted(set(area_codes)):
        row = session.get(AreaQuotaRow, code)
        if row is not None:
            quotas[code] = load_quota(session, row)
    return quotas


def set_quota(
    session: Session,
    area_code: str,
    capacity: int,
    permit_types: Iterable[PermitType],
    actor: Principal | None,
) -> AreaQuota:
    """Create or change an area's quota; a raised capacity grants waiting applications FIFO."""
    lock_rights(session)
    types = sorted({t.value for t in permit_types})
    if not types:
        raise InvalidPermitError("permit_types", [], "a quota needs at least one permit type")
    row = session.get(AreaQuotaRow, area_code) or AreaQuotaRow(area_code=area_code, capacity=0)
    row.capacity = capacity
    row.permit_types = ";".join(types)
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    adopted = _adopt_holders(session, row)
    at = utcnow()
    _fill_free_places(
        session,
        area_code,
        at,
        actor_name(actor),
        why=f"place free in area {area_code} (capacity raised to {capacity})",
    )
    detail = f"capacity {capacity}"
    if adopted:
        detail += f"; {adopted} permits already in the area now count against it"
    record(session, actor, "permit_quota.set", "permit_quota", area_code, detail)
    return load_quota(session, row)


def _adopt_holders(session: Session, row: AreaQuotaRow) -> int:
    """Permits holding no place that now count against ``row``: those stored before the quota
    existed, or of a type it did not cover. Each takes the place its quota area (the first of
    its areas, by code, with a quota for its type) now gives it. Returns how many."""
    types = split_areas(row.permit_types)
    candidates = session.exec(
        select(PermitRow).where(
            col(PermitRow.status).in_([s.value for s in HOLDER_STATUSES]),
            or_(col(PermitRow.quota_area_code).is_(None), col(PermitRow.quota_area_code) == ""),
            col(PermitRow.type).in_(sorted(types)),
            col(PermitRow.area_codes).contains(row.area_code),
        )
    ).all()
    adopted = 0
    for permit_row in candidates:
        area_codes = split_areas(permit_row.area_codes)
        if row.area_code not in area_codes:
            continue  # a longer code that contains this one
        quota_row = _quota_row_for_type(session, PermitType(permit_row.type), area_codes)
        if quota_row is not None and quota_row.area_code == row.area_code:
            permit_row.quota_area_code = row.area_code
            session.add(permit_row)
            adopted += 1
    session.flush()
    return adopted


def _fill_free_places(
    session: Session, area_code: str, at: datetime, actor: str, *, why: str
) -> list[str]:
    """Grant the first waiting applications of ``area_code`` while its quota has free places;
    returns the granted permit ids."""
    row = session.get(AreaQuotaRow, area_code)
    if row is None:
        return []
    quota = load_quota(session, row)
    if not (quota.has_free_place and quota.waiting):
        return []
    outcome = fill_places(quota, _waiting_permits(session, quota), at, actor, why=why)
    return _grant_waiting(session, area_code, outcome, at, actor)


def _granted(
    session: Session, result: TransitionResult, area_code: str | None, at: datetime, actor: str
) -> Permit:
    """Store a granted permit, take it off the waiting list and activate it at once."""
    add_event(session, result.record)
    activated = transition(
        result.permit, PermitAction.ACTIVATE, "granted permit activated", at, actor
    )
    add_event(session, activated.record)
    store_permit(session, activated.permit, quota_area_code=area_code or "")
    app = _application_of(session, result.permit.id)
    if app is not None:
        app.waiting_area_code = None
        app.waiting_order = None
        app.waiting_since = None
        if app.decision is None:
            app.decision = "grant"
            app.decision_reason = result.record.reason[:500]
            app.decided_by = actor[:80]
            app.decided_at = at
        session.add(app)
    return activated.permit


def _waiting_permits(session: Session, quota: AreaQuota) -> dict[str, Permit]:
    return {e.permit_id: load_permit(session, e.permit_id) for e in quota.waiting}


def _grant_waiting(
    session: Session, area_code: str, outcome: ReleaseOutcome, at: datetime, actor: str
) -> list[str]:
    """Store the applications ``fill_places`` granted from the waiting list (each activated,
    with its events and one audit row); returns their permit ids."""
    granted: list[str] = []
    for result in outcome.granted:
        _granted(session, result, area_code, at, actor)
        app = _application_of(session, result.permit.id)
        record(
            session,
            None,
            "permit_application.granted_from_waiting_list",
            "permit_application",
            app.id if app is not None else result.permit.id,
            f"permit {result.permit.id}: {result.record.reason}",
        )
        granted.append(result.permit.id)
    return granted


def _release(session: Session, permit_row: PermitRow, at: datetime, actor: str) -> list[str]:
    """Free the quota place ``permit_row`` held and grant the first waiting applications;
    returns the permit ids granted."""
    area = permit_row.quota_area_code
    if area is None:
        return []
    qrow = session.get(AreaQuotaRow, area)
    if qrow is None:
        return []
    quota = load_quota(session, qrow)
    if permit_row.id not in quota.holders:
        quota = replace(quota, holders=quota.holders | {permit_row.id})
    outcome = release_place(quota, permit_row.id, _waiting_permits(session, quota), at, actor)
    return _grant_waiting(session, area, outcome, at, actor)


# --------------------------------------------------------------------------- permits
@dataclass(frozen=True, slots=True)
class NewPermit:
    type: PermitType
    holder_ref: str
    plates: tuple[str, ...]
    area_codes: frozenset[str]
    valid_from: datetime
    valid_to: datetime | None
    visitor_budget_minutes: int | None = None


def _build(data: NewPermit, permit_id: str, status: PermitStatus, at: datetime) -> Permit:
    plates = [normalise_plate(p) for p in data.plates]
    if len(set(plates)) != len(plates):
        raise InvalidPermitError("plates", plates, "a plate may be listed once")
    return Permit(
        id=permit_id,
        type=data.type,
        holder_ref=data.holder_ref,
        plate_periods=tuple(PlatePeriod(p, data.valid_from, None) for p in plates),
        area_codes=data.area_codes,
        valid_from=data.valid_from,
        valid_to=data.valid_to,
        status=status,
        visitor_budget_minutes=data.visitor_budget_minutes,
        applied_at=at if status is PermitStatus.APPLIED else None,
    )


def create_permit(session: Session, data: NewPermit, actor: Principal | None) -> Permit:
    """A permit the back office grants directly: stored ``active``, within the area quota."""
    lock_rights(session)
    permit = _build(data, new_permit_id(), PermitStatus.ACTIVE, utcnow())
    quota_area = ""
    qrow = _quota_row_for(session, permit)
    if qrow is not None:
        load_quota(session, qrow).require_open(
            "file an application (POST /api/v1/permit-applications) to join the waiting list"
        )
        quota_area = qrow.area_code
    store_permit(session, permit, quota_area_code=quota_area)
    _add_created_event(session, permit, "granted directly by the back office", actor_name(actor))
    record(session, actor, "permit.created", "permit", permit.id, f"{permit.type.value} active")
    return permit


@dataclass(frozen=True, slots=True)
class PermitChanges:
    holder_ref: str | None = None
    area_codes: frozenset[str] | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    clear_valid_to: bool = False
    visitor_budget_minutes: int | None = None


def update_permit(
    session: Session, permit_id: str, changes: PermitChanges, reason: str, actor: Principal | None
) -> Permit:
    """Change a permit's holder, areas, validity or visitor budget (with a reason).

    An area change follows ``permits.quota.plan_area_change``: adding a full area is refused
    (``AreaQuotaFullError``); giving up the area of the permit's quota place frees that place
    for the first waiting application.
    """
    lock_rights(session)
    if not reason.strip():
        raise InvalidPermitError("reason", reason, "every change needs a reason")
    row = get_permit_row(session, permit_id)
    permit = _to_domain(row, plate_rows(session, permit_id))
    valid_to = None if changes.clear_valid_to else (changes.valid_to or permit.valid_to)
    updated = replace(
        permit,
        holder_ref=changes.holder_ref or permit.holder_ref,
        area_codes=changes.area_codes if changes.area_codes is not None else permit.area_codes,
        valid_from=changes.valid_from or permit.valid_from,
        valid_to=valid_to,
        visitor_budget_minutes=changes.visitor_budget_minutes
        if changes.visitor_budget_minutes is not None
        else permit.visitor_budget_minutes,
    )
    name = actor_name(actor)
    quota_area: str | None = None  # unchanged
    if updated.area_codes != permit.area_codes:
        app = _application_of(session, permit.id)
        change = plan_area_change(
            permit,
            updated.area_codes,
            load_quotas(session, permit.area_codes | updated.area_codes),
            held_area=row.quota_area_code,
            waiting_area=app.waiting_area_code if app is not None else None,
        )
        if change.released is not None:
            _release(session, row, utcnow(), name)
        quota_area = change.place or ""
    store_permit(session, updated, quota_area_code=quota_area)
    session.add(
        PermitEventRow(
            permit_id=permit.id,
            action="update",
            from_status=permit.status.value,
            to_status=updated.status.value,
            reason=reason[:500],
            at=utcnow(),
            actor=name[:80],
        )
    )
    record(session, actor, "permit.updated", "permit", permit.id, reason)
    return updated


def apply_action(
    session: Session, permit_id: str, action: PermitAction, reason: str, actor: Principal | None
) -> Permit:
    """Suspend, revoke, reinstate or expire a permit; revoking or expiring frees its quota
    place for the first waiting application."""
    lock_rights(session)
    if action not in LIFECYCLE_ACTIONS:
        raise InvalidPermitError(
            "action", action.value, f"allowed: {', '.join(a.value for a in LIFECYCLE_ACTIONS)}"
        )
    row = get_permit_row(session, permit_id)
    permit = _to_domain(row, plate_rows(session, permit_id))
    at = utcnow()
    name = actor_name(actor)
    result = transition(permit, action, reason, at, name)
    add_event(session, result.record)
    if result.permit.status in (PermitStatus.REVOKED, PermitStatus.EXPIRED):
        _release(session, row, at, name)
    store_permit(session, result.permit)
    record(session, actor, f"permit.{action.value}", "permit", permit_id, reason)
    return result.permit


def change_plate(
    session: Session,
    permit_id: str,
    old_plate: str,
    new_plate: str,
    reason: str,
    actor: Principal | None,
    at: datetime | None = None,
) -> Permit:
    lock_rights(session)
    permit = load_permit(session, permit_id)
    result = domain_change_plate(
        permit, old_plate, new_plate, reason=reason, at=at or utcnow(), actor=actor_name(actor)
    )
    add_event(session, result.record)
    store_permit(session, result.permit)
    record(
        session,
        actor,
        "permit.change_plate",
        "permit",
        permit_id,
        f"{result.record.old_plate} -> {result.record.new_plate}: {reason}",
    )
    return result.permit


def list_permits(
    session: Session,
    *,
    holder_ref: str | None,
    plate: str | None,
    status: PermitStatus | None,
    permit_type: PermitType | None,
    offset: int,
    limit: int,
) -> tuple[list[Permit], int]:
    stmt = select(PermitRow)
    if holder_ref:
        stmt = stmt.where(PermitRow.holder_ref == holder_ref)
    if status is not None:
        stmt = stmt.where(PermitRow.status == status.value)
    if permit_type is not None:
        stmt = stmt.where(PermitRow.type == permit_type.value)
    if plate:
        ids = select(PermitPlateRow.permit_id).where(PermitPlateRow.plate == normalise_plate(plate))
        stmt = stmt.where(col(PermitRow.id).in_(ids))
    count = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    rows = session.exec(
        stmt.order_by(col(PermitRow.created_at), col(PermitRow.id)).offset(offset).limit(limit)
    ).all()
    return [_to_domain(r, plate_rows(session, r.id)) for r in rows], int(count)


# --------------------------------------------------------------------------- applications
def _application_of(session: Session, permit_id: str) -> PermitApplicationRow | None:
    return session.exec(
        select(PermitApplicationRow).where(PermitApplicationRow.permit_id == permit_id)
    ).first()


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
    permit = _build(data, new_permit_id(), PermitStatus.APPLIED, at)
    store_permit(session, permit)
    _add_created_event(session, permit, "application filed", name)
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
        _decided(app, decision, reason, name, at)
    elif decision == "grant":
        _grant_application(session, app, permit, reason, at, name)
    else:
        raise InvalidPermitError("decision", decision, "allowed: grant, refuse")
    session.add(app)
    session.flush()
    record(session, actor, f"permit_application.{decision}", "permit_application", app.id, reason)
    return app


def _decided(
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
    qrow = _quota_row_for(session, permit)
    if qrow is None:
        result = transition(permit, PermitAction.GRANT, reason, at, actor)
        _decided(app, "grant", reason, actor, at)
        _granted(session, result, None, at, actor)
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
        _decided(app, "grant", reason, actor, at)
        _granted(session, result, qrow.area_code, at, actor)
        return
    outcome = review_application(quota, permit, at, actor)
    if outcome.result.permit.status is PermitStatus.GRANTED:
        _decided(app, "grant", reason, actor, at)
        _granted(session, outcome.result, qrow.area_code, at, actor)
        return
    add_event(session, outcome.result.record)
    store_permit(session, outcome.result.permit)
    last = session.exec(select(func.max(PermitApplicationRow.waiting_order))).one()
    app.waiting_area_code = qrow.area_code
    app.waiting_order = int(last or 0) + 1
    app.waiting_since = at


# --------------------------------------------------------------------------- paid sessions
@dataclass(frozen=True, slots=True)
class NewPaidSession:
    provider_session_id: str
    plate: str
    area_code: str
    start: datetime
    end: datetime | None
    amount_cents: int = 0


def paid_domain(row: PaidSessionRow) -> PaidSession:
    """The domain session; its right id is ``paid:u<provider user id>:<row id>`` (never the
    provider's own id, which might contain a plate)."""
    return PaidSession(
        provider=f"u{row.provider_id}",
        provider_session_id=str(row.id),
        plate=row.plate,
        area_code=row.area_code,
        start=row.start,
        end=row.end,
        amount_cents=row.amount_cents,
    )


def report_paid_session(
    session: Session, provider: Principal, data: NewPaidSession
) -> tuple[PaidSessionRow, bool]:
    """Store a provider's session; the same provider session id again updates it in place.

    Returns the row and whether it was created.
    """
    lock_rights(session)
    plate = normalise_plate(data.plate)
    # validate in the domain before storing anything
    PaidSession(
        f"u{provider.id}",
        data.provider_session_id,
        plate,
        data.area_code,
        data.start,
        data.end,
        data.amount_cents,
    )
    row = session.exec(
        select(PaidSessionRow).where(
            PaidSessionRow.provider_id == provider.id,
            PaidSessionRow.provider_session_id == data.provider_session_id,
        )
    ).first()
    created = row is None
    if row is None:
        row = PaidSessionRow(
            provider_id=provider.id,
            provider_session_id=data.provider_session_id,
            plate=plate,
            area_code=data.area_code,
            start=data.start,
        )
    elif (row.plate, row.area_code, row.start, row.end, row.amount_cents) == (
        plate,
        data.area_code,
        data.start,
        data.end,
        data.amount_cents,
    ):
        return row, False
    row.plate, row.area_code, row.start, row.end = plate, data.area_code, data.start, data.end
    row.amount_cents = data.amount_cents
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    SqlRightsRepository(session).put_paid_session(paid_domain(row))
    record(
        session,
        provider,
        "paid_session.created" if created else "paid_session.updated",
        "paid_session",
        row.id,
        data.provider_session_id[:100],
    )
    return row, created


def get_own_paid_session(session: Session, provider: Principal, session_id: int) -> PaidSessionRow:
    row = session.get(PaidSessionRow, session_id)
    if row is None or row.provider_id != provider.id:
        raise NotFound(f"no parking session with id {session_id} of this provider")
    return row


def stop_paid_session(
    session: Session, provider: Principal, session_id: int, at: datetime | None
) -> PaidSessionRow:
    lock_rights(session)
    row = get_own_paid_session(session, provider, session_id)
    stopped = paid_domain(row).stopped(at or utcnow())
    row.end = stopped.end
    row.stopped_at = at or utcnow()
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    SqlRightsRepository(session).put_paid_session(paid_domain(row))
    record(session, provider, "paid_session.stopped", "paid_session", row.id)
    return row


# --------------------------------------------------------------------------- visitor sessions
def _visitor_domain(row: VisitorSessionRow) -> VisitorSession:
    return VisitorSession(
        str(row.id), row.permit_id, row.plate, split_areas(row.area_codes), row.start, row.end
    )


def _account(row: PermitRow) -> VisitorAccount:
    return VisitorAccount(row.id, row.visitor_budget_minutes or 0, row.visitor_used_minutes)


def start_visitor(
    session: Session,
    permit_id: str,
    *,
    plate: str,
    start: datetime,
    end: datetime,
    area_codes: frozenset[str] | None,
    actor: Principal | None,
) -> VisitorSessionRow:
    """Start a visitor session on a visitor permit's minute budget."""
    lock_rights(session)
    prow = get_permit_row(session, permit_id)
    permit = _to_domain(prow, plate_rows(session, permit_id))
    result = start_visitor_session(
        permit,
        _account(prow),
        session_id="pending",
        plate=plate,
        start=start,
        end=end,
        area_codes=area_codes,
    )
    row = VisitorSessionRow(
        permit_id=permit_id,
        plate=result.session.plate,
        area_codes=join_areas(result.session.area_codes),
        start=start,
        end=end,
        charged_minutes=session_minutes(start, end),
        created_by=actor_name(actor)[:80],
    )
    session.add(row)
    prow.visitor_used_minutes = result.account.used_minutes
    session.add(prow)
    session.flush()
    SqlRightsRepository(session).put_visitor_session(_visitor_domain(row))
    record(session, actor, "visitor_session.started", "visitor_session", row.id, permit_id)
    return row


def stop_visitor(
    session: Session, permit_id: str, session_id: int, at: datetime | None, actor: Principal | None
) -> VisitorSessionRow:
    lock_rights(session)
    row = session.get(VisitorSessionRow, session_id)
    if row is None or row.permit_id != permit_id:
        raise NotFound(f"no visitor session {session_id} on permit {permit_id!r}")
    prow = get_permit_row(session, permit_id)
    result = stop_visitor_session(_account(prow), _visitor_domain(row), at or utcnow())
    row.end = result.session.end
    row.charged_minutes = session_minutes(row.start, row.end)
    row.stopped_at = at or utcnow()
    prow.visitor_used_minutes = result.account.used_minutes
    session.add(row)
    session.add(prow)
    session.flush()
    SqlRightsRepository(session).put_visitor_session(_visitor_domain(row))
    record(session, actor, "visitor_session.stopped", "visitor_session", row.id, permit_id)
    return row


def visitor_sessions(session: Session, permit_id: str) -> list[VisitorSessionRow]:
    return list(
        session.exec(
            select(VisitorSessionRow)
            .where(VisitorSessionRow.permit_id == permit_id)
            .order_by(col(VisitorSessionRow.id))
        )
    )


# --------------------------------------------------------------------------- CSV
@dataclass(frozen=True, slots=True)
class ImportReport:
    count: int
    areas_over_quota: tuple[AreaLoad, ...]  # only with allow_over_quota
    applications: int = 0  # rows in review or waitlisted: each now has an application
    waitlisted: int = 0  # of those, on a waiting list
    granted_from_waiting: tuple[str, ...] = ()  # waiting permits granted: places were free


IMPORTED_APPLICATION_STATES = (
    PermitStatus.APPLIED,
    PermitStatus.IN_REVIEW,
    PermitStatus.WAITLISTED,
)


def import_permits(
    session: Session,
    rows: Sequence[CsvPermit],
    actor_name_: str,
    *,
    allow_over_quota: bool = False,
) -> ImportReport:
    """Store permits read from CSV (all or nothing; ids must be new).

    Holders (granted, active, suspended) take a place in their quota area in file order
    (``permits.quota.place_loaded_permits``). A row beyond its area's capacity is a bad row
    (``CsvImportError``, nothing imported) unless ``allow_over_quota``: then it is imported
    and the areas over their quota are reported.

    Rows still in the application process get an application, so that the back office decides
    them like any other (``applied`` rows are taken into review, as a new application is).
    ``waitlisted`` rows join the end of their quota area's waiting list in file order (a row
    whose areas have no quota for its type is a bad row); where the load leaves places free,
    the first waiting applications are granted at once, as after any freed place.
    """
    lock_rights(session)
    permits = [r.permit for r in rows]
    ids = [p.id for p in permits]
    dupes = sorted({i for i in ids if ids.count(i) > 1}) if len(set(ids)) != len(ids) else []
    if dupes:
        raise Conflict(f"permit ids appear more than once in the file: {', '.join(dupes[:10])}")
    existing: list[str] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        existing += session.exec(select(PermitRow.id).where(col(PermitRow.id).in_(chunk))).all()
    if existing:
        raise Conflict(
            f"{len(existing)} permit id(s) already exist, nothing imported: "
            f"{', '.join(sorted(existing)[:10])}"
        )
    areas: set[str] = set()
    for permit in permits:
        areas |= permit.area_codes
    plan = place_loaded_permits(permits, load_quotas(session, areas))
    _refuse_bad_load(plan, rows, allow_over_quota=allow_over_quota)
    at = utcnow()
    last_order = int(session.exec(select(func.max(PermitApplicationRow.waiting_order))).one() or 0)
    applications = 0
    for permit in permits:
        store_permit(session, permit, quota_area_code=plan.places.get(permit.id, ""))
        _add_created_event(session, permit, "imported from CSV", actor_name_)
        if permit.status in IMPORTED_APPLICATION_STATES:
            waiting_in = plan.waiting.get(permit.id)
            if waiting_in is not None:
                last_order += 1
            _import_application(session, permit, waiting_in, last_order, at, actor_name_)
            applications += 1
    session.flush()
    granted: list[str] = []
    for code in sorted(set(plan.waiting.values())):
        granted += _fill_free_places(
            session, code, at, actor_name_, why=f"place free in area {code} at a CSV import"
        )
    over = plan.areas_over_quota
    detail = f"{len(permits)} permits by {actor_name_}"
    if applications:
        detail += f"; {applications} applications ({len(plan.waiting)} waiting)"
    if over:
        detail += "; over quota: " + ", ".join(
            f"{a.area_code} {a.held_after}/{a.capacity}" for a in over
        )
    record(session, None, "permit.imported", "permit", "csv", detail[:500])
    return ImportReport(len(permits), over, applications, len(plan.waiting), tuple(granted))


def _refuse_bad_load(plan: LoadPlan, rows: Sequence[CsvPermit], *, allow_over_quota: bool) -> None:
    """``CsvImportError`` for waitlisted rows with no waiting list to join, and for rows over
    a quota unless ``allow_over_quota``."""
    line_of = {r.permit.id: r.line for r in rows}
    if plan.nothing_to_wait_for:
        by_id = {r.permit.id: r.permit for r in rows}
        raise CsvImportError(
            [
                CsvRowError(
                    line_of[pid],
                    "status",
                    f"waitlisted, but none of its areas "
                    f"({', '.join(sorted(by_id[pid].area_codes)) or 'city-wide'}) has a quota "
                    f"for {by_id[pid].type.value} permits: there is no waiting list to join",
                )
                for pid in plan.nothing_to_wait_for
            ]
        )
    if plan.over_quota and not allow_over_quota:
        raise CsvImportError(
            [
                CsvRowError(
                    line_of[o.permit_id],
                    "area_codes",
                    f"area {o.area_code!r} is over its quota: {o.capacity} places, "
                    f"{o.held_before + o.loaded_before} taken ({o.held_before} in the "
                    f"database, {o.loaded_before} by earlier rows of this file)",
                )
                for o in plan.over_quota
            ]
        )


def _import_application(
    session: Session,
    permit: Permit,
    waiting_in: str | None,
    waiting_order: int,
    at: datetime,
    actor: str,
) -> None:
    """The application of an imported permit still in the application process (an
    ``applied`` one is taken into review); a waitlisted one joins ``waiting_in``'s list."""
    if permit.status is PermitStatus.APPLIED:
        review = transition(
            permit, PermitAction.START_REVIEW, "imported application received", at, actor
        )
        add_event(session, review.record)
        store_permit(session, review.permit)
    app = PermitApplicationRow(
        permit_id=permit.id,
        applicant_json=json.dumps({"holder_ref": permit.holder_ref, "source": "csv import"}),
        documents_json="[]",
        created_by=actor[:80],
        created_at=at,
    )
    if waiting_in is not None:
        app.waiting_area_code = waiting_in
        app.waiting_order = waiting_order
        app.waiting_since = at
    session.add(app)


# --------------------------------------------------------------------------- expiry
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
    result = domain_expire_if_due(
        _to_domain(row, plate_rows(session, permit_id)), now, EXPIRY_ACTOR
    )
    if result is None:
        return None
    add_event(session, result.record)
    granted: list[str] = []
    app = _application_of(session, permit_id)
    if result.permit.status is PermitStatus.EXPIRED:
        granted = _release(session, row, now, EXPIRY_ACTOR)
        record(session, None, "permit.expire", "permit", permit_id, result.record.reason)
    else:
        if app is not None:
            app.waiting_area_code = app.waiting_order = app.waiting_since = None
            _decided(app, "refuse", result.record.reason, EXPIRY_ACTOR, now)
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


def iter_permits(session: Session, batch: int = 1000) -> Iterator[Permit]:
    """Every permit, for an export: by id, but the waitlisted ones last, in their waiting-list
    order, so that importing the file again rebuilds the same waiting lists."""
    last = ""
    waitlisted = PermitStatus.WAITLISTED.value
    while True:
        rows = session.exec(
            select(PermitRow)
            .where(PermitRow.id > last, PermitRow.status != waitlisted)
            .order_by(col(PermitRow.id))
            .limit(batch)
        ).all()
        if not rows:
            break
        yield from _with_plates(session, rows)
        last = rows[-1].id
    order = 0
    while True:
        waiting = session.exec(
            select(PermitRow, PermitApplicationRow.waiting_order)
            .join(PermitApplicationRow, col(PermitApplicationRow.permit_id) == PermitRow.id)
            .where(PermitRow.status == waitlisted, col(PermitApplicationRow.waiting_order) > order)
            .order_by(col(PermitApplicationRow.waiting_order))
            .limit(batch)
        ).all()
        if not waiting:
            break
        yield from _with_plates(session, [row for row, _ in waiting])
        order = int(waiting[-1][1] or 0)
    # waitlisted permits without a waiting position (none are made so; kept, not lost)
    yield from _with_plates(
        session,
        session.exec(
            select(PermitRow)
            .outerjoin(PermitApplicationRow, col(PermitApplicationRow.permit_id) == PermitRow.id)
            .where(
                PermitRow.status == waitlisted, col(PermitApplicationRow.waiting_order).is_(None)
            )
            .order_by(col(PermitRow.id))
        ).all(),
    )


def _with_plates(session: Session, rows: Sequence[PermitRow]) -> Iterator[Permit]:
    ids = [r.id for r in rows]
    plates: dict[str, list[PermitPlateRow]] = {i: [] for i in ids}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for p in session.exec(
            select(PermitPlateRow).where(col(PermitPlateRow.permit_id).in_(chunk))
        ):
            plates[p.permit_id].append(p)
    for r in rows:
        yield _to_domain(r, plates[r.id])
