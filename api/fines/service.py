"""Applying the fine lifecycle: drafts from confirmed hits, issue with gapless numbers, payments,
objections, annulment, the avalanche guard, exports. History and audit in the same transaction.

State changes are conditional UPDATEs (``WHERE status = ...``), so two back-office users or two
server processes never both win.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlmodel import Session, col, select

from api.audit.service import record
from api.auth.db import UserRow
from api.auth.principal import Principal
from api.db import utcnow
from api.errors import Conflict, NotFound, Unprocessable
from api.fines.db import (
    CostTableRow,
    ExportBatchRow,
    FineEventRow,
    FineNumberSequenceRow,
    FinePaymentRow,
    FineRow,
    OffenceAmountRow,
)
from api.fines.rules import (
    CLOSED_STATUSES,
    COUNTING_STATUSES,
    LOCAL,
    ApprovalRequired,
    Calculation,
    CalculationError,
    FineAction,
    FineError,
    FineStatus,
    InvalidObjection,
    ValidAmount,
    apply_payment,
    check_avalanche,
    check_objection,
    fine_number,
    next_status,
    objection_deadline,
    offence_code_for,
    tax_assessment,
    wahv_fine,
)
from api.hits.db import HitRightsCheckRow, HitRow
from api.review.ports import ZoneRulesSource
from api.settings import BackendSettings
from api.zones.service import ZoneCatalog
from zones import FineTrack, Zone, parking_fee_cents


# --------------------------------------------------------------------------- amount tables
def cost_entries(session: Session) -> list[ValidAmount]:
    rows = session.exec(select(CostTableRow).order_by(col(CostTableRow.valid_from))).all()
    return [
        ValidAmount(r.id or 0, "", r.amount_cents, r.valid_from, r.valid_to, r.description)
        for r in rows
    ]


def offence_entries(session: Session) -> list[ValidAmount]:
    rows = session.exec(select(OffenceAmountRow).order_by(col(OffenceAmountRow.valid_from))).all()
    return [
        ValidAmount(r.id or 0, r.code, r.amount_cents, r.valid_from, r.valid_to, r.description)
        for r in rows
    ]


def calculate(
    session: Session,
    hit: HitRow,
    track: FineTrack,
    zone: Zone | None,
    zone_version: int,
    settings: BackendSettings,
) -> Calculation:
    if track == FineTrack.TAX:
        if zone is None:
            raise CalculationError(
                f"zone {hit.zone_id!r} is not in the current zone set (version {zone_version}); "
                "the parking tax cannot be computed"
            )
        start = hit.captured_at
        end = start + timedelta(minutes=settings.fine_tax_charged_minutes)
        return tax_assessment(
            parking_tax_cents=parking_fee_cents(zone, start, end),
            costs=cost_entries(session),
            offence_at=hit.captured_at,
            period_start=start,
            period_end=end,
            zone_id=zone.id,
            zone_version=zone_version,
        )
    return wahv_fine(
        offence_code=offence_code_for(zone.kind if zone else None, hit.reason),
        amounts=offence_entries(session),
        offence_at=hit.captured_at,
        zone_id=hit.zone_id,
        zone_version=zone_version,
    )


# --------------------------------------------------------------------------- history
def add_event(
    session: Session,
    fine: FineRow,
    actor: Principal | None,
    action: str,
    from_status: str,
    detail: str = "",
) -> None:
    session.add(
        FineEventRow(
            fine_id=fine.id or 0,
            at=utcnow(),
            actor_type=actor.kind if actor else "system",
            actor_id=actor.id if actor else None,
            actor_name=actor.name if actor else "system",
            action=action,
            from_status=from_status,
            to_status=fine.status,
            detail=detail[:1000],
        )
    )
    record(
        session, actor, f"fine.{action}", "fine", fine.id, f"{from_status}->{fine.status} {detail}"
    )


def get_fine(session: Session, fine_id: int) -> FineRow:
    fine = session.get(FineRow, fine_id)
    if fine is None:
        raise NotFound(f"no fine with id {fine_id}")
    return fine


def _transition(
    session: Session,
    fine: FineRow,
    action: FineAction,
    actor: Principal | None,
    *,
    values: dict[str, Any] | None = None,
    detail: str = "",
    extra_where: Sequence[Any] = (),
) -> FineRow:
    """Conditional UPDATE from the fine's current state; 409 when it changed meanwhile."""
    status = FineStatus(fine.status)
    new = next_status(status, action)
    stmt = (
        update(FineRow)
        .where(col(FineRow.id) == fine.id, col(FineRow.status) == status.value, *extra_where)
        .values(status=new.value, updated_at=utcnow(), **(values or {}))
    )
    if session.execute(stmt).rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise Conflict("the fine changed meanwhile; reload it", code="fine_changed")
    session.refresh(fine)
    add_event(session, fine, actor, action.value, status.value, detail)
    return fine


