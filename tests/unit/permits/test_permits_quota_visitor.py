"""Per-area quota with FIFO waiting list; visitor minute budget."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from permits.errors import (
    InvalidPermitError,
    InvalidTransitionError,
    QuotaError,
    VisitorBudgetExceededError,
)
from permits.model import Permit, PermitStatus, PermitType, PlatePeriod
from permits.quota import AreaQuota, WaitingEntry, release_place, review_application, withdraw
from permits.visitor import (
    VisitorAccount,
    session_minutes,
    start_visitor_session,
    stop_visitor_session,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
AT = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def _application(permit_id: str, permit_type: PermitType = PermitType.RESIDENT) -> Permit:
    return Permit(
        id=permit_id,
        type=permit_type,
        holder_ref=f"H-{permit_id}",
        plate_periods=(PlatePeriod("GZ123T", T0),),
        area_codes=frozenset({"A1"}),
        valid_from=T0,
        valid_to=None,
        status=PermitStatus.IN_REVIEW,
    )


def test_quota_grants_while_places_are_free_then_waitlists_fifo() -> None:
    quota = AreaQuota("A1", capacity=2)
    permits: dict[str, Permit] = {}
    outcomes = []
    for i in range(5):
        outcome = review_application(quota, _application(f"P{i}"), AT + timedelta(minutes=i), "c")
        quota = outcome.quota
        permits[outcome.result.permit.id] = outcome.result.permit
        outcomes.append((outcome.result.permit.status, outcome.position))
    assert outcomes == [
        (PermitStatus.GRANTED, None),
        (PermitStatus.GRANTED, None),
        (PermitStatus.WAITLISTED, 1),
        (PermitStatus.WAITLISTED, 2),
        (PermitStatus.WAITLISTED, 3),
    ]
    assert quota.holders == {"P0", "P1"}
    assert [quota.position(p) for p in ("P2", "P3", "P4", "P0")] == [1, 2, 3, None]

    released = release_place(quota, "P0", permits, AT + timedelta(days=1), "system")
    assert [r.permit.id for r in released.granted] == ["P2"]
    assert released.granted[0].permit.status is PermitStatus.GRANTED
    assert released.granted[0].record.from_status is PermitStatus.WAITLISTED
    assert "first on waiting list" in released.granted[0].record.reason
    assert released.quota.holders == {"P1", "P2"}
    assert [released.quota.position(p) for p in ("P3", "P4")] == [1, 2]


def test_quota_waitlist_reason_names_area_and_capacity() -> None:
    quota = AreaQuota("A1", capacity=0)
    outcome = review_application(quota, _application("P1"), AT, "c")
    assert outcome.result.record.reason == "area A1 is full (0 places)"


def test_quota_release_with_capacity_increase_grants_several() -> None:
    quota = AreaQuota(
        "A1",
        capacity=3,
        holders=frozenset({"H"}),
        waiting=(WaitingEntry("W1", AT), WaitingEntry("W2", AT), WaitingEntry("W3", AT)),
    )
    waiting = {
        p: replace(_application(p), status=PermitStatus.WAITLISTED) for p in ("W1", "W2", "W3")
    }
    released = release_place(quota, "H", waiting, AT, "system")
    assert [r.permit.id for r in released.granted] == ["W1", "W2", "W3"]
    assert released.quota.waiting == ()


def test_quota_release_refuses_non_holder() -> None:
    with pytest.raises(QuotaError, match="holds no place"):
        release_place(AreaQuota("A1", 1), "P9", {}, AT, "c")


def test_quota_refuses_other_type_and_area() -> None:
    with pytest.raises(QuotaError, match="covers only resident"):
        review_application(AreaQuota("A1", 1), _application("B", PermitType.BUSINESS), AT, "c")
    with pytest.raises(QuotaError, match="not for area 'B2'"):
        review_application(AreaQuota("B2", 1), _application("P"), AT, "c")


def test_quota_withdraw_keeps_order() -> None:
    quota = AreaQuota(
        "A1", 0, waiting=(WaitingEntry("a", AT), WaitingEntry("b", AT), WaitingEntry("c", AT))
    )
    assert [e.permit_id for e in withdraw(quota, "b").waiting] == ["a", "c"]
    with pytest.raises(QuotaError, match="not on the waiting list"):
        withdraw(quota, "zz")


# --- visitor budget -----------------------------------------------------------------------


def _visitor_permit(status: PermitStatus = PermitStatus.ACTIVE) -> Permit:
    return Permit(
        id="V1",
        type=PermitType.VISITOR,
        holder_ref="H1",
        plate_periods=(),
        area_codes=frozenset({"A1"}),
        valid_from=T0,
        valid_to=None,
        status=status,
        visitor_budget_minutes=120,
    )


@pytest.mark.parametrize(
    ("start_offset", "end_offset", "minutes"),
    [(0, 60, 1), (0, 61, 2), (0, 3600, 60), (0, 3601, 61), (30, 90, 1)],
)
def test_session_minutes_counts_started_minutes(
    start_offset: int, end_offset: int, minutes: int
) -> None:
    assert (
        session_minutes(AT + timedelta(seconds=start_offset), AT + timedelta(seconds=end_offset))
        == minutes
    )


def test_visitor_sessions_deduct_and_overdraw_is_refused_with_balance() -> None:
    permit = _visitor_permit()
    account = VisitorAccount.for_permit(permit)
    first = start_visitor_session(
        permit, account, session_id="s1", plate="ab-12-cd", start=AT, end=AT + timedelta(minutes=90)
    )
    assert first.account.remaining_minutes == 30
    assert first.session.plate == "AB12CD"
    assert first.session.area_codes == {"A1"}
    with pytest.raises(VisitorBudgetExceededError, match="remaining balance is 30 minutes") as info:
        start_visitor_session(
            permit,
            first.account,
            session_id="s2",
            plate="XY99Z",
            start=AT,
            end=AT + timedelta(minutes=31),
        )
    assert (info.value.requested_minutes, info.value.remaining_minutes) == (31, 30)
    exact = start_visitor_session(
        permit,
        first.account,
        session_id="s2",
        plate="XY99Z",
        start=AT,
        end=AT + timedelta(minutes=30),
    )
    assert exact.account.remaining_minutes == 0


def test_visitor_stop_early_refunds_unused_minutes() -> None:
    permit = _visitor_permit()
    started = start_visitor_session(
        permit,
        VisitorAccount.for_permit(permit),
        session_id="s1",
        plate="AB12CD",
        start=AT,
        end=AT + timedelta(minutes=60),
    )
    stopped = stop_visitor_session(started.account, started.session, AT + timedelta(minutes=20))
    assert stopped.session.end == AT + timedelta(minutes=20)
    assert stopped.account.used_minutes == 20
    assert stopped.account.remaining_minutes == 100
    late = stop_visitor_session(started.account, started.session, AT + timedelta(hours=2))
    assert late.account == started.account


@pytest.mark.parametrize(
    ("permit", "areas", "match"),
    [
        (_visitor_permit(PermitStatus.SUSPENDED), None, "sessions need an active permit"),
        (_visitor_permit(), frozenset({"B2"}), "allowed: A1"),
    ],
)
def test_visitor_session_refused(permit: Permit, areas: frozenset[str] | None, match: str) -> None:
    with pytest.raises(InvalidPermitError, match=match):
        start_visitor_session(
            permit,
            VisitorAccount("V1", 120),
            session_id="s",
            plate="AB12CD",
            start=AT,
            end=AT + timedelta(minutes=5),
            area_codes=areas,
        )


@pytest.mark.parametrize(
    ("holders", "waiting", "capacity", "match"),
    [
        (frozenset(), (WaitingEntry("a", AT), WaitingEntry("a", AT)), 1, "twice"),
        (frozenset({"a"}), (WaitingEntry("a", AT),), 1, "twice"),
        (frozenset(), (), -1, "capacity must be 0 or more"),
    ],
)
def test_area_quota_refuses_inconsistent_state(
    holders: frozenset[str], waiting: tuple[WaitingEntry, ...], capacity: int, match: str
) -> None:
    with pytest.raises(QuotaError, match=match):
        AreaQuota("A1", capacity, holders, waiting)


def test_quota_review_refuses_application_not_in_review() -> None:
    applied = replace(_application("P1"), status=PermitStatus.APPLIED)
    with pytest.raises(InvalidTransitionError, match="allowed actions: start_review"):
        review_application(AreaQuota("A1", 5), applied, AT, "c")
