"""The rights check in the backend: zone rules from the zone catalog, then
``permits.service.check`` over ``SqlRightsRepository``.

``DbRightsChecker`` implements the review service's ``RightsChecker`` port; the
``/rights/check`` route calls ``check_at_point``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session

from api.review.ports import RightsResult
from api.rights.repository import fetch_rights
from api.zones.service import ZoneCatalog, ZoneSet
from permits.model import Decision, PermitType, Right
from permits.plates import lookalike_variants
from permits.service import check
from zones import Zone

# An area code no right carries: outside every zone only city-wide rights match.
NO_AREA = "-"
# the rights of some plates overlapping [start, end]: ``repository.fetch_rights`` on a
# SQLAlchemy connection, or ``check_sql.CheckSql.rights`` on the driver's
FetchRights = Callable[[Sequence[str], datetime, datetime], list[Right]]
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


class PrefetchingRights:
    """A ``RightsRepository`` for one check: the first lookup also fetches the look-alike
    variants' rights (one query instead of two); ``permits.service.check`` asks for them only
    when the plate itself has no right, and then gets them from memory."""

    def __init__(self, fetch: FetchRights) -> None:
        self._fetch = fetch
        self._found: dict[str, list[Right]] | None = None
        self._window: tuple[datetime, datetime] | None = None

    def rights_for_plates(
        self, plate_keys: Collection[str], area_code: str, start: datetime, end: datetime
    ) -> Sequence[Right]:
        keys = set(plate_keys)
        if self._found is None or self._window != (start, end):
            wanted = set(keys)
            for key in keys:
                wanted |= lookalike_variants(key)
            self._found = {key: [] for key in wanted}
            self._window = (start, end)
            for right in self._fetch(sorted(wanted), start, end):
                self._found[right.plate_key].append(right)
        if not keys <= self._found.keys():
            rights = self._fetch(sorted(keys), start, end)
            return [r for r in rights if r.covers_area(area_code)]
        return [r for k in keys for r in self._found[k] if r.covers_area(area_code)]


def decide_for_zone(
    fetch: FetchRights, plate: str, rules: ZoneRightsRules, at: datetime, grace_minutes: int
) -> Decision:
    return check(
        PrefetchingRights(fetch),
        plate,
        rules.area_code,
        at,
        grace_minutes,
        allowed_permit_types=rules.allowed_permit_types,
    )


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

    def current(self) -> ZoneSet:
        now = time.monotonic()
        if self._zone_set is None or now - self._checked > self.max_age_s:
            with Session(self.engine) as session:
                self._zone_set = self.catalog.current(session)
            self._checked = now
        return self._zone_set


def check_at_point(
    zone_set: ZoneSet,
    fetch: FetchRights,
    plate: str,
    lon: float,
    lat: float,
    at: datetime,
    default_grace_minutes: int,
) -> PointCheck:
    """Locate the zone at (lon, lat) and decide with its area code, grace and permit types."""
    zone = zone_set.index.locate(lon, lat)
    rules = rules_for_zone(zone, default_grace_minutes)
    decision = decide_for_zone(fetch, plate, rules, at, rules.grace_minutes)
    return PointCheck(decision, zone, zone_set.version)


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
        conn = session.connection()

        def fetch(plates: Sequence[str], start: datetime, end: datetime) -> list[Right]:
            return fetch_rights(conn, plates, start, end)

        decision = decide_for_zone(fetch, plate, rules, at, grace_minutes)
        return RightsResult(
            allowed=decision.allowed,
            reason=decision.reason.value,
            right_id=decision.right_id,
            valid_until=decision.valid_until,
        )
