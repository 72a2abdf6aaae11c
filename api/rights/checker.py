"""The rights check in the backend: zone rules from the zone catalog, then
``permits.service.check`` over ``SqlRightsRepository``.

``DbRightsChecker`` implements the review service's ``RightsChecker`` port; the
``/rights/check`` route calls ``check_at_point``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from api.review.ports import RightsResult
from api.rights.repository import SqlRightsRepository
from api.zones.service import ZoneCatalog
from permits.model import Decision, PermitType
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


def decide_for_zone(
    session: Session, plate: str, rules: ZoneRightsRules, at: datetime, grace_minutes: int
) -> Decision:
    return check(
        SqlRightsRepository(session),
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


def check_at_point(
    session: Session,
    catalog: ZoneCatalog,
    plate: str,
    lon: float,
    lat: float,
    at: datetime,
    default_grace_minutes: int,
) -> PointCheck:
    """Locate the zone at (lon, lat) and decide with its area code, grace and permit types."""
    zone_set = catalog.current(session)
    zone = zone_set.index.locate(lon, lat)
    rules = rules_for_zone(zone, default_grace_minutes)
    decision = decide_for_zone(session, plate, rules, at, rules.grace_minutes)
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
        decision = decide_for_zone(session, plate, rules, at, grace_minutes)
        return RightsResult(
            allowed=decision.allowed,
            reason=decision.reason.value,
            right_id=decision.right_id,
            valid_until=decision.valid_until,
        )
