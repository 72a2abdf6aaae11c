"""The hit lifecycle's plain rules without a database: the transition table, claims, and the
checks a BOA's confirmation and rejection must pass."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from api.hits.model import HitStatus
from api.review.rules import (
    OPEN_STATUSES,
    TRANSITIONS,
    Claim,
    ClaimError,
    ClaimExpired,
    DecisionMode,
    HitAction,
    InvalidTransition,
    NoteRequired,
    NoteTooLong,
    PositionRequired,
    RejectReason,
    RemoteNotAllowed,
    TooFarFromCar,
    UnknownRejectReason,
    allowed_actions,
    check_confirmation,
    check_rejection,
    claim_until,
    distance_m,
    next_status,
    require_claim,
)

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
CAR = (4.8952, 52.3702)  # lon, lat
S, A = HitStatus, HitAction


# --------------------------------------------------------------------------- transitions
@pytest.mark.parametrize(
    ("status", "action", "after"),
    [
        (S.PENDING_GRACE, A.GRACE_PASSED, S.AWAITING_REVIEW),
        (S.PENDING_GRACE, A.RIGHT_FOUND, S.DISMISSED),
        (S.AWAITING_REVIEW, A.CLAIM, S.CLAIMED),
        (S.CLAIMED, A.RELEASE, S.AWAITING_REVIEW),
        (S.CLAIMED, A.EXPIRE, S.AWAITING_REVIEW),
        (S.CLAIMED, A.CONFIRM, S.CONFIRMED),
        (S.CLAIMED, A.REJECT, S.REJECTED),
        (S.CLAIMED, A.CORRECT_PLATE, S.CLAIMED),
        (S.CLAIMED, A.ADD_PHOTO, S.CLAIMED),
    ],
)
def test_next_status_follows_the_lifecycle(status, action, after):
    assert next_status(status, action) == after


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (s, a)
        for s in HitStatus
        for a in HitAction
        if (s, a) not in TRANSITIONS  # every pair the table leaves out
    ],
)
def test_next_status_refuses_every_other_pair_naming_state_and_action(status, action):
    with pytest.raises(InvalidTransition) as caught:
        next_status(status, action)
    assert status.value in str(caught.value)
    assert action.value in str(caught.value)


@pytest.mark.parametrize("closed", [S.DISMISSED, S.CONFIRMED, S.REJECTED])
def test_allowed_actions_closed_hits_allow_nothing(closed):
    assert allowed_actions(closed) == frozenset()
    assert closed not in OPEN_STATUSES


def test_allowed_actions_of_a_claimed_hit():
    assert allowed_actions(S.CLAIMED) == {
        A.RELEASE,
        A.EXPIRE,
        A.CONFIRM,
        A.REJECT,
        A.CORRECT_PLATE,
        A.ADD_PHOTO,
    }
    assert allowed_actions(S.AWAITING_REVIEW) == {A.CLAIM}


# --------------------------------------------------------------------------- claims
def test_claim_until_adds_the_minutes():
    assert claim_until(NOW, 10) == NOW + timedelta(minutes=10)


@pytest.mark.parametrize(
    ("claim", "boa", "error"),
    [
        (Claim(7, NOW + timedelta(minutes=1)), 7, None),
        (Claim(8, NOW + timedelta(minutes=1)), 7, ClaimError),  # a colleague's
        (Claim(7, NOW), 7, ClaimExpired),  # ran out this instant
        (Claim(7, None), 7, ClaimExpired),
    ],
)
def test_require_claim_needs_a_live_claim_of_the_deciding_boa(claim, boa, error):
    if error is None:
        require_claim(S.CLAIMED, claim, boa, NOW)
        assert claim.is_held_by(boa, NOW)
    else:
        with pytest.raises(error):
            require_claim(S.CLAIMED, claim, boa, NOW)
        assert not claim.is_held_by(boa, NOW)


def test_require_claim_leaves_the_wrong_state_to_the_transition_table():
    require_claim(S.AWAITING_REVIEW, Claim(None, None), 7, NOW)  # no claim error here
    with pytest.raises(InvalidTransition):
        next_status(S.AWAITING_REVIEW, A.CONFIRM)


# --------------------------------------------------------------------------- confirmation
def _confirm(mode, *, remote_allowed=False, boa=None, max_distance_m=50.0):
    lon, lat = boa if boa is not None else (None, None)
    return check_confirmation(
        mode=mode,
        remote_allowed=remote_allowed,
        hit_lon=CAR[0],
        hit_lat=CAR[1],
        boa_lon=lon,
        boa_lat=lat,
        max_distance_m=max_distance_m,
    )


def test_check_confirmation_remote_where_the_zone_allows_it():
    check = _confirm(DecisionMode.REMOTE, remote_allowed=True)
    assert check.mode == DecisionMode.REMOTE
    assert check.distance_m is None


def test_check_confirmation_remote_refused_where_the_zone_does_not_allow_it():
    with pytest.raises(RemoteNotAllowed, match="on_site"):
        _confirm(DecisionMode.REMOTE, remote_allowed=False)


def test_check_confirmation_on_site_needs_the_position():
    with pytest.raises(PositionRequired):
        _confirm(DecisionMode.ON_SITE, remote_allowed=True)


def test_check_confirmation_on_site_within_the_distance_records_it():
    near = (CAR[0] + 0.0003, CAR[1])  # about 20 m east
    check = _confirm(DecisionMode.ON_SITE, boa=near)
    assert check.mode == DecisionMode.ON_SITE
    assert check.distance_m == pytest.approx(20.4, abs=0.5)


def test_check_confirmation_on_site_too_far_names_both_distances():
    far = (CAR[0], CAR[1] + 0.001)  # about 111 m north
    with pytest.raises(TooFarFromCar) as caught:
        _confirm(DecisionMode.ON_SITE, boa=far, max_distance_m=50)
    assert "111" in str(caught.value)
    assert "50" in str(caught.value)


def test_distance_m_is_symmetric_and_zero_at_the_same_point():
    a, b = CAR, (4.9041, 52.3676)
    assert distance_m(*a, *a) == 0
    assert distance_m(*a, *b) == pytest.approx(distance_m(*b, *a))
    assert distance_m(*a, *b) == pytest.approx(670, abs=2)  # 289 m north, 604 m east


# --------------------------------------------------------------------------- rejection
@pytest.mark.parametrize("reason", [r for r in RejectReason if r != RejectReason.OTHER])
def test_check_rejection_accepts_every_reason_without_a_note(reason):
    assert check_rejection(reason.value, None) == reason


def test_check_rejection_other_needs_a_note():
    with pytest.raises(NoteRequired):
        check_rejection("other", "   ")
    assert check_rejection("other", "bestuurder vertrok") == RejectReason.OTHER


def test_check_rejection_unknown_reason_lists_the_allowed_ones():
    with pytest.raises(UnknownRejectReason, match=r"unknown reject reason 'tired'.*driver_present"):
        check_rejection("tired", None)


def test_check_rejection_note_too_long():
    with pytest.raises(NoteTooLong):
        check_rejection("driver_present", "x" * 1001)
    assert check_rejection("driver_present", "x" * 1000) == RejectReason.DRIVER_PRESENT
