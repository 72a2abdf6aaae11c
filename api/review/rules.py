"""The hit lifecycle as plain rules: which action is allowed in which state, and the checks a
BOA's decision must pass. No database or web code here; ``service.py`` applies these.

    pending_grace --grace_passed--> awaiting_review --claim--> claimed --confirm--> confirmed
          |                               ^                    |  |
          +--right_found--> dismissed     +---release/expire---+  +--reject--> rejected
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from api.hits.model import HitStatus
from permits.plates import differs_only_in_lookalikes


class HitAction(enum.StrEnum):
    GRACE_PASSED = "grace_passed"
    RIGHT_FOUND = "right_found"
    CLAIM = "claim"
    RELEASE = "release"
    EXPIRE = "expire"
    CONFIRM = "confirm"
    REJECT = "reject"
    CORRECT_PLATE = "correct_plate"
    ADD_PHOTO = "add_photo"


class DecisionMode(enum.StrEnum):
    REMOTE = "remote"  # beboeten op afstand: from the photos
    ON_SITE = "on_site"  # the BOA stands at the car


class RejectReason(enum.StrEnum):
    DRIVER_PRESENT = "driver_present"
    LOADING_UNLOADING = "loading_unloading"
    DISABLED_CARD_VISIBLE = "disabled_card_visible"
    PLATE_MISREAD = "plate_misread"
    RIGHT_FOUND = "right_found"
    VEHICLE_EXEMPT = "vehicle_exempt"
    EVIDENCE_INSUFFICIENT = "evidence_insufficient"
    OTHER = "other"


TRANSITIONS: dict[tuple[HitStatus, HitAction], HitStatus] = {
    (HitStatus.PENDING_GRACE, HitAction.GRACE_PASSED): HitStatus.AWAITING_REVIEW,
    (HitStatus.PENDING_GRACE, HitAction.RIGHT_FOUND): HitStatus.DISMISSED,
    (HitStatus.AWAITING_REVIEW, HitAction.CLAIM): HitStatus.CLAIMED,
    (HitStatus.CLAIMED, HitAction.RELEASE): HitStatus.AWAITING_REVIEW,
    (HitStatus.CLAIMED, HitAction.EXPIRE): HitStatus.AWAITING_REVIEW,
    (HitStatus.CLAIMED, HitAction.CONFIRM): HitStatus.CONFIRMED,
    (HitStatus.CLAIMED, HitAction.REJECT): HitStatus.REJECTED,
    (HitStatus.CLAIMED, HitAction.CORRECT_PLATE): HitStatus.CLAIMED,
    (HitStatus.CLAIMED, HitAction.ADD_PHOTO): HitStatus.CLAIMED,
}

OPEN_STATUSES = frozenset({HitStatus.PENDING_GRACE, HitStatus.AWAITING_REVIEW, HitStatus.CLAIMED})


class ReviewError(Exception):
    code = "review_error"


class InvalidTransition(ReviewError):
    code = "invalid_transition"

    def __init__(self, status: HitStatus, action: HitAction):
        allowed = sorted(a.value for (s, a) in TRANSITIONS if s == status)
        self.status, self.action = status, action
        super().__init__(
            f"cannot {action.value} a hit that is {status.value}; allowed now: "
            f"{', '.join(allowed) or 'nothing (final state)'}"
        )


class ClaimError(ReviewError):
    code = "claim_conflict"


class ClaimExpired(ClaimError):
    code = "claim_expired"


class ClaimTaken(ClaimError):
    """The BOA's claim ran out and a colleague took the hit before the decision came."""

    code = "claim_taken"


class DecisionRefused(ReviewError):
    code = "decision_refused"


class RemoteNotAllowed(DecisionRefused):
    code = "remote_not_allowed"


class PositionRequired(DecisionRefused):
    code = "position_required"


class TooFarFromCar(DecisionRefused):
    code = "too_far_from_car"

    def __init__(self, distance_m: float, max_distance_m: float):
        self.distance_m, self.max_distance_m = distance_m, max_distance_m
        super().__init__(
            f"you are {distance_m:.0f} m from the car; on-site confirmation needs at most "
            f"{max_distance_m:.0f} m"
        )


class CorrectionReasonRequired(DecisionRefused):
    code = "correction_reason_required"


