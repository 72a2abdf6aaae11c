"""Permit lifecycle: every transition, refused transitions, plate change."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from permits.errors import InvalidPermitError, InvalidTransitionError, NaiveDatetimeError
from permits.lifecycle import (
    FINAL_STATUSES,
    TRANSITIONS,
    PermitAction,
    allowed_actions,
    change_plate,
    is_due_to_expire,
    transition,
)
from permits.memory import InMemoryRightsRepository
from permits.model import (
    DecisionReason,
    Permit,
    PermitStatus,
    PermitType,
    PlatePeriod,
    rights_from_permit,
)
from permits.service import check

T0 = datetime(2026, 1, 1, tzinfo=UTC)
AT = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def _permit(status: PermitStatus = PermitStatus.APPLIED) -> Permit:
    return Permit(
        id="P1",
        type=PermitType.RESIDENT,
        holder_ref="H1",
        plate_periods=(PlatePeriod("GZ123T", T0),),
        area_codes=frozenset({"A1"}),
        valid_from=T0,
        valid_to=datetime(2027, 1, 1, tzinfo=UTC),
        status=status,
    )


VALID = [
    (PermitStatus.APPLIED, PermitAction.START_REVIEW, PermitStatus.IN_REVIEW),
    (PermitStatus.IN_REVIEW, PermitAction.GRANT, PermitStatus.GRANTED),
    (PermitStatus.IN_REVIEW, PermitAction.REFUSE, PermitStatus.REFUSED),
    (PermitStatus.IN_REVIEW, PermitAction.WAITLIST, PermitStatus.WAITLISTED),
    (PermitStatus.WAITLISTED, PermitAction.GRANT, PermitStatus.GRANTED),
    (PermitStatus.WAITLISTED, PermitAction.REFUSE, PermitStatus.REFUSED),
    (PermitStatus.GRANTED, PermitAction.ACTIVATE, PermitStatus.ACTIVE),
    (PermitStatus.GRANTED, PermitAction.REVOKE, PermitStatus.REVOKED),
    (PermitStatus.GRANTED, PermitAction.EXPIRE, PermitStatus.EXPIRED),
    (PermitStatus.ACTIVE, PermitAction.SUSPEND, PermitStatus.SUSPENDED),
    (PermitStatus.ACTIVE, PermitAction.REVOKE, PermitStatus.REVOKED),
    (PermitStatus.ACTIVE, PermitAction.EXPIRE, PermitStatus.EXPIRED),
    (PermitStatus.SUSPENDED, PermitAction.REINSTATE, PermitStatus.ACTIVE),
    (PermitStatus.SUSPENDED, PermitAction.REVOKE, PermitStatus.REVOKED),
    (PermitStatus.SUSPENDED, PermitAction.EXPIRE, PermitStatus.EXPIRED),
]


def test_transition_table_is_covered_by_tests() -> None:
    table = {
        (s, a, t)
        for s, actions in TRANSITIONS.items()
        for a, t in actions.items()
        if a is not PermitAction.CHANGE_PLATE
    }
    assert table == set(VALID)


@pytest.mark.parametrize(("start", "action", "target"), VALID)
def test_transition_valid(start: PermitStatus, action: PermitAction, target: PermitStatus) -> None:
    result = transition(_permit(start), action, "because", AT, "clerk-7")
    assert result.permit.status is target
    assert result.permit.plate_periods == _permit().plate_periods
    record = result.record
    assert (record.permit_id, record.action, record.from_status, record.to_status) == (
        "P1",
        action,
        start,
        target,
    )
    assert (record.reason, record.at, record.actor) == ("because", AT, "clerk-7")


INVALID = [
    (s, a)
    for s in PermitStatus
    for a in PermitAction
    if a is not PermitAction.CHANGE_PLATE and a not in TRANSITIONS[s]
]


@pytest.mark.parametrize(("start", "action"), INVALID)
def test_transition_invalid_is_refused_naming_state_and_allowed(
    start: PermitStatus, action: PermitAction
) -> None:
    with pytest.raises(InvalidTransitionError) as info:
        transition(_permit(start), action, "because", AT, "clerk-7")
    message = str(info.value)
    assert f"action {action.value!r}" in message
    assert f"status {start.value!r}" in message
    allowed = ", ".join(a.value for a in allowed_actions(start)) or "none (final state)"
    assert f"allowed actions: {allowed}" in message
    assert info.value.allowed == tuple(a.value for a in allowed_actions(start))


def test_final_statuses() -> None:
    assert {PermitStatus.REFUSED, PermitStatus.REVOKED, PermitStatus.EXPIRED} == FINAL_STATUSES


@pytest.mark.parametrize(("reason", "actor"), [("", "clerk"), ("  ", "clerk"), ("why", "")])
def test_transition_requires_reason_and_actor(reason: str, actor: str) -> None:
    with pytest.raises(InvalidPermitError, match="needs a"):
        transition(_permit(), PermitAction.START_REVIEW, reason, AT, actor)


def test_transition_rejects_naive_time() -> None:
    with pytest.raises(NaiveDatetimeError):
        transition(_permit(), PermitAction.START_REVIEW, "r", datetime(2026, 1, 1), "c")  # noqa: DTZ001


def test_transition_refuses_change_plate_without_plates() -> None:
    with pytest.raises(InvalidPermitError, match="call change_plate"):
        transition(_permit(PermitStatus.ACTIVE), PermitAction.CHANGE_PLATE, "r", AT, "c")


def test_change_plate_ends_old_and_starts_new_right() -> None:
    active = _permit(PermitStatus.ACTIVE)
    result = change_plate(active, "gz-123-t", "hx-99-k", reason="new car", at=AT, actor="clerk-7")
    assert result.permit.plate_periods == (
        PlatePeriod("GZ123T", T0, AT),
        PlatePeriod("HX99K", AT, None),
    )
    assert result.permit.status is PermitStatus.ACTIVE
    assert (result.record.old_plate, result.record.new_plate) == ("GZ123T", "HX99K")
    assert result.record.action is PermitAction.CHANGE_PLATE
    rights = rights_from_permit(result.permit)
    assert [(r.id, r.plate_key, r.start, r.end) for r in rights] == [
        ("permit:P1:0", "GZ123T", T0, AT),
        ("permit:P1:1", "HX99K", AT, datetime(2027, 1, 1, tzinfo=UTC)),
    ]
    repo = InMemoryRightsRepository()
    repo.put_permit(active)
    repo.put_permit(result.permit)
    after = AT + timedelta(seconds=1)
    assert check(repo, "GZ123T", "A1", AT).reason is DecisionReason.PERMIT  # inclusive end
    assert check(repo, "GZ123T", "A1", after).reason is DecisionReason.NONE
    assert check(repo, "HX99K", "A1", after).reason is DecisionReason.PERMIT
    assert check(repo, "HX99K", "A1", AT - timedelta(seconds=1)).reason is DecisionReason.NONE


@pytest.mark.parametrize(
    ("old", "new", "match"),
    [("XX11XX", "HX99K", "not a current plate"), ("GZ123T", "GZ-123-T", "already a current")],
)
def test_change_plate_refuses_bad_plates(old: str, new: str, match: str) -> None:
    with pytest.raises(InvalidPermitError, match=match):
        change_plate(_permit(PermitStatus.ACTIVE), old, new, reason="r", at=AT, actor="c")


def test_change_plate_refused_when_not_active() -> None:
    with pytest.raises(InvalidTransitionError, match="'suspended'"):
        change_plate(
            _permit(PermitStatus.SUSPENDED), "GZ123T", "HX99K", reason="r", at=AT, actor="c"
        )


def test_change_plate_twice_keeps_history() -> None:
    first = change_plate(
        _permit(PermitStatus.ACTIVE), "GZ123T", "HX99K", reason="r", at=AT, actor="c"
    ).permit
    later = AT + timedelta(days=1)
    second = change_plate(first, "HX99K", "GZ123T", reason="back", at=later, actor="c").permit
    assert [p.plate for p in second.plate_periods] == ["GZ123T", "HX99K", "GZ123T"]
    assert second.open_plates == {"GZ123T"}
    assert second.current_plates(later) == {"GZ123T", "HX99K"}


@pytest.mark.parametrize(
    ("status", "valid_to_offset", "expected"),
    [
        (PermitStatus.ACTIVE, timedelta(seconds=-1), True),
        (PermitStatus.ACTIVE, timedelta(0), False),
        (PermitStatus.SUSPENDED, timedelta(days=-1), True),
        (PermitStatus.EXPIRED, timedelta(days=-1), False),
        (PermitStatus.IN_REVIEW, timedelta(days=-1), False),
    ],
)
def test_is_due_to_expire(status: PermitStatus, valid_to_offset: timedelta, expected: bool) -> None:
    permit = replace(_permit(status), valid_to=AT + valid_to_offset)
    assert is_due_to_expire(permit, AT) is expected


@pytest.mark.parametrize(
    ("status", "has_rights"),
    [(s, s is PermitStatus.ACTIVE) for s in PermitStatus],
)
def test_rights_only_for_active_permits(status: PermitStatus, has_rights: bool) -> None:
    assert bool(rights_from_permit(_permit(status))) is has_rights


def test_suspend_and_reinstate_remove_and_restore_rights() -> None:
    repo = InMemoryRightsRepository()
    active = _permit(PermitStatus.ACTIVE)
    repo.put_permit(active)
    suspended = transition(active, PermitAction.SUSPEND, "unpaid", AT, "c").permit
    repo.put_permit(suspended)
    assert check(repo, "GZ123T", "A1", AT).reason is DecisionReason.NONE
    repo.put_permit(transition(suspended, PermitAction.REINSTATE, "paid", AT, "c").permit)
    assert check(repo, "GZ123T", "A1", AT).reason is DecisionReason.PERMIT
