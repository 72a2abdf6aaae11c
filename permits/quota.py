"""Per-area permit quota with a FIFO waiting list (wachtlijst).

``AreaQuota`` is an immutable value: the backend loads it (capacity, holders, waiting entries
in order), calls ``review_application`` / ``release_place`` / ``withdraw`` and stores the
result together with the permits and transition records those return.

Holders are the permits that occupy a place (granted, active or suspended). A permit holds
one place: in its *quota area*, the first of its areas (by code) whose quota covers its type
(``quota_area_for``). A place is freed by revocation, expiry, a withdrawn grant or an area
change; the backend calls ``release_place`` then, which grants the first waiting applications
while places are free. An application whose validity has ended is never granted: it is skipped
(and the expiry step refuses it).

``plan_area_change`` is the rule for changing a permit's areas and ``place_loaded_permits`` the
rule for a first load (CSV import) of existing permits.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from permits.errors import AreaQuotaFullError, QuotaError
from permits.lifecycle import PermitAction, TransitionResult, is_past_validity, transition
from permits.model import Permit, PermitStatus, PermitType

HOLDER_STATUSES: frozenset[PermitStatus] = frozenset(
    {PermitStatus.GRANTED, PermitStatus.ACTIVE, PermitStatus.SUSPENDED}
)


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

    @property
    def is_open(self) -> bool:
        """A new holder may take a place: one is free and nobody waits for it."""
        return self.has_free_place and not self.waiting

    def covers(self, permit_type: PermitType) -> bool:
        return permit_type in self.permit_types

    def require_open(self, what: str) -> None:
        """Raise ``AreaQuotaFullError`` (naming the area, its quota and ``what`` was refused)
        unless a new holder may take a place."""
        if not self.is_open:
            raise AreaQuotaFullError(
                self.area_code, self.capacity, len(self.holders), len(self.waiting), what
            )

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
    freed = replace(quota, holders=quota.holders - {permit_id})
    return fill_places(
        freed,
        waiting_permits,
        at,
        actor,
        why=f"place freed in area {quota.area_code} (by {permit_id})",
    )


def fill_places(
    quota: AreaQuota,
    waiting_permits: Mapping[str, Permit],
    at: datetime,
    actor: str,
    *,
    why: str,
) -> ReleaseOutcome:
    """Grant waiting applications in FIFO order while places are free (after a release or a
    raised capacity; ``why`` starts the reason of each grant).

    An application whose validity ended before ``at`` is passed over: it keeps its position
    (granting it would hand out a dead permit) until the expiry step refuses it.
    """
    holders = set(quota.holders)
    remaining: list[WaitingEntry] = []
    granted: list[TransitionResult] = []
    for entry in quota.waiting:
        if len(holders) >= quota.capacity:
            remaining.append(entry)
            continue
        permit = waiting_permits.get(entry.permit_id)
        if permit is None or permit.status is not PermitStatus.WAITLISTED:
            raise QuotaError(
                f"waiting permit {entry.permit_id!r} of area {quota.area_code!r} is missing or "
                f"not waitlisted (status: {permit.status.value if permit else 'missing'})"
            )
        if is_past_validity(permit, at):
            remaining.append(entry)
            continue
        granted.append(
            transition(permit, PermitAction.GRANT, f"{why}; first on waiting list", at, actor)
        )
        holders.add(entry.permit_id)
    return ReleaseOutcome(
        replace(quota, holders=frozenset(holders), waiting=tuple(remaining)), tuple(granted)
    )


def withdraw(quota: AreaQuota, permit_id: str) -> AreaQuota:
    """Take a (refused or withdrawn) application off the waiting list."""
    if quota.position(permit_id) is None:
        raise QuotaError(f"permit {permit_id!r} is not on the waiting list of {quota.area_code!r}")
    return replace(quota, waiting=tuple(e for e in quota.waiting if e.permit_id != permit_id))


def quota_area_for(
    permit_type: PermitType, area_codes: Collection[str], quotas: Mapping[str, AreaQuota]
) -> str | None:
    """The area whose quota a permit of ``permit_type`` in ``area_codes`` counts against: the
    first of its areas (by code) with a quota covering its type, or None."""
    for code in sorted(area_codes):
        quota = quotas.get(code)
        if quota is not None and quota.covers(permit_type):
            return code
    return None


@dataclass(frozen=True, slots=True)
class AreaChange:
    """The quota side of changing a permit's areas: the area it holds a place in afterwards
    (None: no place) and the area whose place it gives up (None: nothing freed)."""

    place: str | None
    released: str | None


def plan_area_change(
    permit: Permit,
    new_area_codes: frozenset[str],
    quotas: Mapping[str, AreaQuota],
    *,
    held_area: str | None,
    waiting_area: str | None = None,
) -> AreaChange:
    """The rule for changing the areas of ``permit`` to ``new_area_codes``.

    ``quotas`` holds the quota of every old and new area that has one; ``held_area`` is the
    area the permit holds a place in, ``waiting_area`` the area whose waiting list it is on.

    - A holder (granted, active, suspended) is never extended into a full area: every added
      area whose quota covers its type must have a free place and nobody waiting
      (``AreaQuotaFullError`` otherwise).
    - It keeps its place while that area stays. Removing that area frees the place; the
      permit then needs a place in its next quota area (by code), which must be open too.
      A holder without a place (stored before its area got a quota) takes one only in an
      added area.
    - A waitlisted application must keep the area it waits in (``QuotaError``); applied and
      in-review applications are checked when they are decided; final permits hold nothing.
    """
    added = new_area_codes - permit.area_codes
    if permit.status in HOLDER_STATUSES:
        for code in sorted(added):
            quota = quotas.get(code)
            if quota is not None and quota.covers(permit.type):
                quota.require_open(
                    f"{permit.type.value} permit {permit.id!r} cannot be extended to it"
                )
        if held_area is not None and held_area in new_area_codes:
            return AreaChange(held_area, None)
        pool = new_area_codes if held_area is not None else added
        place = quota_area_for(permit.type, pool, quotas)
        if place is not None and place not in added:
            quotas[place].require_open(
                f"{permit.type.value} permit {permit.id!r} gives up its place in area "
                f"{held_area!r} and would need one in area {place!r}"
            )
        return AreaChange(place, held_area)
    if (
        permit.status is PermitStatus.WAITLISTED
        and waiting_area is not None
        and waiting_area not in new_area_codes
    ):
        raise QuotaError(
            f"permit {permit.id!r} waits for a place in area {waiting_area!r}; keep that area "
            "among its areas, or refuse the application and file a new one"
        )
    return AreaChange(None, None)


@dataclass(frozen=True, slots=True)
class OverQuotaPlace:
    """A loaded permit beyond its quota area's capacity: ``held_before`` places were held
    before the load and ``loaded_before`` by permits earlier in the load."""

    permit_id: str
    area_code: str
    capacity: int
    held_before: int
    loaded_before: int


@dataclass(frozen=True, slots=True)
class AreaLoad:
    """One quota area after a load: holders before and after, and its capacity."""

    area_code: str
    capacity: int
    held_before: int
    held_after: int

    @property
    def is_over(self) -> bool:
        return self.held_after > self.capacity


@dataclass(frozen=True, slots=True)
class LoadPlan:
    places: Mapping[str, str]  # permit id -> the area it holds a place in
    over_quota: tuple[OverQuotaPlace, ...]  # in load order
    areas: tuple[AreaLoad, ...]  # every quota area the load adds holders to, by code
    # waitlisted permit id -> the area whose waiting list it joins, in load order
    waiting: Mapping[str, str] = field(default_factory=dict)
    # waitlisted permits none of whose areas has a quota for their type: no list to wait on
    nothing_to_wait_for: tuple[str, ...] = ()

    @property
    def areas_over_quota(self) -> tuple[AreaLoad, ...]:
        return tuple(a for a in self.areas if a.is_over)


def place_loaded_permits(permits: Sequence[Permit], quotas: Mapping[str, AreaQuota]) -> LoadPlan:
    """A first load of existing permits (the municipality's truth): each holder (granted,
    active, suspended) takes a place in its quota area, in load order. The waiting list is
    not consulted (these permits were granted before); the loaded permits that do not fit in
    the capacity are listed in ``over_quota`` for the caller to refuse or to accept.

    A waitlisted permit joins the end of its quota area's waiting list, in load order (the
    order of the list it comes from); one with no quota area has nothing to wait for and is
    listed in ``nothing_to_wait_for``.
    """
    places: dict[str, str] = {}
    loaded: dict[str, int] = {}
    over: list[OverQuotaPlace] = []
    waiting: dict[str, str] = {}
    nothing: list[str] = []
    for permit in permits:
        if permit.status is PermitStatus.WAITLISTED:
            area = quota_area_for(permit.type, permit.area_codes, quotas)
            if area is None:
                nothing.append(permit.id)
            else:
                waiting[permit.id] = area
            continue
        if permit.status not in HOLDER_STATUSES:
            continue
        area = quota_area_for(permit.type, permit.area_codes, quotas)
        if area is None:
            continue
        quota = quotas[area]
        before = loaded.get(area, 0)
        if len(quota.holders) + before >= quota.capacity:
            over.append(OverQuotaPlace(permit.id, area, quota.capacity, len(quota.holders), before))
        places[permit.id] = area
        loaded[area] = before + 1
    areas = tuple(
        AreaLoad(code, quotas[code].capacity, len(quotas[code].holders), held)
        for code, held in sorted(
            (code, len(quotas[code].holders) + n) for code, n in loaded.items()
        )
    )
    return LoadPlan(places, tuple(over), areas, waiting, tuple(nothing))
