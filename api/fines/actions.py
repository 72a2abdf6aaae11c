"""Back-office actions on a fine: second approval, issue (with its number), payments,
objections and their decision, annulment, collection. Each commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col

from api.auth.principal import Principal
from api.db import utcnow
from api.errors import Conflict, Unprocessable
from api.fines.db import (
    FineExportPendingRow,
    FinePaymentRow,
    FineRow,
)
from api.fines.numbers import next_fine_number
from api.fines.rules import (
    LOCAL,
    ApprovalRequired,
    CalculationError,
    FineAction,
    FineError,
    FineStatus,
    InvalidObjection,
    apply_payment,
    check_objection,
    fine_number,
    next_status,
    objection_deadline,
)
from api.fines.store import get_fine, transition
from api.settings import BackendSettings


def approve(session: Session, fine_id: int, actor: Principal) -> FineRow:
    fine = get_fine(session, fine_id)
    if not fine.needs_second_approval:
        raise FineError(f"fine {fine_id} does not need a second approval")
    if fine.approved_by is not None:
        raise Conflict(f"fine {fine_id} is already approved", code="already_approved")
    transition(
        session,
        fine,
        FineAction.APPROVE,
        actor,
        values={"approved_by": actor.id, "approved_at": utcnow()},
        extra_where=[col(FineRow.approved_by).is_(None)],
    )
    session.commit()
    return fine


def issue(
    session: Session,
    fine_id: int,
    actor: Principal,
    settings: BackendSettings,
    now: datetime | None = None,
) -> FineRow:
    now = now or utcnow()
    fine = get_fine(session, fine_id)
    next_status(FineStatus(fine.status), FineAction.ISSUE)
    if fine.calc_problem:
        raise CalculationError(
            f"fine {fine_id} cannot be issued: {fine.calc_problem}; fix it and recalculate"
        )
    if fine.needs_second_approval:
        if fine.approved_by is None:
            raise ApprovalRequired(
                f"plate has more than {settings.avalanche_max_fines} fines in "
                f"{settings.avalanche_window_days} days: another back-office user must approve "
                f"fine {fine_id} first (POST /api/v1/fines/{fine_id}/approve)"
            )
        if fine.approved_by == actor.id:
            raise ApprovalRequired(
                "the second approval must come from someone else than the issuer"
            )
    year = now.astimezone(LOCAL).year
    transition(
        session,
        fine,
        FineAction.ISSUE,
        actor,
        values={
            "issued_at": now,
            "issued_by": actor.id,
            "objection_deadline": objection_deadline(now, settings.objection_weeks),
        },
        detail=f"year={year}",
    )
    number = fine_number(year, next_fine_number(session, year))
    fine.number = number
    session.add(fine)
    session.add(  # waits for the next export
        FineExportPendingRow(
            fine_id=fine_id, track=fine.track, issued_at=now, amount_cents=fine.amount_cents
        )
    )
    session.flush()
    session.commit()
    return fine


def register_payment(
    session: Session,
    fine_id: int,
    actor: Principal,
    amount_cents: int,
    now: datetime | None = None,
) -> FineRow:
    now = now or utcnow()
    fine = get_fine(session, fine_id)
    old_paid = fine.paid_cents
    outcome = apply_payment(FineStatus(fine.status), fine.amount_cents, old_paid, amount_cents)
    values: dict[str, Any] = {"paid_cents": outcome.paid_cents}
    if outcome.status == FineStatus.PAID:
        values["closed_at"] = now
    transition(
        session,
        fine,
        outcome.action,
        actor,
        values=values,
        detail=f"amount_cents={amount_cents} paid_cents={outcome.paid_cents}",
        extra_where=[col(FineRow.paid_cents) == old_paid],
    )
    session.add(
        FinePaymentRow(
            fine_id=fine.id or 0, amount_cents=amount_cents, received_at=now, registered_by=actor.id
        )
    )
    session.commit()
    return fine


def register_objection(
    session: Session,
    fine_id: int,
    actor: Principal,
    *,
    received_at: datetime,
    text: str,
    settings: BackendSettings,
) -> FineRow:
    fine = get_fine(session, fine_id)
    next_status(FineStatus(fine.status), FineAction.OBJECT)
    if not text.strip():
        raise InvalidObjection("an objection needs its text (or a summary of it)")
    issued_at = fine.issued_at or fine.created_at  # issued fines always have an issue time
    term = check_objection(issued_at, received_at, settings.objection_weeks)
    transition(
        session,
        fine,
        FineAction.OBJECT,
        actor,
        values={
            "objection_received_at": received_at,
            "objection_text": text[:4000],
            "objection_late": term.is_late,
        },
        detail=("late; " if term.is_late else "") + f"deadline={term.deadline.isoformat()}",
    )
    session.commit()
    return fine


def _reason(reason: str | None, what: str) -> str:
    if not reason or not reason.strip():
        raise Unprocessable(f"{what} needs a reason", code="reason_required")
    return reason.strip()[:1000]


def decide_objection(
    session: Session,
    fine_id: int,
    actor: Principal,
    *,
    upheld: bool,
    reason: str | None,
    now: datetime | None = None,
) -> FineRow:
    now = now or utcnow()
    fine = get_fine(session, fine_id)
    action = FineAction.UPHOLD if upheld else FineAction.REJECT_OBJECTION
    next_status(FineStatus(fine.status), action)
    why = _reason(reason, "a decision on an objection")
    values: dict[str, Any] = {"objection_decided_at": now, "objection_reason": why}
    if upheld:
        values["closed_at"] = now
    transition(session, fine, action, actor, values=values)
    session.commit()
    return fine


def annul(
    session: Session,
    fine_id: int,
    actor: Principal,
    *,
    reason: str | None,
    now: datetime | None = None,
) -> FineRow:
    now = now or utcnow()
    fine = get_fine(session, fine_id)
    next_status(FineStatus(fine.status), FineAction.ANNUL)
    why = _reason(reason, "annulling a fine")
    detail = f"refund_cents={fine.paid_cents}" if fine.paid_cents else ""
    transition(
        session,
        fine,
        FineAction.ANNUL,
        actor,
        values={"annul_reason": why, "closed_at": now},
        detail=detail,
    )
    waiting = col(FineExportPendingRow.fine_id) == fine_id
    session.execute(delete(FineExportPendingRow).where(waiting))  # never exported now
    session.commit()
    return fine


def send_to_collection(
    session: Session, fine_id: int, actor: Principal, now: datetime | None = None
) -> FineRow:
    now = now or utcnow()
    fine = get_fine(session, fine_id)
    transition(
        session,
        fine,
        FineAction.SEND_TO_COLLECTION,
        actor,
        values={"closed_at": now},
        detail=f"outstanding_cents={fine.amount_cents - fine.paid_cents}",
    )
    session.commit()
    return fine
