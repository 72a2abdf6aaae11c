"""Area quotas and their waiting lists: loading a quota, setting one, granting waiting
applications when places free up (``permits.quota`` decides, this module stores)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from sqlalchemy import or_
from sqlmodel import Session, col, select

from api.audit.service import record
from api.auth.principal import Principal
from api.db import utcnow
from api.permits.db import AreaQuotaRow, PermitApplicationRow, PermitRow
from api.permits.store import (
    HOLDER_STATUSES,
    actor_name,
    add_event,
    application_of,
    load_permit,
    store_permit,
)
from api.rights.repository import lock_rights, split_areas
from permits.errors import InvalidPermitError
from permits.lifecycle import PermitAction, TransitionResult, transition
from permits.model import Permit, PermitType
from permits.quota import AreaQuota, ReleaseOutcome, WaitingEntry, fill_places, release_place


def quota_row_for(session: Session, permit: Permit) -> AreaQuotaRow | None:
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
    fill_free_places(
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


def fill_free_places(
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


def store_granted(
    session: Session, result: TransitionResult, area_code: str | None, at: datetime, actor: str
) -> Permit:
    """Store a granted permit, take it off the waiting list and activate it at once."""
    add_event(session, result.record)
    activated = transition(
        result.permit, PermitAction.ACTIVATE, "granted permit activated", at, actor
    )
    add_event(session, activated.record)
    store_permit(session, activated.permit, quota_area_code=area_code or "")
    app = application_of(session, result.permit.id)
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
        store_granted(session, result, area_code, at, actor)
        app = application_of(session, result.permit.id)
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


def release_held_place(
    session: Session, permit_row: PermitRow, at: datetime, actor: str
) -> list[str]:
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
