"""Parking zones with their rules, and fast point-in-zone lookup.

Core (stdlib + shapely + pydantic only): `zones.model`, `zones.rules`, `zones.index`,
`zones.geo`, `zones.errors`. Adapters: `zones.geojson` (zone files), `zones.crs` (pyproj),
`zones.npr` (RDW / NPR open data). See docs/zones.md.
"""

from zones.errors import NaiveDatetimeError, Notice, Problem, ZoneFileError, ZonesError
from zones.index import LocateResult, ZoneIndex
from zones.model import DayType, FineTrack, HolidayPolicy, TimeWindow, Zone, ZoneKind
from zones.rules import (
    Regulation,
    dutch_public_holidays,
    is_holiday,
    parking_fee_cents,
    regulation_at,
)

__all__ = [
    "DayType",
    "FineTrack",
    "HolidayPolicy",
    "LocateResult",
    "NaiveDatetimeError",
    "Notice",
    "Problem",
    "Regulation",
    "TimeWindow",
    "Zone",
    "ZoneFileError",
    "ZoneIndex",
    "ZoneKind",
    "ZonesError",
    "dutch_public_holidays",
    "is_holiday",
    "parking_fee_cents",
    "regulation_at",
]
