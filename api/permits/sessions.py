"""Paid parking sessions reported by providers and visitor sessions on a visitor permit's
minute budget, each kept in step with the materialised rights."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from api.audit.service import record
from api.auth.principal import Principal
from api.db import utcnow
from api.errors import NotFound
from api.permits.db import PaidSessionRow, PermitRow, VisitorSessionRow
from api.permits.store import actor_name, get_permit_row, plate_rows, to_domain, visitor_domain
from api.rights.repository import SqlRightsRepository, join_areas, lock_rights
from permits.model import PaidSession
from permits.plates import normalise_plate
from permits.visitor import (
    VisitorAccount,
    session_minutes,
    start_visitor_session,
    stop_visitor_session,
)


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
    permit = to_domain(prow, plate_rows(session, permit_id))
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
    SqlRightsRepository(session).put_visitor_session(visitor_domain(row))
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
    result = stop_visitor_session(_account(prow), visitor_domain(row), at or utcnow())
    row.end = result.session.end
    row.charged_minutes = session_minutes(row.start, row.end)
    row.stopped_at = at or utcnow()
    prow.visitor_used_minutes = result.account.used_minutes
    session.add(row)
    session.add(prow)
    session.flush()
    SqlRightsRepository(session).put_visitor_session(visitor_domain(row))
    record(session, actor, "visitor_session.stopped", "visitor_session", row.id, permit_id)
    return row