# --------------------------------------------------------------------------- drafts
def _evidence_snapshot(session: Session, hit: HitRow, zone: Zone | None) -> dict[str, Any]:
    """What the evidence pack needs once the rights-check log row is purged (after 7 days)."""
    check = (
        session.get(HitRightsCheckRow, hit.decision_rights_check_id)
        if hit.decision_rights_check_id
        else None
    )
    boa = session.get(UserRow, hit.decided_by) if hit.decided_by else None
    return {
        "zone": {
            "id": hit.zone_id,
            "name": zone.name if zone else None,
            "kind": zone.kind.value if zone else None,
            "area_code": zone.area_code if zone else None,
        },
        "rights_check": (
            {
                "at": check.at.isoformat(),
                "source": check.source,
                "checked_for": check.checked_for.isoformat(),
                "allowed": check.allowed,
                "reason": check.reason,
            }
            if check
            else None
        ),
        "decision": {
            "boa": (boa.full_name or boa.username) if boa else None,
            "badge": getattr(boa, "badge_number", None) if boa else None,
            "at": hit.decided_at.isoformat() if hit.decided_at else None,
            "mode": hit.decision_mode,
            "distance_m": hit.decision_distance_m,
            "note": hit.decision_note,
        },
    }


def recent_fine_count(session: Session, plate: str, since: datetime) -> int:
    stmt = select(func.count()).where(
        FineRow.plate == plate,
        col(FineRow.offence_at) >= since,
        col(FineRow.status).in_([s.value for s in COUNTING_STATUSES]),
    )
    return int(session.exec(stmt).one())


def make_draft(
    session: Session,
    hit: HitRow,
    catalog: ZoneCatalog,
    zone_rules: ZoneRulesSource,
    settings: BackendSettings,
) -> FineRow:
    """The fine draft for a confirmed hit (in the caller's transaction; not committed)."""
    zone_set = catalog.current(session)
    zone = zone_set.index.get(hit.zone_id) if hit.zone_id else None
    if zone is not None:
        track = zone.fine_track
    else:
        rules = zone_rules.rules_for(session, hit.zone_id)
        track = FineTrack(rules.fine_track) if rules else FineTrack.TAX
    problem: str | None = None
    calc: Calculation | None = None
    try:
        calc = calculate(session, hit, track, zone, zone_set.version, settings)
    except (CalculationError, ValueError) as exc:
        problem = str(exc)[:500]
    since = hit.captured_at - timedelta(days=settings.avalanche_window_days)
    guard = check_avalanche(
        recent_fine_count(session, hit.plate, since) + 1, settings.avalanche_max_fines
    )
    fine = FineRow(
        hit_id=hit.id or 0,
        track=track.value,
        status=FineStatus.DRAFT.value,
        plate=hit.plate,
        zone_id=hit.zone_id,
        offence_at=hit.captured_at,
        offence_code=calc.offence_code if calc else None,
        amount_cents=calc.amount_cents if calc else 0,
        calculation_json=json.dumps(calc.to_json() if calc else {}),
        calc_problem=problem,
        evidence_json=json.dumps(_evidence_snapshot(session, hit, zone)),
        needs_second_approval=guard.needs_second_approval,
    )
    session.add(fine)
    session.flush()
    detail = f"track={track.value} amount_cents={fine.amount_cents}"
    if problem:
        detail += " calculation_problem"
    if guard.needs_second_approval:
        detail += f" second_approval_needed recent_fines={guard.recent_fines}"
    add_event(session, fine, None, "draft", "", detail)
    return fine


