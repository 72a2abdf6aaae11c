"""Nearest first, in SQL, over every hit that matches (both databases).

The database orders the hits by the haversine's ``a`` term (``sin²(Δφ/2) + cos φ1 cos φ2
sin²(Δλ/2)``, which grows with the great-circle distance), with ``sin``/``cos`` that
PostgreSQL and SQLite both evaluate. A bounding box around the point keeps each query on the
index ``(status, lat, lon)`` and to the hits near the point: the box grows (250 m, 1 km, 4 km,
16 km, 64 km, then no box) until it holds the N nearest and the N-th of them is no farther
than the box's inner radius. Every hit outside the box is farther than that radius, so the
answer is exactly the N nearest of all matching hits, however many there are; a tablet in a
busy district reads a few hundred index entries.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from api.hits.db import HitRow
from api.review.rules import EARTH_RADIUS_M

RADII_M = (250.0, 1_000.0, 4_000.0, 16_000.0, 64_000.0)  # then no box
DEG = math.pi / 180


@dataclass(frozen=True, slots=True)
class Box:
    """Everything within ``radius_m`` of a point lies inside; lon bounds None: all longitudes."""

    radius_m: float
    min_lat: float
    max_lat: float
    min_lon: float | None
    max_lon: float | None


def box_around(lon: float, lat: float, radius_m: float) -> Box:
    """The smallest lat/lon box holding the circle of ``radius_m`` around (lon, lat) on the
    sphere (the longitude half-width is ``asin(sin d / cos φ)``, the widest point of the circle,
    not its width at the centre's latitude)."""
    d = radius_m / EARTH_RADIUS_M
    dlat = math.degrees(d)
    min_lat, max_lat = lat - dlat, lat + dlat
    spread = math.sin(d) / max(math.cos(lat * DEG), 1e-12)
    if max_lat >= 90 or min_lat <= -90 or spread >= 1:  # a pole inside: every longitude
        return Box(radius_m, min_lat, max_lat, None, None)
    dlon = math.degrees(math.asin(spread))
    if lon - dlon < -180 or lon + dlon > 180:  # across the antimeridian: every longitude
        return Box(radius_m, min_lat, max_lat, None, None)
    return Box(radius_m, min_lat, max_lat, lon - dlon, lon + dlon)


def _inside(box: Box) -> list[Any]:
    conds: list[Any] = [col(HitRow.lat).between(box.min_lat, box.max_lat)]
    if box.min_lon is not None and box.max_lon is not None:
        conds.append(col(HitRow.lon).between(box.min_lon, box.max_lon))
    return conds


def haversine_a(lon: float, lat: float) -> Any:
    """SQL for the haversine ``a`` between each hit and (lon, lat): 0 here, 1 at the antipode."""
    hit_lat, hit_lon = col(HitRow.lat), col(HitRow.lon)
    s_lat = func.sin((hit_lat - lat) * (DEG / 2))
    s_lon = func.sin((hit_lon - lon) * (DEG / 2))
    return s_lat * s_lat + math.cos(lat * DEG) * func.cos(hit_lat * DEG) * s_lon * s_lon


def metres(a: float) -> float:
    """The great-circle distance for a haversine ``a``."""
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, max(0.0, a))))


def nearest_hits(
    session: Session,
    where: Sequence[Any],
    lon: float,
    lat: float,
    *,
    limit: int,
    offset: int = 0,
) -> list[tuple[HitRow, float]]:
    """The hits matching ``where``, nearest to (lon, lat) first (ties by id): rows ``offset`` to
    ``offset + limit`` with their distance in metres."""
    want = offset + limit
    a = haversine_a(lon, lat)
    stmt = select(HitRow, a).where(*where).order_by(a, col(HitRow.id)).limit(want)
    for radius in RADII_M:
        rows = session.exec(stmt.where(*_inside(box_around(lon, lat, radius)))).all()
        if len(rows) == want and metres(rows[-1][1]) <= radius:
            break
    else:
        rows = session.exec(stmt).all()
    return [(hit, metres(av)) for hit, av in rows[offset:]]
