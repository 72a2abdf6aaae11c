"""The bounding box of the nearest-first search holds the whole circle it stands for, so no
hit outside it can be nearer than its radius (pure geometry, no database)."""

from __future__ import annotations

import math
import sqlite3

import pytest

from api.db import _sqlite_pragmas
from api.hits.nearest import box_around
from api.review.rules import EARTH_RADIUS_M


def _destination(lon: float, lat: float, bearing_deg: float, metres: float) -> tuple[float, float]:
    """The point ``metres`` from (lon, lat) along a great circle starting at the bearing."""
    d, b = metres / EARTH_RADIUS_M, math.radians(bearing_deg)
    p1, l1 = math.radians(lat), math.radians(lon)
    p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(b))
    l2 = l1 + math.atan2(
        math.sin(b) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2)
    )
    return math.degrees(l2), math.degrees(p2)


@pytest.mark.parametrize(
    ("lon", "lat"), [(5.12, 52.09), (0.0, 0.0), (-70.6, -33.4), (25.0, 79.9), (179.99, 10.0)]
)
@pytest.mark.parametrize("radius", [250.0, 64_000.0, 2_000_000.0])
def test_box_around_holds_the_whole_circle(lon, lat, radius):
    box = box_around(lon, lat, radius)
    for k in range(720):
        x, y = _destination(lon, lat, k / 2, radius * (1 - 1e-9))
        assert box.min_lat <= y <= box.max_lat
        if box.min_lon is not None and box.max_lon is not None:
            assert box.min_lon <= x <= box.max_lon, (k, x)


def test_box_around_is_tight_in_the_netherlands():
    box = box_around(5.12, 52.09, 1_000.0)
    assert box.min_lon is not None
    assert box.max_lon is not None
    # 1 km is 0.00899 degrees of latitude and 0.0146 of longitude at 52 degrees north
    assert box.max_lat - box.min_lat == pytest.approx(2 * 0.008993, rel=1e-3)
    assert box.max_lon - box.min_lon == pytest.approx(2 * 0.014637, rel=1e-3)


def test_box_around_takes_every_longitude_near_a_pole_or_the_antimeridian():
    assert box_around(0.0, 89.99, 5_000.0).min_lon is None
    assert box_around(179.999, 10.0, 1_000.0).min_lon is None


class _NoMathCursor:
    def execute(self, sql: str) -> None:
        if "sin(" in sql:
            raise sqlite3.OperationalError("no such function: sin")

    def close(self) -> None:
        pass


class _NoMathConnection:
    """An SQLite connection of a build without the math functions."""

    def __init__(self) -> None:
        self.functions: dict[str, object] = {}

    def cursor(self) -> _NoMathCursor:
        return _NoMathCursor()

    def create_function(self, name: str, n: int, fn: object, *, deterministic: bool) -> None:
        assert (n, deterministic) == (1, True)
        self.functions[name] = fn


def test_sqlite_without_math_functions_gets_sin_and_cos():
    conn = _NoMathConnection()
    _sqlite_pragmas(conn, None)
    assert conn.functions == {"sin": math.sin, "cos": math.cos}