class PlateDiffersFromRead(DecisionRefused):
    """The corrected plate differs from the car's read in more than look-alike characters
    and the BOA has not said they checked it."""

    code = "plate_differs_from_read"

    def __init__(self, read_plate: str, new_plate: str):
        self.read_plate, self.new_plate = read_plate, new_plate
        super().__init__(
            f"{new_plate} differs from the car's read {read_plate} in more than look-alike "
            "characters; confirm that you checked it (confirm_different)"
        )


class UnknownRejectReason(DecisionRefused):
    code = "unknown_reject_reason"


class NoteRequired(DecisionRefused):
    code = "note_required"


class NoteTooLong(DecisionRefused):
    code = "note_too_long"

    def __init__(self, length: int, max_length: int):
        self.length, self.max_length = length, max_length
        super().__init__(f"the note is {length} characters; at most {max_length}")


def next_status(status: HitStatus, action: HitAction) -> HitStatus:
    try:
        return TRANSITIONS[(status, action)]
    except KeyError:
        raise InvalidTransition(status, action) from None


def allowed_actions(status: HitStatus) -> frozenset[HitAction]:
    return frozenset(a for (s, a) in TRANSITIONS if s == status)


@dataclass(frozen=True, slots=True)
class Claim:
    boa_id: int | None
    until: datetime | None

    def is_held_by(self, boa_id: int, now: datetime) -> bool:
        return self.boa_id == boa_id and self.until is not None and self.until > now

    def is_expired(self, now: datetime) -> bool:
        return self.until is None or self.until <= now


def require_claim(status: HitStatus, claim: Claim, boa_id: int, now: datetime) -> None:
    """A decision needs a live claim by the deciding BOA."""
    if status != HitStatus.CLAIMED:
        return  # the transition table reports the wrong state
    if claim.boa_id != boa_id:
        raise ClaimError("this hit is claimed by another BOA")
    if claim.is_expired(now):
        raise ClaimExpired("your claim on this hit has expired; claim it again")


def claim_until(now: datetime, minutes: int) -> datetime:
    return now + timedelta(minutes=minutes)


EARTH_RADIUS_M = 6_371_008.8


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True, slots=True)
class ConfirmCheck:
    mode: DecisionMode
    distance_m: float | None


def check_confirmation(
    *,
    mode: DecisionMode,
    remote_allowed: bool,
    hit_lon: float,
    hit_lat: float,
    boa_lon: float | None,
    boa_lat: float | None,
    max_distance_m: float,
) -> ConfirmCheck:
    """Remote only where the zone allows it; on site only within ``max_distance_m`` of the car."""
    if mode == DecisionMode.REMOTE:
        if not remote_allowed:
            raise RemoteNotAllowed(
                "this zone does not allow remote confirmation; confirm on site (mode 'on_site' "
                "with your position)"
            )
        return ConfirmCheck(mode, None)
    if boa_lon is None or boa_lat is None:
        raise PositionRequired("on-site confirmation needs your position (lon, lat)")
    d = distance_m(hit_lon, hit_lat, boa_lon, boa_lat)
    if d > max_distance_m:
        raise TooFarFromCar(d, max_distance_m)
    return ConfirmCheck(mode, d)


MAX_NOTE = 1000


def check_rejection(reason: str, note: str | None) -> RejectReason:
    try:
        r = RejectReason(reason)
    except ValueError:
        allowed = ", ".join(x.value for x in RejectReason)
        raise UnknownRejectReason(f"unknown reject reason {reason!r}; allowed: {allowed}") from None
    if r == RejectReason.OTHER and not (note or "").strip():
        raise NoteRequired("reject reason 'other' needs a note that says why")
    if note is not None and len(note) > MAX_NOTE:
        raise NoteTooLong(len(note), MAX_NOTE)
    return r


MIN_CORRECTION_REASON = 3
MAX_CORRECTION_REASON = 300


def check_plate_correction(
    read_plate: str, new_plate: str, reason: str | None, *, confirmed_different: bool
) -> str:
    """A plate correction needs a reason; one that changes more than OCR look-alike
    characters (0/O, 8/B, ...) of what the car read also needs the BOA's confirmation.
    Returns the reason, trimmed."""
    why = (reason or "").strip()
    if len(why) < MIN_CORRECTION_REASON:
        raise CorrectionReasonRequired("a plate correction needs a reason (at least 3 characters)")
    if len(why) > MAX_CORRECTION_REASON:
        raise NoteTooLong(len(why), MAX_CORRECTION_REASON)
    if not confirmed_different and not differs_only_in_lookalikes(read_plate, new_plate):
        raise PlateDiffersFromRead(read_plate, new_plate)
    return why
