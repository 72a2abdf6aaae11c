"""The fine lifecycle and amounts as plain rules: no database or web code here.

    draft --issue--> issued --pay (in full)--> paid
      |                |  \\--object--> objection --uphold--> objection_upheld (fine annulled)
      |                |                    \\--reject_objection--> objection_rejected
      |                |                                            |--pay--> paid
      |                \\--send_to_collection--> sent_to_collection <--/
      +--annul (any state before payment)--> annulled

Two tracks: ``tax`` (naheffingsaanslag parkeerbelasting: the parking tax for the charged period
plus the assessment costs) and ``wahv`` (Mulder fine: a fixed amount per offence code).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from zones import FineTrack, ZoneKind

LOCAL = ZoneInfo("Europe/Amsterdam")


class FineStatus(enum.StrEnum):
    DRAFT = "draft"
    ISSUED = "issued"
    PAID = "paid"
    OBJECTION = "objection"  # bezwaar received, not yet decided
    OBJECTION_UPHELD = "objection_upheld"  # bezwaar gegrond: the fine is annulled
    OBJECTION_REJECTED = "objection_rejected"  # bezwaar ongegrond
    SENT_TO_COLLECTION = "sent_to_collection"  # handed to the tax office / CJIB for collection
    ANNULLED = "annulled"


class FineAction(enum.StrEnum):
    APPROVE = "approve"  # the second back-office approval for a plate with many fines
    ISSUE = "issue"
    PAY = "pay"  # a payment that leaves an amount outstanding
    PAY_IN_FULL = "pay_in_full"
    OBJECT = "object"
    UPHOLD = "uphold"
    REJECT_OBJECTION = "reject_objection"
    SEND_TO_COLLECTION = "send_to_collection"
    ANNUL = "annul"
    RECALCULATE = "recalculate"


S, A = FineStatus, FineAction
TRANSITIONS: dict[tuple[FineStatus, FineAction], FineStatus] = {
    (S.DRAFT, A.APPROVE): S.DRAFT,
    (S.DRAFT, A.RECALCULATE): S.DRAFT,
    (S.DRAFT, A.ISSUE): S.ISSUED,
    (S.DRAFT, A.ANNUL): S.ANNULLED,
    (S.ISSUED, A.PAY): S.ISSUED,
    (S.ISSUED, A.PAY_IN_FULL): S.PAID,
    (S.ISSUED, A.OBJECT): S.OBJECTION,
    (S.ISSUED, A.SEND_TO_COLLECTION): S.SENT_TO_COLLECTION,
    (S.ISSUED, A.ANNUL): S.ANNULLED,
    (S.OBJECTION, A.UPHOLD): S.OBJECTION_UPHELD,
    (S.OBJECTION, A.REJECT_OBJECTION): S.OBJECTION_REJECTED,
    (S.OBJECTION, A.ANNUL): S.ANNULLED,
    (S.OBJECTION_REJECTED, A.PAY): S.OBJECTION_REJECTED,
    (S.OBJECTION_REJECTED, A.PAY_IN_FULL): S.PAID,
    (S.OBJECTION_REJECTED, A.SEND_TO_COLLECTION): S.SENT_TO_COLLECTION,
    (S.OBJECTION_REJECTED, A.ANNUL): S.ANNULLED,
}
del S, A

CLOSED_STATUSES = frozenset(
    {
        FineStatus.PAID,
        FineStatus.OBJECTION_UPHELD,
        FineStatus.SENT_TO_COLLECTION,
        FineStatus.ANNULLED,
    }
)
# Fines that count for the avalanche guard (annulled ones do not).
COUNTING_STATUSES = frozenset(FineStatus) - {FineStatus.ANNULLED, FineStatus.OBJECTION_UPHELD}


# --------------------------------------------------------------------------- errors
class FineError(Exception):
    code = "fine_error"


class InvalidFineTransition(FineError):
    code = "invalid_fine_transition"

    def __init__(self, status: FineStatus, action: FineAction):
        self.status, self.action = status, action
        allowed = sorted(a.value for a in allowed_actions(status))
        super().__init__(
            f"cannot {action.value} a fine that is {status.value}; allowed now: "
            f"{', '.join(allowed) or 'nothing (final state)'}"
        )


class Overpayment(FineError):
    code = "overpayment"

    def __init__(self, amount_cents: int, outstanding_cents: int):
        self.amount_cents, self.outstanding_cents = amount_cents, outstanding_cents
        super().__init__(
            f"a payment of {format_euro(amount_cents)} is more than the "
            f"{format_euro(outstanding_cents)} still outstanding; register at most "
            f"{outstanding_cents} cents and refund the rest"
        )


class InvalidPayment(FineError):
    code = "invalid_payment"


class ApprovalRequired(FineError):
    code = "second_approval_required"


class CalculationError(FineError):
    code = "calculation_error"


class InvalidObjection(FineError):
    code = "invalid_objection"


def next_status(status: FineStatus, action: FineAction) -> FineStatus:
    try:
        return TRANSITIONS[(status, action)]
    except KeyError:
        raise InvalidFineTransition(status, action) from None


def allowed_actions(status: FineStatus) -> frozenset[FineAction]:
    return frozenset(a for (s, a) in TRANSITIONS if s == status)


def format_euro(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    euros, rest = divmod(abs(cents), 100)
    return f"{sign}EUR {euros},{rest:02d}"


# --------------------------------------------------------------------------- payments
@dataclass(frozen=True, slots=True)
class PaymentOutcome:
    paid_cents: int
    status: FineStatus
    action: FineAction


def apply_payment(
    status: FineStatus, amount_cents: int, paid_cents: int, payment_cents: int
) -> PaymentOutcome:
    """A payment of ``payment_cents``: partial keeps the state, the last cent makes it paid."""
    if payment_cents <= 0:
        raise InvalidPayment(f"a payment must be at least 1 cent, got {payment_cents}")
    outstanding = amount_cents - paid_cents
    if payment_cents > outstanding:
        raise Overpayment(payment_cents, outstanding)
    new_paid = paid_cents + payment_cents
    action = FineAction.PAY_IN_FULL if new_paid == amount_cents else FineAction.PAY
    return PaymentOutcome(new_paid, next_status(status, action), action)


# --------------------------------------------------------------------------- objections
@dataclass(frozen=True, slots=True)
class ObjectionTerm:
    deadline: datetime
    is_late: bool


def objection_deadline(issued_at: datetime, weeks: int = 6) -> datetime:
    """The objection term (bezwaartermijn): ``weeks`` weeks after the day of issue, to the end
    of that local day."""
    local_day = issued_at.astimezone(LOCAL).date() + timedelta(weeks=weeks)
    return datetime.combine(local_day + timedelta(days=1), datetime.min.time(), LOCAL)


def check_objection(issued_at: datetime, received_at: datetime, weeks: int = 6) -> ObjectionTerm:
    """An objection is accepted at any time but flagged late after the term. The term counts
    in local days, so a receipt time on the day of issue is fine even if it reads earlier."""
    if received_at.tzinfo is None:
        raise InvalidObjection(f"received_at {received_at.isoformat()} needs a time zone")
    if received_at.astimezone(LOCAL).date() < issued_at.astimezone(LOCAL).date():
        raise InvalidObjection(
            f"the objection was received at {received_at.isoformat()}, before the fine was "
            f"issued at {issued_at.isoformat()}"
        )
    deadline = objection_deadline(issued_at, weeks)
    return ObjectionTerm(deadline, received_at >= deadline)


# --------------------------------------------------------------------------- amounts
@dataclass(frozen=True, slots=True)
class ValidAmount:
    """One row of a settings table with validity dates (``valid_to`` exclusive, None = open)."""

    id: int
    key: str  # "" for the cost table, the offence code for WAHV amounts
    amount_cents: int
    valid_from: date
    valid_to: date | None
    description: str = ""

    def is_valid_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)


def pick_valid(entries: Iterable[ValidAmount], day: date, what: str) -> ValidAmount:
    """The one entry valid on ``day``; an error names the day and what is configured."""
    entries = list(entries)
    valid = [e for e in entries if e.is_valid_on(day)]
    if len(valid) == 1:
        return valid[0]
    periods = ", ".join(f"{e.valid_from}..{e.valid_to or 'open'}" for e in entries) or "none"
    if not valid:
        raise CalculationError(f"no {what} is valid on {day}; configured periods: {periods}")
    raise CalculationError(
        f"{len(valid)} {what} entries overlap on {day} (ids {[e.id for e in valid]}); "
        "fix the validity dates"
    )


def check_no_overlap(entries: Sequence[ValidAmount], new: ValidAmount) -> None:
    if new.valid_to is not None and new.valid_to <= new.valid_from:
        raise CalculationError(f"valid_to {new.valid_to} must be after valid_from {new.valid_from}")
    for e in entries:
        if e.key != new.key:
            continue
        starts_before_end = e.valid_to is None or new.valid_from < e.valid_to
        ends_after_start = new.valid_to is None or e.valid_from < new.valid_to
        if starts_before_end and ends_after_start:
            raise CalculationError(
                f"{new.key or 'cost'} period {new.valid_from}..{new.valid_to or 'open'} overlaps "
                f"entry {e.id} ({e.valid_from}..{e.valid_to or 'open'})"
            )


@dataclass(frozen=True, slots=True)
class CalcLine:
    label: str
    cents: int


@dataclass(frozen=True, slots=True)
class Calculation:
    """A fine's amount and how it was reached; stored with the fine as JSON."""

    track: FineTrack
    amount_cents: int
    lines: tuple[CalcLine, ...]
    basis: dict[str, Any] = field(default_factory=dict)
    offence_code: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "track": self.track.value,
            "amount_cents": self.amount_cents,
            "lines": [{"label": line.label, "cents": line.cents} for line in self.lines],
            "basis": self.basis,
            "offence_code": self.offence_code,
        }


