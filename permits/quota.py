"""Per-area permit quota with a FIFO waiting list (wachtlijst).

``AreaQuota`` is an immutable value: the backend loads it (capacity, holders, waiting entries
in order), calls ``review_application`` / ``release_place`` / ``withdraw`` and stores the
result together with the permits and transition records those return.

Holders are the permits that occupy a place (granted, active or suspended). A place is freed
by revocation, expiry or a withdrawn grant; the backend calls ``release_place`` then, which
grants the first waiting applications while places are free.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from permits.errors import QuotaError
from permits.lifecycle import PermitAction, TransitionResult, transition
from permits.model import Permit, PermitStatus, PermitType


@dataclass(frozen=True, slots=True)
class WaitingEntry:
    permit_id: str
    since: datetime


@dataclass(frozen=True, slots=True)
class AreaQuota:
    area_code: str
    capacity: int
    holders: frozenset[str] = frozenset()
    waiting: tuple[WaitingEntry, ...] = ()
    permit_types: frozenset[PermitType] = field(
        default_factory=lambda: frozenset({PermitType.RESIDENT})
    )

    def __post_init__(self) -> None:
        if self.capacity < 0:
            raise QuotaError(
                f"area {self.area_code!r}: capacity must be 0 or more, got {self.capacity}"
            )
        waiting_ids = [e.permit_id for e in self.waiting]
        if len(set(waiting_ids)) != len(waiting_ids) or self.holders & set(waiting_ids):
            raise QuotaError(
                f"area {self.area_code!r}: a permit is on the waiting list twice or both holds "
                "a place and waits"
            )

    @property
    def free_places(self) -> int:
        return max(0, self.capacity - len(self.holders))

    @property
    def has_free_place(self) -> bool:
        return self.free_places > 0

    def position(self, permit_id: str) -> int | None:
        """1-based position on the waiting list, or None when not waiting."""
        for i, entry in enumerate(self.waiting, start=1):
            if entry.permit_id == permit_id:
                return i
        return None


@dataclass(frozen=True, slots=True)
class ReviewOutcome:
    """The reviewed permit (granted or waitlisted), the new quota and the transition made."""

    quota: AreaQuota
    result: TransitionResult
    position: int | None  # waiting-list position when waitlisted


@dataclass(frozen=True, slots=True)
class ReleaseOutcome:
    quota: AreaQuota
    granted: tuple[TransitionResult, ...]


def _require_applies(quota: AreaQuota, permit: Permit) -> None:
    if permit.type not in quota.permit_types:
        raise QuotaError(
            f"permit {permit.id!r} is a {permit.type.value} permit; the quota of area "
            f"{quota.area_code!r} covers only {', '.join(sorted(quota.permit_types))}"
        )
    if quota.area_code not in permit.area_codes:
        raise QuotaError(
            f"permit {permit.id!r} is for areas {', '.join(sorted(permit.area_codes))}, not for "
            f"area {quota.area_code!r}"
        )


def review_application(quota: AreaQuota, permit: Permit, at: datetime, actor: str) -> ReviewOutcome:
    """Grant an in-review application when the area has a free place, else put it on the list.

    The caller refuses applications on their merits with ``lifecycle.transition`` instead.
    """
    _require_applies(quota, permit)
    if quota.has_free_place and not quota.waiting:
        result = transition(
            permit, PermitAction.GRANT, f"place free in area {quota.area_code}", at, actor
        )
        return ReviewOutcome(replace(quota, holders=quota.holders | {permit.id}), result, None)
    result = transition(
        permit,
        PermitAction.WAITLIST,
        f"area {quota.area_code} is full ({quota.capacity} places)",
        at,
        actor,
    )
    new_quota = replace(quota, waiting=(*quota.waiting, WaitingEntry(permit.id, at)))
    return ReviewOutcome(new_quota, result, new_quota.position(permit.id))


def release_place(
    quota: AreaQuota,
    permit_id: str,
    waiting_permits: Mapping[str, Permit],
    at: datetime,
    actor: str,
) -> ReleaseOutcome:
    """Free ``permit_id``'s place and grant waiting applications in FIFO order.

    ``waiting_permits`` must hold every waiting permit (the backend loads them by id).
    """
    if permit_id not in quota.holders:
        raise QuotaError(
            f"permit {permit_id!r} holds no place in area {quota.area_code!r}; holders: "
            f"{', '.join(sorted(quota.holders)) or 'none'}"
        )
    holders = set(quota.holders - {permit_id})
    waiting = list(quota.waiting)
    granted: list[TransitionResult] = []
    while waiting and len(holders) < quota.capacity:
        entry = waiting.pop(0)
        permit = waiting_permits.get(entry.permit_id)
        if permit is None or permit.status is not PermitStatus.WAITLISTED:
            raise QuotaError(
                f"waiting permit {entry.permit_id!r} of area {quota.area_code!r} is missing or "
                f"not waitlisted (status: {permit.status.value if permit else 'missing'})"
            )
        granted.append(
            transition(
                permit,
                PermitAction.GRANT,
                f"place freed in area {quota.area_code} (by {permit_id}); first on waiting list",
                at,
                actor,
            )
        )
        holders.add(entry.permit_id)
    return ReleaseOutcome(
        replace(quota, holders=frozenset(holders), waiting=tuple(waiting)), tuple(granted)
    )


def withdraw(quota: AreaQuota, permit_id: str) -> AreaQuota:
    """Take a (refused or withdrawn) application off the waiting list."""
    if quota.position(permit_id) is None:
        raise QuotaError(f"permit {permit_id!r} is not on the waiting list of {quota.area_code!r}")
    return replace(quota, waiting=tuple(e for e in quota.waiting if e.permit_id != permit_id))
