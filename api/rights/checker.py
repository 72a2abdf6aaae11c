"""The rights check in the backend: zone rules from the zone catalog, then
``permits.service.check`` over ``SqlRightsRepository``.

``DbRightsChecker`` implements the review service's ``RightsChecker`` port. The
``/rights/check`` route plans a check (``plan_check``: the zone at the point and the rights to
read), reads those rights in one statement and decides (``conclude_check``); the reading is
the route's own, on a worker thread or on the event loop.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from api.review.ports import RightsResult
from api.rights.repository import fetch_rights
from api.zones.service import ZoneCatalog, ZoneSet
from permits.model import Decision, PermitType, Right
from permits.plates import lookalike_variants, normalise_plate
from permits.service import check
from zones import Zone

# An area code no right carries: outside every zone only city-wide rights match.
NO_AREA = "-"
_PERMIT_TYPES = {t.value: t for t in PermitType}


@dataclass(frozen=True, slots=True)
class ZoneRightsRules:
    """What the decision needs from a zone (or from no zone)."""

    area_code: str
    grace_minutes: int
    allowed_permit_types: frozenset[PermitType] | None


def rules_for_zone(zone: Zone | None, default_grace_minutes: int) -> ZoneRightsRules:
    """A zone's area code, grace period and accepted permit types.

    A zone without ``permit_types`` restricts nothing beyond the rights' own area codes
    (``None``); unknown type names in the zone file are ignored.
    """
    if zone is None:
        return ZoneRightsRules(NO_AREA, default_grace_minutes, None)
    types = frozenset(_PERMIT_TYPES[t] for t in zone.permit_types if t in _PERMIT_TYPES)
    return ZoneRightsRules(zone.area_code, zone.grace_minutes, types if zone.permit_types else None)


@dataclass(frozen=True, slots=True)
class PointCheck:
    decision: Decision
    zone: Zone | None
    zone_version: int


class RecentZoneSet:
    """The catalog's current zone set, re-checked at most every ``max_age_s`` seconds (the
    version query costs as much as the rights lookup itself). A new zone version therefore
    reaches ``/rights/check`` within ``max_age_s``."""

    def __init__(self, catalog: ZoneCatalog, engine: Engine, max_age_s: float = 1.0) -> None:
        self.catalog = catalog
        self.engine = engine
        self.max_age_s = max_age_s
        self._zone_set: ZoneSet | None = None
        self._checked = 0.0

    def fresh(self) -> ZoneSet | None:
        """The zone set if it was checked within ``max_age_s``, else ``None`` (no I/O)."""
        if self._zone_set is None or time.monotonic() - self._checked > self.max_age_s:
            return None
        return self._zone_set

    def current(self) -> ZoneSet:
        """The zone set, re-read from the database when it is not ``fresh``."""
        zone_set = self.fresh()
        if zone_set is None:
            with Session(self.engine) as session:
                zone_set = self._zone_set = self.catalog.current(session)
            self._checked = time.monotonic()
        return zone_set


@dataclass(frozen=True, slots=True)
class CheckPlan:
    """One check before its rights are read: the zone at the point and its rules, and what
    to read: the rights of ``plates`` (the plate and its look-alikes) overlapping
    [``start``, ``end``], the check time and the end of the grace period."""

    plate: str
    at: datetime
    grace_minutes: int
    zone: Zone | None
    zone_version: int
    rules: ZoneRightsRules
    plates: tuple[str, ...]
    start: datetime
    end: datetime


def plan_for_zone(
    zone: Zone | None,
    zone_version: int,
    rules: ZoneRightsRules,
    plate: str,
    at: datetime,
    grace_minutes: int,
) -> CheckPlan:
    """What to read to check ``plate`` (any spelling) in ``zone`` at ``at``."""
    plate = normalise_plate(plate)
    plates = tuple(sorted({plate} | lookalike_variants(plate)))
    end = at + timedelta(minutes=grace_minutes)
    return CheckPlan(plate, at, grace_minutes, zone, zone_version, rules, plates, at, end)


def plan_check(
    zone_set: ZoneSet, plate: str, lon: float, lat: float, at: datetime, default_grace_minutes: int
) -> CheckPlan:
    """Locate the zone at (lon, lat): what to read to check ``plate`` there, with the zone's
    own grace period."""
    zone = zone_set.index.locate(lon, lat)
    rules = rules_for_zone(zone, default_grace_minutes)
    return plan_for_zone(zone, zone_set.version, rules, plate, at, rules.grace_minutes)


class PlannedRights:
    """A ``RightsRepository`` over the rights a ``CheckPlan`` said to read. ``check`` asks only
    for plates and a window the plan covers; anything else is a programming error, raised,
    never answered from rights that were not read."""

    def __init__(self, plan: CheckPlan, rights: Sequence[Right]) -> None:
        self._plan = plan
        self._by_plate: dict[str, list[Right]] = {p: [] for p in plan.plates}
        for right in rights:
            self._by_plate[right.plate_key].append(right)

    def rights_for_plates(
        self, plate_keys: Collection[str], area_code: str, start: datetime, end: datetime
    ) -> Sequence[Right]:
        plan = self._plan
        if (start, end) != (plan.start, plan.end) or not set(plate_keys) <= self._by_plate.keys():
            raise LookupError(
                f"the plan read {len(plan.plates)} plates over {plan.start}..{plan.end}; "
                f"asked for {sorted(plate_keys)} over {start}..{end}"
            )
        return [r for k in plate_keys for r in self._by_plate[k] if r.covers_area(area_code)]


def conclude_check(plan: CheckPlan, rights: Sequence[Right]) -> PointCheck:
    """The decision, from the rights read for ``plan`` (its ``plates`` over its window)."""
    decision = check(
        PlannedRights(plan, rights),
        plan.plate,
        plan.rules.area_code,
        plan.at,
        plan.grace_minutes,
        allowed_permit_types=plan.rules.allowed_permit_types,
    )
    return PointCheck(decision, plan.zone, plan.zone_version)


class DbRightsChecker:
    """``api.review.ports.RightsChecker`` over the SQL rights and the zone catalog."""

    def __init__(self, catalog: ZoneCatalog, default_grace_minutes: int = 10) -> None:
        self.catalog = catalog
        self.default_grace_minutes = default_grace_minutes

    def check(
        self, session: Session, *, plate: str, zone_id: str | None, at: datetime, grace_minutes: int
    ) -> RightsResult:
        zone = self.catalog.zone(session, zone_id)
        rules = rules_for_zone(zone, self.default_grace_minutes)
        plan = plan_for_zone(zone, 0, rules, plate, at, grace_minutes)
        rights = fetch_rights(session.connection(), plan.plates, plan.start, plan.end)
        decision = conclude_check(plan, rights).decision
        return RightsResult(
            allowed=decision.allowed,
            reason=decision.reason.value,
            right_id=decision.right_id,
            valid_until=decision.valid_until,
        )