class SqlFineDrafts:
    """``FineDrafts`` port of the review service: a draft per confirmed hit."""

    def __init__(
        self, catalog: ZoneCatalog, zone_rules: ZoneRulesSource, settings: BackendSettings
    ) -> None:
        self.catalog, self.zone_rules, self.settings = catalog, zone_rules, settings

    def draft_for_confirmed_hit(self, session: Session, hit: Any) -> None:
        make_draft(session, hit, self.catalog, self.zone_rules, self.settings)


def recalculate(
    session: Session,
    fine_id: int,
    actor: Principal,
    catalog: ZoneCatalog,
    settings: BackendSettings,
) -> FineRow:
    """Recompute a draft (e.g. after the zone set or an amount table was fixed)."""
    fine = get_fine(session, fine_id)
    next_status(FineStatus(fine.status), FineAction.RECALCULATE)
    hit = session.get(HitRow, fine.hit_id)
    if hit is None:
        raise NotFound(f"the hit {fine.hit_id} of fine {fine_id} is gone")
    zone_set = catalog.current(session)
    zone = zone_set.index.get(hit.zone_id) if hit.zone_id else None
    try:
        calc = calculate(session, hit, FineTrack(fine.track), zone, zone_set.version, settings)
    except (CalculationError, ValueError) as exc:
        values: dict[str, Any] = {"calc_problem": str(exc)[:500]}
    else:
        values = {
            "calc_problem": None,
            "amount_cents": calc.amount_cents,
            "offence_code": calc.offence_code,
            "calculation_json": json.dumps(calc.to_json()),
        }
    _transition(session, fine, FineAction.RECALCULATE, actor, values=values)
    session.commit()
    return fine


