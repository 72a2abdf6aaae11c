"""The permit lifecycle: an explicit state machine with a reason on every transition.

::

    applied -> in_review -> granted | refused | waitlisted
    waitlisted -> granted | refused
    granted -> active | revoked | expired
    active -> suspended | revoked | expired, and change_plate (stays active)
    suspended -> active (reinstate) | revoked | expired
    refused, revoked, expired: final

Every call returns the new permit and a ``TransitionRecord`` (who, when, why, from, to) for the
audit trail. A refused action raises ``InvalidTransitionError`` naming the current status, the
action and the actions that are allowed.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from permits.errors import InvalidPermitError, InvalidTransitionError
from permits.model import Permit, PermitStatus, PlatePeriod, require_aware
from permits.plates import normalise_plate


class PermitAction(enum.StrEnum):
    START_REVIEW = "start_review"
    GRANT = "grant"
    REFUSE = "refuse"
    WAITLIST = "waitlist"
    ACTIVATE = "activate"
    SUSPEND = "suspend"
    REINSTATE = "reinstate"
    REVOKE = "revoke"
    EXPIRE = "expire"
    CHANGE_PLATE = "change_plate"


_S = PermitStatus
_A = PermitAction
TRANSITIONS: dict[PermitStatus, dict[PermitAction, PermitStatus]] = {
    _S.APPLIED: {_A.START_REVIEW: _S.IN_REVIEW},
    _S.IN_REVIEW: {_A.GRANT: _S.GRANTED, _A.REFUSE: _S.REFUSED, _A.WAITLIST: _S.WAITLISTED},
    _S.WAITLISTED: {_A.GRANT: _S.GRANTED, _A.REFUSE: _S.REFUSED},
    _S.GRANTED: {_A.ACTIVATE: _S.ACTIVE, _A.REVOKE: _S.REVOKED, _A.EXPIRE: _S.EXPIRED},
    _S.ACTIVE: {
        _A.SUSPEND: _S.SUSPENDED,
        _A.REVOKE: _S.REVOKED,
        _A.EXPIRE: _S.EXPIRED,
        _A.CHANGE_PLATE: _S.ACTIVE,
    },
    _S.SUSPENDED: {_A.REINSTATE: _S.ACTIVE, _A.REVOKE: _S.REVOKED, _A.EXPIRE: _S.EXPIRED},
    _S.REFUSED: {},
    _S.REVOKED: {},
    _S.EXPIRED: {},
}
FINAL_STATUSES: frozenset[PermitStatus] = frozenset(s for s, a in TRANSITIONS.items() if not a)


@dataclass(frozen=True, slots=True)
class TransitionRecord:
    """One audited lifecycle step. ``old_plate``/``new_plate`` are set for a plate change."""

    permit_id: str
    action: PermitAction
    from_status: PermitStatus
    to_status: PermitStatus
    reason: str
    at: datetime
    actor: str
    old_plate: str | None = None
    new_plate: str | None = None


@dataclass(frozen=True, slots=True)
class TransitionResult:
    permit: Permit
    record: TransitionRecord


def allowed_actions(status: PermitStatus) -> tuple[PermitAction, ...]:
    """Actions allowed from ``status``, in declaration order."""
    return tuple(TRANSITIONS[status])


def _target(permit: Permit, action: PermitAction) -> PermitStatus:
    target = TRANSITIONS[permit.status].get(action)
    if target is None:
        raise InvalidTransitionError(
            permit.id,
            permit.status.value,
            str(action),
            tuple(a.value for a in allowed_actions(permit.status)),
        )
    return target


def _require_reason_and_actor(reason: str, actor: str, at: datetime) -> None:
    if not reason or not reason.strip():
        raise InvalidPermitError("reason", reason, "every transition needs a reason")
    if not actor or not actor.strip():
        raise InvalidPermitError("actor", actor, "every transition needs an actor")
    require_aware("at", at)


def transition(
    permit: Permit, action: PermitAction, reason: str, at: datetime, actor: str
) -> TransitionResult:
    """Apply ``action`` to ``permit``. Use ``change_plate`` for plate changes."""
    if not isinstance(action, PermitAction):
        raise InvalidPermitError(
            "action", action, f"allowed: {', '.join(a.value for a in PermitAction)}"
        )
    if action is PermitAction.CHANGE_PLATE:
        raise InvalidPermitError(
            "action", action.value, "a plate change needs the old and new plate; call change_plate"
        )
    _require_reason_and_actor(reason, actor, at)
    target = _target(permit, action)
    new_permit = replace(permit, status=target)
    record = TransitionRecord(permit.id, action, permit.status, target, reason, at, actor)
    return TransitionResult(new_permit, record)


def change_plate(
    permit: Permit, old_plate: str, new_plate: str, *, reason: str, at: datetime, actor: str
) -> TransitionResult:
    """Move an active permit from ``old_plate`` to ``new_plate`` at ``at``.

    The old plate's registration ends at ``at`` and the new plate's starts at ``at``; both
    periods stay on the permit (and so both rights stay in the record).
    """
    _require_reason_and_actor(reason, actor, at)
    target = _target(permit, PermitAction.CHANGE_PLATE)
    old = normalise_plate(old_plate)
    new = normalise_plate(new_plate)
    open_plates = permit.open_plates
    if old not in open_plates:
        raise InvalidPermitError(
            "old_plate",
            old,
            f"not a current plate of permit {permit.id!r}; current: "
            f"{', '.join(sorted(open_plates)) or 'none'}",
        )
    if new in open_plates:
        raise InvalidPermitError(
            "new_plate", new, f"already a current plate of permit {permit.id!r}"
        )
    periods: list[PlatePeriod] = []
    for period in permit.plate_periods:
        if period.plate == old and period.end is None:
            if at < period.start:
                raise InvalidPermitError(
                    "at", at, f"the change must not precede the plate's start {period.start}"
                )
            periods.append(replace(period, end=at))
        else:
            periods.append(period)
    periods.append(PlatePeriod(new, at, None))
    new_permit = replace(permit, plate_periods=tuple(periods), status=target)
    record = TransitionRecord(
        permit.id, PermitAction.CHANGE_PLATE, permit.status, target, reason, at, actor, old, new
    )
    return TransitionResult(new_permit, record)


def is_past_validity(permit: Permit, at: datetime) -> bool:
    """True when the permit's validity ended before ``at`` (a permit still counts at exactly
    its ``valid_to``, like its rights)."""
    require_aware("at", at)
    return permit.valid_to is not None and permit.valid_to < at


def is_due_to_expire(permit: Permit, at: datetime) -> bool:
    """True when the permit could still be used but its validity ended before ``at``."""
    require_aware("at", at)
    return PermitAction.EXPIRE in TRANSITIONS[permit.status] and is_past_validity(permit, at)


def expire_if_due(permit: Permit, at: datetime, actor: str) -> TransitionResult | None:
    """The expiry rule (verlopen), applied by the backend's background job.

    - A granted, active or suspended permit whose ``valid_to`` lies before ``at`` expires
      (its rights ended at ``valid_to`` already; the status makes lists, quota counts and the
      waiting list see it, and frees its quota place).
    - A waitlisted application whose ``valid_to`` lies before ``at`` is refused: no place
      became free in time, and granting it now would hand out a dead permit.
    - Anything else is left alone (None): permits without an end or still valid, final
      permits, and applications that are applied or in review (the back office decides them).

    The reason names the end of the validity in UTC.
    """
    if permit.valid_to is None or not is_past_validity(permit, at):
        return None
    ended = permit.valid_to.astimezone(UTC).isoformat(timespec="seconds")
    if is_due_to_expire(permit, at):
        return transition(permit, PermitAction.EXPIRE, f"validity ended at {ended}", at, actor)
    if permit.status is PermitStatus.WAITLISTED:
        return transition(
            permit,
            PermitAction.REFUSE,
            f"validity ended at {ended} before a place became free",
            at,
            actor,
        )
    return None
