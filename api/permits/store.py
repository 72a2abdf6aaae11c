"""Loading and storing permits: domain permits to rows and back, their plate periods, events,
the materialised rights (visitor sessions included) and the application row of a permit."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlmodel import Session, col, select

from api.auth.principal import Principal
from api.db import utcnow
from api.errors import NotFound
from api.permits.db import (
    PermitApplicationRow,
    PermitEventRow,
    PermitPlateRow,
    PermitRow,
    VisitorSessionRow,
)
from api.rights.repository import SqlRightsRepository, join_areas, split_areas
from permits.lifecycle import TransitionRecord
from permits.model import Permit, PermitStatus, PermitType, PlatePeriod, VisitorSession
from permits.quota import HOLDER_STATUSES as DOMAIN_HOLDER_STATUSES

HOLDER_STATUSES = tuple(s for s in PermitStatus if s in DOMAIN_HOLDER_STATUSES)


def actor_name(actor: Principal | None) -> str:
    return actor.label if actor else "system"


def new_permit_id() -> str:
    return f"P-{uuid.uuid4().hex[:12].upper()}"


def to_domain(row: PermitRow, plates: Sequence[PermitPlateRow]) -> Permit:
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
    return to_domain(get_permit_row(session, permit_id), plate_rows(session, permit_id))


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
                rights.put_visitor_session(visitor_domain(visit))
            else:
                rights.remove_right(visitor_domain(visit).right_id)


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


def add_created_event(session: Session, permit: Permit, reason: str, actor: str) -> None:
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


def application_of(session: Session, permit_id: str) -> PermitApplicationRow | None:
    return session.exec(
        select(PermitApplicationRow).where(PermitApplicationRow.permit_id == permit_id)
    ).first()


def visitor_domain(row: VisitorSessionRow) -> VisitorSession:
    return VisitorSession(
        str(row.id), row.permit_id, row.plate, split_areas(row.area_codes), row.start, row.end
    )


def visitor_sessions(session: Session, permit_id: str) -> list[VisitorSessionRow]:
    return list(
        session.exec(
            select(VisitorSessionRow)
            .where(VisitorSessionRow.permit_id == permit_id)
            .order_by(col(VisitorSessionRow.id))
        )
    )
