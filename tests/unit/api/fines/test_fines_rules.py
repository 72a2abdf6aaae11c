"""Fine rules without a database: transitions, payments, objection term, amounts, avalanche."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from api.fines.rules import (
    TRANSITIONS,
    ApprovalRequired,
    CalculationError,
    FineAction,
    FineStatus,
    InvalidFineTransition,
    InvalidObjection,
    InvalidPayment,
    Overpayment,
    ValidAmount,
    apply_payment,
    check_avalanche,
    check_no_overlap,
    check_objection,
    fine_number,
    next_status,
    objection_deadline,
    offence_code_for,
    tax_assessment,
    wahv_fine,
)
from tests.conftest import REPO
from zones import FineTrack, ZoneKind, parking_fee_cents
from zones.geojson import load_feature_collection

LOCAL = ZoneInfo("Europe/Amsterdam")
COSTS = (
    ValidAmount(1, "", 7810, date(2025, 1, 1), date(2026, 1, 1)),
    ValidAmount(2, "", 8030, date(2026, 1, 1), None),
)
OFFENCES = (
    ValidAmount(10, "blue_zone", 11000, date(2025, 1, 1), date(2026, 1, 1)),
    ValidAmount(11, "blue_zone", 11500, date(2026, 1, 1), None),
    ValidAmount(12, "no_parking", 12000, date(2026, 1, 1), None),
)


@pytest.fixture(scope="module")
def centrum():
    doc = json.loads((REPO / "fixtures" / "zones" / "town.geojson").read_text())
    return {z.id: z for z in load_feature_collection(doc).zones}["centrum"]


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=LOCAL)  # type: ignore[misc]


# --------------------------------------------------------------------------- transitions
@pytest.mark.parametrize(
    ("status", "action", "expected"),
    [
        ("draft", "issue", "issued"),
        ("draft", "annul", "annulled"),
        ("issued", "pay", "issued"),
        ("issued", "pay_in_full", "paid"),
        ("issued", "object", "objection"),
        ("issued", "send_to_collection", "sent_to_collection"),
        ("objection", "uphold", "objection_upheld"),
        ("objection", "reject_objection", "objection_rejected"),
        ("objection_rejected", "pay_in_full", "paid"),
        ("objection_rejected", "send_to_collection", "sent_to_collection"),
        ("objection_rejected", "annul", "annulled"),
    ],
)
def test_fine_transitions_allowed(status, action, expected):
    assert next_status(FineStatus(status), FineAction(action)) == FineStatus(expected)


@pytest.mark.parametrize(
    ("status", "action"),
    [
        ("draft", "pay"),
        ("draft", "object"),
        ("paid", "annul"),
        ("paid", "object"),
        ("annulled", "issue"),
        ("objection_upheld", "pay"),
        ("sent_to_collection", "annul"),
        ("issued", "issue"),
        ("objection", "pay"),
    ],
)
def test_fine_transitions_refused_name_state_action_and_allowed(status, action):
    with pytest.raises(InvalidFineTransition) as exc:
        next_status(FineStatus(status), FineAction(action))
    msg = str(exc.value)
    assert f"cannot {action} a fine that is {status}" in msg
    allowed = sorted(a.value for (s, a) in TRANSITIONS if s.value == status)
    assert (", ".join(allowed) or "nothing (final state)") in msg


def test_fine_annul_is_possible_in_every_state_before_payment():
    before_payment = {s for (s, a) in TRANSITIONS if a == FineAction.ANNUL}
    assert before_payment == {
        FineStatus.DRAFT,
        FineStatus.ISSUED,
        FineStatus.OBJECTION,
        FineStatus.OBJECTION_REJECTED,
    }


# --------------------------------------------------------------------------- payments
@pytest.mark.parametrize(
    ("paid", "payment", "new_paid", "status"),
    [
        (0, 1000, 1000, "issued"),
        (1000, 7480, 8480, "paid"),
        (0, 8480, 8480, "paid"),
        (8479, 1, 8480, "paid"),
    ],
)
def test_fine_payment_partial_and_full(paid, payment, new_paid, status):
    out = apply_payment(FineStatus.ISSUED, 8480, paid, payment)
    assert (out.paid_cents, out.status.value) == (new_paid, status)


def test_fine_overpayment_is_refused_with_the_outstanding_amount():
    with pytest.raises(Overpayment) as exc:
        apply_payment(FineStatus.ISSUED, 8480, 8000, 500)
    assert "EUR 5,00 is more than the EUR 4,80 still outstanding" in str(exc.value)
    assert exc.value.outstanding_cents == 480


@pytest.mark.parametrize("amount", [0, -100])
def test_fine_payment_must_be_positive(amount):
    with pytest.raises(InvalidPayment, match=f"got {amount}"):
        apply_payment(FineStatus.ISSUED, 8480, 0, amount)


# --------------------------------------------------------------------------- objections
def test_fine_objection_deadline_is_six_weeks_to_the_end_of_the_local_day():
    issued = local(2026, 3, 2, 23, 30)  # Monday evening, before the DST change on 29 March
    assert objection_deadline(issued) == local(2026, 4, 14, 0, 0)


@pytest.mark.parametrize(
    ("received", "late"),
    [
        (local(2026, 3, 2, 23, 45), False),
        (local(2026, 4, 13, 23, 59), False),
        (local(2026, 4, 14, 0, 0), True),
        (local(2026, 6, 1, 9, 0), True),
    ],
)
def test_fine_objection_late_flag(received, late):
    assert check_objection(local(2026, 3, 2, 23, 30), received).is_late is late


def test_fine_objection_before_issue_is_refused():
    with pytest.raises(InvalidObjection, match="before the fine was issued"):
        check_objection(local(2026, 3, 2, 12), local(2026, 3, 1, 12))


# --------------------------------------------------------------------------- amounts
@pytest.mark.parametrize(
    ("start", "tax"),
    [
        (local(2026, 11, 26, 11, 15), 450),  # Thursday, 450/h all hour
        (local(2026, 11, 26, 17, 30), 225 + 150),  # 30 min at 450 + 30 min at 300 after 18:00
        (local(2026, 11, 28, 1, 30), 150),  # Saturday night: 01:30-02:00 at 300, then free
        (local(2026, 11, 29, 12, 30), 225),  # Sunday: free until 13:00, then 450/h
        (local(2026, 11, 26, 8, 0), 0),  # before 09:00: free
        (local(2026, 12, 25, 11, 0), 0),  # Christmas: holidays free in the centre
    ],
)
def test_fine_tax_assessment_tariff_boundaries(centrum, start, tax):
    end = start + timedelta(hours=1)
    calc = tax_assessment(
        parking_tax_cents=parking_fee_cents(centrum, start, end),
        costs=COSTS,
        offence_at=start,
        period_start=start,
        period_end=end,
        zone_id="centrum",
        zone_version=3,
    )
    assert calc.track == FineTrack.TAX
    assert calc.amount_cents == tax + 8030
    assert [(line.label, line.cents) for line in calc.lines] == [
        ("parking_tax", tax),
        ("assessment_costs", 8030),
    ]
    assert calc.basis["cost_table_id"] == 2
    assert calc.basis["zone_version"] == 3


@pytest.mark.parametrize(
    ("offence_at", "costs", "table_id"),
    [
        (local(2025, 12, 31, 23, 59), 7810, 1),
        # 00:10 local on 1 January is still 31 December in UTC: local dates decide
        (local(2026, 1, 1, 0, 10), 8030, 2),
        (datetime(2025, 12, 31, 23, 10, tzinfo=UTC), 8030, 2),
        (local(2030, 6, 1, 12, 0), 8030, 2),
    ],
)
def test_fine_cost_table_changes_on_a_local_date(offence_at, costs, table_id):
    calc = tax_assessment(
        parking_tax_cents=0,
        costs=COSTS,
        offence_at=offence_at,
        period_start=offence_at,
        period_end=offence_at + timedelta(hours=1),
        zone_id="z",
        zone_version=1,
    )
    assert calc.amount_cents == costs
    assert calc.basis["cost_table_id"] == table_id


def test_fine_cost_table_gap_names_the_day_and_the_periods():
    with pytest.raises(CalculationError) as exc:
        tax_assessment(
            parking_tax_cents=0,
            costs=COSTS,
            offence_at=local(2024, 6, 1, 12),
            period_start=local(2024, 6, 1, 12),
            period_end=local(2024, 6, 1, 13),
            zone_id="z",
            zone_version=1,
        )
    assert "no assessment cost is valid on 2024-06-01" in str(exc.value)
    assert "2025-01-01..2026-01-01, 2026-01-01..open" in str(exc.value)


@pytest.mark.parametrize(
    ("code", "at", "amount", "entry"),
    [
        ("blue_zone", local(2025, 12, 31, 23, 0), 11000, 10),
        ("blue_zone", local(2026, 1, 1, 0, 30), 11500, 11),
        ("no_parking", local(2026, 7, 1, 12, 0), 12000, 12),
    ],
)
def test_fine_wahv_amount_by_offence_code_and_date(code, at, amount, entry):
    calc = wahv_fine(
        offence_code=code, amounts=OFFENCES, offence_at=at, zone_id="z", zone_version=1
    )
    assert (calc.track, calc.amount_cents, calc.offence_code) == (FineTrack.WAHV, amount, code)
    assert calc.basis["offence_table_id"] == entry


def test_fine_wahv_unknown_code_names_the_configured_ones():
    with pytest.raises(CalculationError, match="'loading_zone'; configured: blue_zone, no_parking"):
        wahv_fine(
            offence_code="loading_zone",
            amounts=OFFENCES,
            offence_at=local(2026, 7, 1, 12),
            zone_id=None,
            zone_version=0,
        )


@pytest.mark.parametrize(
    ("kind", "reason", "code"),
    [
        (ZoneKind.BLUE, "max_stay_exceeded", "blue_zone"),
        (ZoneKind.NO_PARKING, "no_parking", "no_parking"),
        (ZoneKind.LOADING, "loading_zone", "loading_zone"),
        (None, "loading_zone", "loading_zone"),
        (None, "no_right", "no_parking"),
    ],
)
def test_fine_offence_code_for_zone_kind(kind, reason, code):
    assert offence_code_for(kind, reason) == code


@pytest.mark.parametrize(
    ("new", "ok"),
    [
        (ValidAmount(0, "", 9000, date(2027, 1, 1), None), False),  # overlaps the open 2026 entry
        (ValidAmount(0, "", 7000, date(2024, 1, 1), date(2025, 1, 1)), True),
        (ValidAmount(0, "", 7000, date(2024, 1, 1), date(2025, 1, 2)), False),
        (ValidAmount(0, "", 7000, date(2024, 1, 1), date(2024, 1, 1)), False),
    ],
)
def test_fine_amount_table_overlap_check(new, ok):
    if ok:
        check_no_overlap(COSTS, new)
    else:
        with pytest.raises(CalculationError):
            check_no_overlap(COSTS, new)


# --------------------------------------------------------------------------- avalanche
@pytest.mark.parametrize(("count", "needed"), [(1, False), (3, False), (4, True), (10, True)])
def test_fine_avalanche_guard_more_than_n(count, needed):
    assert check_avalanche(count, 3).needs_second_approval is needed


def test_fine_number_format():
    assert fine_number(2026, 42) == "2026-000042"
    assert issubclass(ApprovalRequired, Exception)