# --------------------------------------------------------------------------- numbers
def next_fine_number(session: Session, year: int) -> int:
    """Take the next number of ``year`` in the caller's transaction (gapless: a rollback gives
    the number back). PostgreSQL: a row lock; SQLite: a conditional UPDATE (one writer)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            pg_insert(FineNumberSequenceRow)
            .values(year=year, last_number=0)
            .on_conflict_do_nothing(index_elements=["year"])
        )
        last = session.execute(
            select(FineNumberSequenceRow.last_number)
            .where(FineNumberSequenceRow.year == year)
            .with_for_update()
        ).scalar_one()
        session.execute(
            update(FineNumberSequenceRow)
            .where(col(FineNumberSequenceRow.year) == year)
            .values(last_number=last + 1)
        )
        return int(last) + 1
    for _ in range(100):
        last = session.execute(
            select(FineNumberSequenceRow.last_number).where(FineNumberSequenceRow.year == year)
        ).scalar_one_or_none()
        if last is None:
            session.add(FineNumberSequenceRow(year=year, last_number=0))
            session.flush()
            continue
        result = session.execute(
            update(FineNumberSequenceRow)
            .where(
                col(FineNumberSequenceRow.year) == year,
                col(FineNumberSequenceRow.last_number) == last,
            )
            .values(last_number=last + 1)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            return int(last) + 1
    raise Conflict("could not take a fine number; retry", code="number_busy")


# --------------------------------------------------------------------------- actions
def approve(session: Session, fine_id: int, actor: Principal) -> FineRow:
    fine = get_fine(session, fine_id)
    if not fine.needs_second_approval:
        raise FineError(f"fine {fine_id} does not need a second approval")
    if fine.approved_by is not None:
        raise Conflict(f"fine {fine_id} is already approved", code="already_approved")
    _transition(
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
    _transition(
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
    _transition(
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
    _transition(
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
    _transition(session, fine, action, actor, values=values)
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
    _transition(
        session,
        fine,
        FineAction.ANNUL,
        actor,
        values={"annul_reason": why, "closed_at": now},
        detail=detail,
    )
    session.commit()
    return fine


def send_to_collection(
    session: Session, fine_id: int, actor: Principal, now: datetime | None = None
) -> FineRow:
    now = now or utcnow()
    fine = get_fine(session, fine_id)
    _transition(
        session,
        fine,
        FineAction.SEND_TO_COLLECTION,
        actor,
        values={"closed_at": now},
        detail=f"outstanding_cents={fine.amount_cents - fine.paid_cents}",
    )
    session.commit()
    return fine


# --------------------------------------------------------------------------- reading
@dataclass(frozen=True, slots=True)
class FineFilter:
    status: str | None = None
    track: str | None = None
    hit_id: int | None = None
    plate: str | None = None
    needs_approval: bool | None = None


def list_fines(
    session: Session, flt: FineFilter, *, limit: int = 100, offset: int = 0
) -> tuple[list[FineRow], int]:
    conds: list[Any] = []
    if flt.status:
        conds.append(FineRow.status == flt.status)
    if flt.track:
        conds.append(FineRow.track == flt.track)
    if flt.hit_id is not None:
        conds.append(FineRow.hit_id == flt.hit_id)
    if flt.plate:
        from permits.plates import normalise_plate

        conds.append(FineRow.plate == normalise_plate(flt.plate))
    if flt.needs_approval:
        conds += [
            col(FineRow.needs_second_approval).is_(True),
            col(FineRow.approved_by).is_(None),
            FineRow.status == FineStatus.DRAFT.value,
        ]
    total = int(session.exec(select(func.count()).select_from(FineRow).where(*conds)).one())
    rows = session.exec(
        select(FineRow).where(*conds).order_by(col(FineRow.id).desc()).offset(offset).limit(limit)
    ).all()
    return list(rows), total


def payments(session: Session, fine_id: int) -> list[FinePaymentRow]:
    stmt = select(FinePaymentRow).where(FinePaymentRow.fine_id == fine_id)
    return list(session.exec(stmt.order_by(col(FinePaymentRow.id))).all())


def history(session: Session, fine_id: int) -> list[FineEventRow]:
    stmt = select(FineEventRow).where(FineEventRow.fine_id == fine_id)
    return list(session.exec(stmt.order_by(col(FineEventRow.id))).all())


@dataclass(frozen=True, slots=True)
class Alert:
    """A plate with more than N fines in M days (the avalanche guard)."""

    plate: str
    fine_count: int
    first_at: datetime
    last_at: datetime
    awaiting_approval: tuple[int, ...]


def alerts(session: Session, settings: BackendSettings, now: datetime | None = None) -> list[Alert]:
    now = now or utcnow()
    since = now - timedelta(days=settings.avalanche_window_days)
    counting = [s.value for s in COUNTING_STATUSES]
    stmt = (
        select(
            FineRow.plate,
            func.count(),
            func.min(FineRow.offence_at),
            func.max(FineRow.offence_at),
        )
        .where(
            col(FineRow.offence_at) >= since,
            col(FineRow.status).in_(counting),
            col(FineRow.plate).is_not(None),
        )
        .group_by(FineRow.plate)
        .having(func.count() > settings.avalanche_max_fines)
        .order_by(func.count().desc())
    )
    out = []
    for plate, n, first, last in session.exec(stmt).all():
        waiting = session.exec(
            select(FineRow.id).where(
                FineRow.plate == plate,
                col(FineRow.needs_second_approval).is_(True),
                col(FineRow.approved_by).is_(None),
                FineRow.status == FineStatus.DRAFT.value,
            )
        ).all()
        out.append(
            Alert(
                plate or "",
                int(n),
                _aware(first),
                _aware(last),
                tuple(i for i in waiting if i is not None),
            )
        )
    return out


def _aware(t: datetime) -> datetime:
    from datetime import UTC

    return t if t.tzinfo else t.replace(tzinfo=UTC)


def is_closed(fine: FineRow) -> bool:
    return FineStatus(fine.status) in CLOSED_STATUSES


# --------------------------------------------------------------------------- exports
EXPORT_EXCLUDED = (FineStatus.DRAFT.value, FineStatus.ANNULLED.value)


@dataclass(frozen=True, slots=True)
class ExportResult:
    batch: ExportBatchRow | None
    fines: list[FineRow]
    created: bool


def _batch_fines(session: Session, batch_id: str) -> list[FineRow]:
    stmt = select(FineRow).where(FineRow.export_batch_id == batch_id).order_by(col(FineRow.id))
    return list(session.exec(stmt).all())


def export_batch(
    session: Session,
    actor: Principal,
    *,
    track: FineTrack,
    period_from: datetime | None,
    period_to: datetime | None,
    now: datetime | None = None,
) -> ExportResult:
    """Export the issued fines of ``track`` (issued in [from, to)) that no batch holds yet.

    Idempotent: when every fine of the period is already in one batch, that batch is returned
    again; new fines go into a new batch; a period spanning several old batches is refused
    (fetch those by ``batch_id``).
    """
    now = now or utcnow()
    conds: list[Any] = [
        FineRow.track == track.value,
        col(FineRow.number).is_not(None),
        col(FineRow.status).not_in(EXPORT_EXCLUDED),
    ]
    if period_from is not None:
        conds.append(col(FineRow.issued_at) >= period_from)
    if period_to is not None:
        conds.append(col(FineRow.issued_at) < period_to)
    new_ids = [
        i
        for i in session.exec(
            select(FineRow.id).where(*conds, col(FineRow.export_batch_id).is_(None))
        ).all()
        if i is not None
    ]
    if not new_ids:
        old = sorted(
            {
                b
                for b in session.exec(
                    select(FineRow.export_batch_id).where(
                        *conds, col(FineRow.export_batch_id).is_not(None)
                    )
                ).all()
                if b
            }
        )
        if not old:
            return ExportResult(None, [], False)
        if len(old) > 1:
            raise Conflict(
                f"the fines of this period were exported in {len(old)} batches "
                f"({', '.join(old)}); fetch each with ?batch_id=",
                code="several_batches",
            )
        batch = session.get(ExportBatchRow, old[0])
        return ExportResult(batch, _batch_fines(session, old[0]), False)
    batch_id = str(uuid.uuid4())
    batch = ExportBatchRow(
        id=batch_id,
        track=track.value,
        created_at=now,
        created_by=actor.name,
        period_from=period_from,
        period_to=period_to,
    )
    session.add(batch)
    session.flush()
    session.execute(
        update(FineRow)
        .where(col(FineRow.id).in_(new_ids), col(FineRow.export_batch_id).is_(None))
        .values(export_batch_id=batch_id, exported_at=now)
    )
    fines = _batch_fines(session, batch_id)
    if not fines:  # another process took them all meanwhile
        session.rollback()
        return export_batch(
            session, actor, track=track, period_from=period_from, period_to=period_to, now=now
        )
    batch.fine_count = len(fines)
    batch.total_cents = sum(f.amount_cents for f in fines)
    session.add(batch)
    for f in fines:
        session.add(
            FineEventRow(
                fine_id=f.id or 0,
                at=now,
                actor_type=actor.kind,
                actor_id=actor.id,
                actor_name=actor.name,
                action="export",
                from_status=f.status,
                to_status=f.status,
                detail=f"batch={batch_id}",
            )
        )
    record(
        session,
        actor,
        "fine.exported",
        "fine_export_batch",
        batch_id,
        f"track={track.value} fines={len(fines)} total_cents={batch.total_cents}",
    )
    session.commit()
    return ExportResult(batch, fines, True)


def get_batch(session: Session, batch_id: str) -> ExportResult:
    batch = session.get(ExportBatchRow, batch_id)
    if batch is None:
        raise NotFound(f"no export batch {batch_id}")
    return ExportResult(batch, _batch_fines(session, batch_id), False)
