"""The rules behind the permit back-office gaps: expiry of permits past their validity, quota
checks on an area change, quota placement of a first load (CSV import)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from permits.csvio import COLUMNS, read_permit_rows
from permits.errors import AreaQuotaFullError, NaiveDatetimeError, QuotaError
from permits.lifecycle import PermitAction, expire_if_due
from permits.model import Permit, PermitStatus, PermitType, PlatePeriod
from permits.quota import (
    AreaChange,
    AreaQuota,
    WaitingEntry,
    fill_places,
    place_loaded_permits,
    plan_area_change,
    quota_area_for,
    release_place,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
AT = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def _permit(
    pid: str = "P1",
    status: PermitStatus = PermitStatus.ACTIVE,
    areas: frozenset[str] = frozenset({"A1"}),
    valid_to: datetime | None = None,
    permit_type: PermitType = PermitType.RESIDENT,
) -> Permit:
    return Permit(
        id=pid,
        type=permit_type,
        holder_ref=f"H-{pid}",
        plate_periods=(PlatePeriod("GZ123T", T0),),
        area_codes=areas,
        valid_from=T0,
        valid_to=valid_to,
        status=status,
    )


# --- expiry ---------------------------------------------------------------------------------
_S = PermitStatus
_SEC = timedelta(seconds=1)


@pytest.mark.parametrize(
    ("status", "valid_to", "action", "to_status"),
    [
        (_S.ACTIVE, AT - _SEC, PermitAction.EXPIRE, _S.EXPIRED),
        (_S.SUSPENDED, AT - timedelta(days=3), PermitAction.EXPIRE, _S.EXPIRED),
        (_S.GRANTED, AT - _SEC, PermitAction.EXPIRE, _S.EXPIRED),
        (_S.WAITLISTED, AT - _SEC, PermitAction.REFUSE, _S.REFUSED),
        (_S.ACTIVE, AT, None, None),  # still valid at exactly valid_to
        (_S.ACTIVE, AT + _SEC, None, None),
        (_S.ACTIVE, None, None, None),  # open-ended
        (_S.WAITLISTED, AT, None, None),
        (_S.IN_REVIEW, AT - _SEC, None, None),  # the back office decides it
        (_S.APPLIED, AT - _SEC, None, None),
        (_S.EXPIRED, AT - _SEC, None, None),  # already done: idempotent
        (_S.REVOKED, AT - _SEC, None, None),
        (_S.REFUSED, AT - _SEC, None, None),
    ],
)
def test_expire_if_due_table(
    status: PermitStatus,
    valid_to: datetime | None,
    action: PermitAction | None,
    to_status: PermitStatus | None,
) -> None:
    result = expire_if_due(_permit(status=status, valid_to=valid_to), AT, "job")
    if action is None:
        assert result is None
        return
    assert result is not None
    assert (result.record.action, result.record.from_status) == (action, status)
    assert result.permit.status is to_status
    assert (result.record.at, result.record.actor) == (AT, "job")


def test_expire_if_due_reason_names_the_end_in_utc() -> None:
    amsterdam = datetime(2026, 3, 1, 0, 0, tzinfo=UTC).astimezone(ZoneInfo("Europe/Amsterdam"))
    expired = expire_if_due(_permit(valid_to=amsterdam), AT, "job")
    assert expired is not None
    assert expired.record.reason == "validity ended at 2026-03-01T00:00:00+00:00"
    refused = expire_if_due(_permit(status=_S.WAITLISTED, valid_to=amsterdam), AT, "job")
    assert refused is not None
    assert refused.record.reason == (
        "validity ended at 2026-03-01T00:00:00+00:00 before a place became free"
    )


def test_expire_if_due_refuses_naive_time() -> None:
    with pytest.raises(NaiveDatetimeError):
        expire_if_due(_permit(valid_to=AT), AT.replace(tzinfo=None), "job")


# --- waiting list passes over lapsed applications ------------------------------------------
def test_release_place_passes_over_an_application_whose_validity_ended() -> None:
    quota = AreaQuota(
        "A1",
        capacity=1,
        holders=frozenset({"H"}),
        waiting=(WaitingEntry("OLD", T0), WaitingEntry("NEW", T0)),
    )
    waiting = {
        "OLD": _permit("OLD", _S.WAITLISTED, valid_to=AT - _SEC),
        "NEW": _permit("NEW", _S.WAITLISTED, valid_to=AT + timedelta(days=30)),
    }
    released = release_place(quota, "H", waiting, AT, "job")
    assert [r.permit.id for r in released.granted] == ["NEW"]
    assert released.granted[0].record.reason == (
        "place freed in area A1 (by H); first on waiting list"
    )
    assert released.quota.holders == {"NEW"}
    assert released.quota.position("OLD") == 1  # stays until the expiry step refuses it


def test_fill_places_grants_fifo_up_to_capacity_with_the_given_reason() -> None:
    quota = AreaQuota("A1", capacity=2, waiting=tuple(WaitingEntry(p, T0) for p in "abc"))
    waiting = {p: _permit(p, _S.WAITLISTED) for p in "abc"}
    outcome = fill_places(quota, waiting, AT, "c", why="place free in area A1 (capacity 2)")
    assert [r.permit.id for r in outcome.granted] == ["a", "b"]
    assert outcome.granted[1].record.reason == (
        "place free in area A1 (capacity 2); first on waiting list"
    )
    assert [e.permit_id for e in outcome.quota.waiting] == ["c"]


# --- the quota area and the full-area error ------------------------------------------------
def test_quota_area_for_is_the_first_area_by_code_with_a_quota_for_the_type() -> None:
    quotas = {
        "B2": AreaQuota("B2", 1),
        "C3": AreaQuota("C3", 1, permit_types=frozenset({PermitType.BUSINESS})),
    }
    assert quota_area_for(PermitType.RESIDENT, {"C3", "B2", "A1"}, quotas) == "B2"
    assert quota_area_for(PermitType.BUSINESS, {"C3", "B2", "A1"}, quotas) == "C3"
    assert quota_area_for(PermitType.CARE, {"C3", "B2"}, quotas) is None


def test_area_quota_full_error_names_area_quota_and_what_was_refused() -> None:
    quota = AreaQuota("A1", 2, holders=frozenset({"x", "y"}), waiting=(WaitingEntry("w", T0),))
    with pytest.raises(AreaQuotaFullError) as info:
        quota.require_open("permit 'P1' cannot be extended to it")
    assert str(info.value) == (
        "area 'A1' is full: its quota is 2 places, 2 held, 1 waiting; "
        "permit 'P1' cannot be extended to it"
    )
    assert (info.value.area_code, info.value.capacity, info.value.code) == (
        "A1",
        2,
        "area_quota_full",
    )
    # a free place with a waiting list is not open either: nobody jumps the queue
    assert not AreaQuota(
        "A1", 3, holders=frozenset({"x"}), waiting=(WaitingEntry("w", T0),)
    ).is_open
    assert AreaQuota("A1", 3, holders=frozenset({"x"})).is_open


# --- area change ----------------------------------------------------------------------------
FULL = AreaQuota("FULL", 1, holders=frozenset({"other"}))
OPEN = AreaQuota("OPEN", 2, holders=frozenset({"other"}))
QUEUE = AreaQuota("QUEUE", 5, holders=frozenset({"x"}), waiting=(WaitingEntry("w", T0),))
HELD = AreaQuota("HELD", 1, holders=frozenset({"P1"}))
BIZ = AreaQuota("BIZ", 0, permit_types=frozenset({PermitType.BUSINESS}))
QUOTAS = {q.area_code: q for q in (FULL, OPEN, QUEUE, HELD, BIZ)}


def _fs(*codes: str) -> frozenset[str]:
    return frozenset(codes)


@pytest.mark.parametrize(
    ("status", "old", "new", "held", "expected"),
    [
        # keeps its place while the area stays; areas without a quota change nothing
        (_S.ACTIVE, _fs("HELD"), _fs("HELD", "FREE"), "HELD", AreaChange("HELD", None)),
        # an added open area is allowed (the place stays where it is)
        (_S.ACTIVE, _fs("HELD"), _fs("HELD", "OPEN"), "HELD", AreaChange("HELD", None)),
        # a quota for another permit type does not apply
        (_S.ACTIVE, _fs("HELD"), _fs("HELD", "BIZ"), "HELD", AreaChange("HELD", None)),
        # removing the held area frees the place
        (_S.SUSPENDED, _fs("HELD", "FREE"), _fs("FREE"), "HELD", AreaChange(None, "HELD")),
        # ... and moves it to the next quota area when that has room
        (_S.ACTIVE, _fs("HELD"), _fs("OPEN"), "HELD", AreaChange("OPEN", "HELD")),
        (_S.ACTIVE, _fs("HELD", "OPEN"), _fs("OPEN"), "HELD", AreaChange("OPEN", "HELD")),
        # a holder without a place (stored before the quota) takes one in an added area
        (_S.GRANTED, _fs("FREE"), _fs("FREE", "OPEN"), None, AreaChange("OPEN", None)),
        (_S.ACTIVE, _fs("FULL"), _fs("FULL", "FREE"), None, AreaChange(None, None)),
        # applications and final permits: decided elsewhere / hold nothing
        (_S.IN_REVIEW, _fs("OPEN"), _fs("FULL"), None, AreaChange(None, None)),
        (_S.APPLIED, _fs("OPEN"), _fs("FULL"), None, AreaChange(None, None)),
        (_S.EXPIRED, _fs("HELD"), _fs("FULL"), None, AreaChange(None, None)),
        (_S.WAITLISTED, _fs("QUEUE"), _fs("QUEUE", "FULL"), None, AreaChange(None, None)),
    ],
)
def test_plan_area_change_table(
    status: PermitStatus,
    old: frozenset[str],
    new: frozenset[str],
    held: str | None,
    expected: AreaChange,
) -> None:
    permit = _permit(status=status, areas=old)
    waiting_area = "QUEUE" if status is _S.WAITLISTED else None
    got = plan_area_change(permit, new, QUOTAS, held_area=held, waiting_area=waiting_area)
    assert got == expected


@pytest.mark.parametrize(
    ("old", "new", "held", "area", "what"),
    [
        (_fs("HELD"), _fs("HELD", "FULL"), "HELD", "FULL", "cannot be extended to it"),
        (_fs("HELD"), _fs("HELD", "QUEUE"), "HELD", "QUEUE", "cannot be extended to it"),
        (_fs("FREE"), _fs("FULL"), None, "FULL", "cannot be extended to it"),
        # giving up the held place needs a place in the next quota area, which is full
        (
            _fs("HELD", "FULL"),
            _fs("FULL"),
            "HELD",
            "FULL",
            "gives up its place in area 'HELD' and would need one in area 'FULL'",
        ),
    ],
)
def test_plan_area_change_refuses_a_full_area(
    old: frozenset[str], new: frozenset[str], held: str | None, area: str, what: str
) -> None:
    with pytest.raises(AreaQuotaFullError, match=what) as info:
        plan_area_change(_permit(areas=old), new, QUOTAS, held_area=held)
    assert info.value.area_code == area
    assert info.value.capacity == QUOTAS[area].capacity


def test_plan_area_change_keeps_a_waiting_application_in_its_area() -> None:
    permit = _permit(status=_S.WAITLISTED, areas=_fs("QUEUE"))
    with pytest.raises(QuotaError, match="waits for a place in area 'QUEUE'"):
        plan_area_change(permit, _fs("OPEN"), QUOTAS, held_area=None, waiting_area="QUEUE")


# --- first load (CSV import) ----------------------------------------------------------------
def test_place_loaded_permits_counts_in_load_order_and_lists_the_rows_over_quota() -> None:
    quotas = {"A1": AreaQuota("A1", 3, holders=frozenset({"db1"})), "B2": AreaQuota("B2", 5)}
    loaded = [
        _permit("L1"),
        _permit("L2", status=_S.SUSPENDED),
        _permit("X", status=_S.EXPIRED),  # holds no place
        _permit("BZ", permit_type=PermitType.BUSINESS),  # no quota for its type
        _permit("L3", areas=_fs("A1", "B2")),  # first quota area by code: A1
        _permit("L4", areas=_fs("B2")),
        _permit("L5", status=_S.GRANTED),
    ]
    plan = place_loaded_permits(loaded, quotas)
    assert plan.places == {"L1": "A1", "L2": "A1", "L3": "A1", "L4": "B2", "L5": "A1"}
    assert [(o.permit_id, o.held_before, o.loaded_before) for o in plan.over_quota] == [
        ("L3", 1, 2),
        ("L5", 1, 3),
    ]
    assert [(a.area_code, a.held_before, a.held_after, a.is_over) for a in plan.areas] == [
        ("A1", 1, 5, True),
        ("B2", 0, 1, False),
    ]
    assert [a.area_code for a in plan.areas_over_quota] == ["A1"]


def test_place_loaded_permits_within_quota_has_nothing_over() -> None:
    plan = place_loaded_permits([_permit("L1"), _permit("L2")], {"A1": AreaQuota("A1", 2)})
    assert plan.over_quota == ()
    assert plan.areas_over_quota == ()


def test_read_permit_rows_keeps_line_numbers() -> None:
    text = "\n".join(
        [
            ",".join(COLUMNS),
            "R1,resident,H1,GZ123T,A1,2026-01-01T00:00:00Z,,,",
            "R2,resident,H2,XK52GV,A1,2026-01-01T00:00:00Z,,,",
        ]
    )
    rows = read_permit_rows(io.StringIO(text + "\n"))
    assert [(r.line, r.permit.id) for r in rows] == [(2, "R1"), (3, "R2")]
    assert rows[0].permit.status is _S.ACTIVE


def test_place_loaded_permits_puts_waitlisted_rows_on_their_quota_areas_list() -> None:
    quotas = {
        "A1": AreaQuota("A1", 1, holders=frozenset({"db1"})),
        "B2": AreaQuota("B2", 5, permit_types=_fs(PermitType.RESIDENT, PermitType.BUSINESS)),
    }
    loaded = [
        _permit("W3", status=_S.WAITLISTED, areas=_fs("B2", "A1")),  # first by code: A1
        _permit("W1", status=_S.WAITLISTED),
        _permit("WB", status=_S.WAITLISTED, permit_type=PermitType.BUSINESS, areas=_fs("A1")),
        _permit("W2", status=_S.WAITLISTED, permit_type=PermitType.BUSINESS, areas=_fs("B2")),
        _permit("WC", status=_S.WAITLISTED, areas=_fs("C3")),  # C3 has no quota
        _permit("IR", status=_S.IN_REVIEW),  # an application, but on no list yet
    ]
    plan = place_loaded_permits(loaded, quotas)
    assert list(plan.waiting.items()) == [("W3", "A1"), ("W1", "A1"), ("W2", "B2")]
    assert plan.nothing_to_wait_for == ("WB", "WC")
    assert plan.places == {}
    assert plan.over_quota == ()
