"""The rights decision: "may this plate park here now, and why?" as one pure function.

``decide`` works on ``Right``s whatever their ``plate_key`` is (plain plates in the backend,
keyed hashes on the car), so both sides give the same answer from the same rights.

Rules (see docs/permits.md for the full table):
- a right counts when it covers the area (empty area codes = whole city) and
  ``start <= at <= end`` (both ends inclusive; ``end`` None = open-ended);
- a session (paid or visitor) that starts after ``at`` but no later than ``at + grace`` counts
  as ``late_payment_within_grace`` (allowed);
- permit and visitor rights count only when their permit type is in ``allowed_permit_types``
  (None: every type). Exemption and disabled (GPK) rights are exempt from that filter: they are
  limited only by their own area codes (city-wide when they have none);
- a right for a look-alike plate never allows; it gives ``lookalike_right`` when nothing
  matched the plate itself;
- precedence: exemption > permit > visitor > paid > late_payment_within_grace >
  lookalike_right > none; among equals the right that runs longest wins (open-ended first),
  then the smallest id.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Protocol

from permits.errors import InvalidPermitError
from permits.model import (
    NO_RIGHT,
    Decision,
    DecisionReason,
    PermitType,
    RightKind,
    require_aware,
)


class RightLike(Protocol):
    """What the decision reads from a right. ``permits.model.Right`` is one; the car's cache
    passes lighter rows of its own."""

    @property
    def id(self) -> str: ...
    @property
    def kind(self) -> RightKind: ...
    @property
    def area_codes(self) -> frozenset[str]: ...
    @property
    def start(self) -> datetime: ...
    @property
    def end(self) -> datetime | None: ...
    @property
    def permit_type(self) -> PermitType | None: ...


PRECEDENCE: tuple[DecisionReason, ...] = tuple(DecisionReason)
_RANK: dict[DecisionReason, int] = {reason: i for i, reason in enumerate(PRECEDENCE)}
KIND_REASON: dict[RightKind, DecisionReason] = {
    RightKind.EXEMPTION: DecisionReason.EXEMPTION,
    RightKind.PERMIT: DecisionReason.PERMIT,
    RightKind.VISITOR: DecisionReason.VISITOR,
    RightKind.PAID: DecisionReason.PAID,
}
SESSION_KINDS: frozenset[RightKind] = frozenset({RightKind.PAID, RightKind.VISITOR})
# Permit types whose rights ignore the zone's list of accepted permit types.
ZONE_INDEPENDENT_PERMIT_TYPES: frozenset[PermitType] = frozenset(
    {PermitType.EXEMPTION, PermitType.DISABLED}
)
MAX_GRACE_MINUTES = 24 * 60


def validate_check_args(at: datetime, grace_minutes: int) -> None:
    """Refuse naive times and grace periods outside 0..1440 minutes."""
    require_aware("at", at)
    if not isinstance(grace_minutes, int) or not 0 <= grace_minutes <= MAX_GRACE_MINUTES:
        raise InvalidPermitError(
            "grace_minutes", grace_minutes, f"must be a whole number from 0 to {MAX_GRACE_MINUTES}"
        )


def match_reason(
    right: RightLike,
    area_code: str,
    at: datetime,
    grace_end: datetime,
    allowed_permit_types: frozenset[PermitType] | None,
) -> DecisionReason | None:
    """Why ``right`` lets its plate park in ``area_code`` at ``at``, or None when it does not."""
    if right.area_codes and area_code not in right.area_codes:
        return None
    if (
        allowed_permit_types is not None
        and right.permit_type is not None
        and right.permit_type not in ZONE_INDEPENDENT_PERMIT_TYPES
        and right.permit_type not in allowed_permit_types
    ):
        return None
    if right.start <= at and (right.end is None or at <= right.end):
        return KIND_REASON[right.kind]
    if right.kind in SESSION_KINDS and at < right.start <= grace_end:
        return DecisionReason.LATE_PAYMENT_WITHIN_GRACE
    return None


def _beats(
    reason: DecisionReason, right: RightLike, other_reason: DecisionReason, other: RightLike
) -> bool:
    """True when (reason, right) wins over (other_reason, other): stronger reason, then
    open-ended, then later end, then smaller id."""
    if reason is not other_reason:
        return _RANK[reason] < _RANK[other_reason]
    if right.end != other.end:
        if right.end is None:
            return True
        return other.end is not None and right.end > other.end
    return right.id < other.id


def _best(
    rights: Iterable[RightLike],
    area_code: str,
    at: datetime,
    grace_end: datetime,
    allowed_permit_types: frozenset[PermitType] | None,
) -> tuple[DecisionReason, RightLike] | None:
    best: tuple[DecisionReason, RightLike] | None = None
    for right in rights:
        reason = match_reason(right, area_code, at, grace_end, allowed_permit_types)
        if reason is not None and (best is None or _beats(reason, right, *best)):
            best = (reason, right)
    return best


def decide(
    exact_rights: Iterable[RightLike],
    lookalike_rights: Iterable[RightLike],
    area_code: str,
    at: datetime,
    grace_minutes: int = 0,
    *,
    allowed_permit_types: frozenset[PermitType] | None = None,
) -> Decision:
    """Decide from the rights of the read plate and of its look-alike plates.

    Callers may pass rights that do not match (other areas, other times); they are ignored.
    ``lookalike_rights`` are consulted only when no right of the plate itself matches, so a
    caller may skip fetching them when ``needs_lookalikes(decide(exact, (), ...))`` is false.
    """
    validate_check_args(at, grace_minutes)
    return decide_in_window(
        exact_rights,
        lookalike_rights,
        area_code,
        at,
        at + timedelta(minutes=grace_minutes),
        allowed_permit_types=allowed_permit_types,
    )


def decide_in_window(
    exact_rights: Iterable[RightLike],
    lookalike_rights: Iterable[RightLike],
    area_code: str,
    at: datetime,
    grace_end: datetime,
    *,
    allowed_permit_types: frozenset[PermitType] | None = None,
) -> Decision:
    """``decide`` without argument checks, for callers that validated ``at`` and the grace
    period once already (``grace_end = at + grace``)."""
    found = _best(exact_rights, area_code, at, grace_end, allowed_permit_types)
    if found is not None:
        reason, right = found
        return Decision(allowed=True, reason=reason, right_id=right.id, valid_until=right.end)
    lookalike = _best(lookalike_rights, area_code, at, grace_end, allowed_permit_types)
    if lookalike is not None:
        return Decision(
            allowed=False, reason=DecisionReason.LOOKALIKE_RIGHT, right_id=lookalike[1].id
        )
    return NO_RIGHT


def needs_lookalikes(decision: Decision) -> bool:
    """True when look-alike rights could still change ``decision`` (nothing exact matched)."""
    return decision.reason in (DecisionReason.NONE, DecisionReason.LOOKALIKE_RIGHT)
