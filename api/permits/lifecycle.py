"""Permits the back office creates and changes: direct grants, updates (with the area quota),
lifecycle actions (suspend, revoke, reinstate, expire), plate changes and the list."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from api.audit.service import record
from api.auth.principal import Principal
from api.db import utcnow
from api.permits.db import PermitEventRow, PermitPlateRow, PermitRow
from api.permits.quota import load_quota, load_quotas, quota_row_for, release_held_place
from api.permits.store import (
    actor_name,
    add_created_event,
    add_event,
    application_of,
    get_permit_row,
    load_permit,
    new_permit_id,
    plate_rows,
    store_permit,
    to_domain,
)
from api.rights.repository import lock_rights
from permits.errors import InvalidPermitError
from permits.lifecycle import PermitAction, transition
from permits.lifecycle import change_plate as domain_change_plate
from permits.model import Permit, PermitStatus, PermitType, PlatePeriod
from permits.plates import normalise_plate
from permits.quota import plan_area_change

LIFECYCLE_ACTIONS = (
    PermitAction.SUSPEND,
    PermitAction.REVOKE,
    PermitAction.REINSTATE,
    PermitAction.EXPIRE,
)


@dataclass(frozen=True, slots=True)
class NewPermit:
    type: PermitType
    holder_ref: str
    plates: tuple[str, ...]
    area_codes: frozenset[str]
    valid_from: datetime
    valid_to: datetime | None
    visitor_budget_minutes: int | None = None


def build_permit(data: NewPermit, permit_id: str, status: PermitStatus, at: datetime) -> Permit:
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
    permit = build_permit(data, new_permit_id(), PermitStatus.ACTIVE, utcnow())
    quota_area = ""
    qrow = quota_row_for(session, permit)
    if qrow is not None:
        load_quota(session, qrow).require_open(
            "file an application (POST /api/v1/permit-applications) to join the waiting list"
        )
        quota_area = qrow.area_code
    store_permit(session, permit, quota_area_code=quota_area)
    add_created_event(session, permit, "granted directly by the back office", actor_name(actor))
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
    permit = to_domain(row, plate_rows(session, permit_id))
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
        app = application_of(session, permit.id)
        change = plan_area_change(
            permit,
            updated.area_codes,
            load_quotas(session, permit.area_codes | updated.area_codes),
            held_area=row.quota_area_code,
            waiting_area=app.waiting_area_code if app is not None else None,
        )
        if change.released is not None:
            release_held_place(session, row, utcnow(), name)
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
    permit = to_domain(row, plate_rows(session, permit_id))
    at = utcnow()
    name = actor_name(actor)
    result = transition(permit, action, reason, at, name)
    add_event(session, result.record)
    if result.permit.status in (PermitStatus.REVOKED, PermitStatus.EXPIRED):
        release_held_place(session, row, at, name)
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
    return [to_domain(r, plate_rows(session, r.id)) for r in rows], int(count)