def offence_day(at: datetime) -> date:
    """Amount tables change on local (Europe/Amsterdam) dates."""
    return at.astimezone(LOCAL).date()


def tax_assessment(
    *,
    parking_tax_cents: int,
    costs: Sequence[ValidAmount],
    offence_at: datetime,
    period_start: datetime,
    period_end: datetime,
    zone_id: str,
    zone_version: int,
) -> Calculation:
    """Naheffingsaanslag: the parking tax for the charged period plus the assessment costs
    (kosten naheffingsaanslag) valid on the offence day."""
    if parking_tax_cents < 0:
        raise CalculationError(f"parking tax must be >= 0 cents, got {parking_tax_cents}")
    cost = pick_valid(costs, offence_day(offence_at), "assessment cost")
    return Calculation(
        track=FineTrack.TAX,
        amount_cents=parking_tax_cents + cost.amount_cents,
        lines=(
            CalcLine("parking_tax", parking_tax_cents),
            CalcLine("assessment_costs", cost.amount_cents),
        ),
        basis={
            "zone_id": zone_id,
            "zone_version": zone_version,
            "charged_from": period_start.isoformat(),
            "charged_to": period_end.isoformat(),
            "cost_table_id": cost.id,
            "cost_valid_from": cost.valid_from.isoformat(),
            "cost_valid_to": cost.valid_to.isoformat() if cost.valid_to else None,
        },
    )


