"""Zones back to a zone file (adapter): the canonical ``properties`` of a zone and a
FeatureCollection of zones, as the backend serves them to the cars and the pages."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import shapely

from zones.crs import (
    WGS84,
    normalise_crs,
    transform_geometry,
)
from zones.model import (
    DayType,
    TimeWindow,
    Zone,
)

ALL_DAYS: tuple[DayType, ...] = tuple(DayType)


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def window_to_json(window: TimeWindow) -> dict[str, Any]:
    out: dict[str, Any] = {
        "days": [d.value for d in ALL_DAYS if d in window.days],
        "start": window.start,
        "end": window.end,
        "tariff_cents_per_hour": _number(window.tariff_cents_per_hour),
        "step_minutes": window.step_minutes,
    }
    if window.max_stay_minutes is not None:
        out["max_stay_minutes"] = window.max_stay_minutes
    return out


def _round_coords(value: Any, digits: int | None) -> Any:
    if isinstance(value, list | tuple):
        return [_round_coords(v, digits) for v in value]
    return value if digits is None else round(value, digits)


def zone_properties(zone: Zone) -> dict[str, Any]:
    """The zone file `properties` of `zone` (canonical form)."""
    return {
        "name": zone.name,
        "kind": zone.kind.value,
        "area_code": zone.area_code,
        "priority": zone.priority,
        "schedule": [window_to_json(w) for w in zone.schedule],
        "holidays": zone.holidays.value,
        "holiday_dates": (
            sorted(d.isoformat() for d in zone.holiday_dates)
            if zone.holiday_dates is not None
            else None
        ),
        "max_stay_minutes": zone.max_stay_minutes,
        "grace_minutes": zone.grace_minutes,
        "fine_track": zone.fine_track.value,
        "remote_enforcement_allowed": zone.remote_enforcement_allowed,
        "permit_types": list(zone.permit_types),
    }


def zones_to_geojson(
    zones: tuple[Zone, ...] | list[Zone], crs: str | None = None, digits: int | None = None
) -> dict[str, Any]:
    """A FeatureCollection of `zones` that `load_feature_collection` reads back unchanged.

    WGS84 by default; `crs="EPSG:28992"` writes RD New with the legacy `crs` member.
    `digits` rounds coordinates (7 for degrees is ~1 cm, 3 for RD metres is 1 mm).
    """
    target = normalise_crs(crs) if crs is not None else WGS84
    features = []
    for zone in zones:
        geometry = (
            zone.geometry if target == WGS84 else transform_geometry(zone.geometry, WGS84, target)
        )
        mapped = shapely.geometry.mapping(geometry)
        features.append(
            {
                "type": "Feature",
                "id": zone.id,
                "properties": zone_properties(zone),
                "geometry": {
                    "type": mapped["type"],
                    "coordinates": _round_coords(mapped["coordinates"], digits),
                },
            }
        )
    doc: dict[str, Any] = {"type": "FeatureCollection"}
    if target != WGS84:
        epsg = target.split(":")[1]
        doc["crs"] = {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{epsg}"}}
    doc["features"] = features
    return doc