# Which WAHV offence a zone kind stands for (the codes are keys in the offence amount table).
OFFENCE_BY_ZONE_KIND: dict[ZoneKind, str] = {
    ZoneKind.BLUE: "blue_zone",
    ZoneKind.NO_PARKING: "no_parking",
    ZoneKind.LOADING: "loading_zone",
    ZoneKind.PERMIT: "permit_zone",
    ZoneKind.PAID: "no_parking",
}


def offence_code_for(kind: ZoneKind | None, suspect_reason: str) -> str:
    if kind is not None:
        return OFFENCE_BY_ZONE_KIND[kind]
    return {"loading_zone": "loading_zone", "max_stay_exceeded": "blue_zone"}.get(
        suspect_reason, "no_parking"
    )


def wahv_fine(
    *,
    offence_code: str,
    amounts: Sequence[ValidAmount],
    offence_at: datetime,
    zone_id: str | None,
    zone_version: int,
) -> Calculation:
    """A Mulder fine: the fixed amount for the offence code valid on the offence day."""
    mine = [a for a in amounts if a.key == offence_code]
    if not mine:
        known = sorted({a.key for a in amounts}) or ["none"]
        raise CalculationError(
            f"no WAHV amount for offence code {offence_code!r}; configured: {', '.join(known)}"
        )
    entry = pick_valid(mine, offence_day(offence_at), f"WAHV amount for {offence_code!r}")
    return Calculation(
        track=FineTrack.WAHV,
        amount_cents=entry.amount_cents,
        lines=(CalcLine(f"offence:{offence_code}", entry.amount_cents),),
        basis={
            "zone_id": zone_id,
            "zone_version": zone_version,
            "offence_table_id": entry.id,
            "offence_valid_from": entry.valid_from.isoformat(),
            "offence_valid_to": entry.valid_to.isoformat() if entry.valid_to else None,
            "description": entry.description,
        },
        offence_code=offence_code,
    )


# --------------------------------------------------------------------------- avalanche
@dataclass(frozen=True, slots=True)
class AvalancheCheck:
    recent_fines: int  # fines for the plate in the window, this one included
    needs_second_approval: bool


def check_avalanche(recent_fines_including_this: int, max_fines: int) -> AvalancheCheck:
    """More than ``max_fines`` fines for one plate in the window: a second approval is needed."""
    return AvalancheCheck(recent_fines_including_this, recent_fines_including_this > max_fines)


def fine_number(year: int, sequence: int) -> str:
    """The printed number: year and a gapless per-year sequence, e.g. ``2026-000042``."""
    return f"{year}-{sequence:06d}"
