from __future__ import annotations

import math
import random
from datetime import UTC, datetime
from itertools import pairwise

import pytest
import shapely
from pyproj import Geod
from shapely import affinity
from shapely.geometry import MultiPolygon, Polygon, box

from fixtures.zones.make_town import town_zones
from zones.errors import InvalidZoneError
from zones.index import ZoneIndex
from zones.model import Zone, ZoneKind

LON0, LAT0, UNIT = 4.30, 52.00, 0.001  # test grid: 1 unit = 0.001 deg (~69 m east, ~111 m north)
GEOD = Geod(ellps="WGS84")


def at(x: float, y: float) -> tuple[float, float]:
    return LON0 + x * UNIT, LAT0 + y * UNIT


def rect(x0: float, y0: float, x1: float, y1: float) -> Polygon:
    return box(*at(x0, y0), *at(x1, y1))


def zone(zone_id: str, geometry: Polygon | MultiPolygon, priority: int = 0) -> Zone:
    return Zone(
        id=zone_id,
        name=zone_id.upper(),
        kind=ZoneKind.PAID,
        area_code=f"9999_{zone_id.upper()}",
        geometry=geometry,
        priority=priority,
    )


A = zone("a", Polygon(rect(0, 0, 10, 10).exterior.coords, [rect(4, 4, 6, 6).exterior.coords]))
B = zone("b", rect(8, 8, 12, 12), priority=1)  # overlaps A's north-east corner, outranks it
C = zone("c", rect(21, 1, 22, 2))  # small, inside D, same priority: smaller area wins
D = zone("d", rect(20, 0, 25, 5))
E = zone("e", MultiPolygon([rect(30, 0, 31, 1), rect(32, 0, 33, 1)]))
INDEX = ZoneIndex([A, B, C, D, E])


@pytest.mark.parametrize(
    ("x", "y", "expected"),
    [
        (1, 1, "a"),  # inside
        (5, 5, None),  # in A's hole
        (4, 5, "a"),  # on the hole's edge: edges count as inside
        (0, 5, "a"),  # on the outer edge
        (10, 5, "a"),
        (-0.01, 5, None),  # just outside
        (9, 9, "b"),  # overlap: higher priority
        (11, 11, "b"),
        (8, 9, "b"),  # on B's edge inside A: B outranks
        (21.5, 1.5, "c"),  # tie on priority: the smaller area
        (24, 4, "d"),
        (30.5, 0.5, "e"),  # multipolygon parts
        (31.5, 0.5, None),  # between the parts
        (32.5, 0.5, "e"),
        (15, 15, None),
        (100, 100, None),  # outside the index's bounding box
        (-100, -100, None),
    ],
)
def test_locate_table(x: float, y: float, expected: str | None) -> None:
    found = INDEX.locate(*at(x, y))
    assert (found.id if found else None) == expected
    naive = INDEX.locate_naive(*at(x, y))
    assert (naive.id if naive else None) == expected


def test_locate_on_empty_index_is_none() -> None:
    index = ZoneIndex([])
    assert index.locate(4.3, 52.0) is None
    result = index.locate_with_margin(4.3, 52.0, 50)
    assert result.zone is None
    assert result.is_uncertain is False


def test_index_rejects_duplicate_ids() -> None:
    with pytest.raises(InvalidZoneError, match="unique"):
        ZoneIndex([A, zone("a", rect(50, 50, 51, 51))])


def test_index_get_and_len() -> None:
    assert len(INDEX) == 5
    assert INDEX.get("c") is C
    assert INDEX.get("nope") is None


def _random_zone(rng: random.Random, i: int) -> Zone:
    cx, cy = rng.uniform(0, 60), rng.uniform(0, 60)
    shape = rng.choice(["box", "triangle", "star", "holed", "multi"])
    size = rng.uniform(0.5, 8)
    geom: Polygon | MultiPolygon
    if shape == "box":
        geom = rect(cx, cy, cx + size, cy + size * rng.uniform(0.3, 2))
    elif shape == "triangle":
        geom = Polygon([at(cx, cy), at(cx + size, cy + rng.uniform(-1, 1)), at(cx, cy + size)])
    elif shape == "star":
        pts = []
        for k in range(10):
            r = size if k % 2 == 0 else size * 0.4
            angle = math.pi * k / 5
            pts.append(at(cx + r * math.cos(angle), cy + r * math.sin(angle)))
        geom = Polygon(pts)
    elif shape == "holed":
        geom = Polygon(
            rect(cx, cy, cx + size, cy + size).exterior.coords,
            [rect(cx + size / 4, cy + size / 4, cx + size / 2, cy + size / 2).exterior.coords],
        )
    else:
        geom = MultiPolygon(
            [
                rect(cx, cy, cx + size / 3, cy + size / 3),
                rect(cx + size / 2, cy, cx + size, cy + size / 3),
            ]
        )
    geom = affinity.rotate(geom, rng.uniform(0, 90), origin="centroid")
    return zone(f"r{i}", geom, priority=rng.randint(0, 3))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_locate_matches_brute_force_on_random_zones(seed: int) -> None:
    rng = random.Random(seed)
    zones = [_random_zone(rng, i) for i in range(150)]
    index = ZoneIndex(zones, cells_per_zone=rng.choice([1, 4, 16]))
    geoms = [z.geometry for z in zones]
    hits = 0
    for _ in range(2000):
        lon, lat = at(rng.uniform(-2, 70), rng.uniform(-2, 70))
        hits_xy = shapely.intersects_xy(geoms, lon, lat)
        inside = [z for z, hit in zip(zones, hits_xy, strict=True) if hit]
        expected = min(inside, key=lambda z: (-z.priority, index.area_m2[z.id], z.id), default=None)
        found = index.locate(lon, lat)
        assert found == expected, (lon, lat)
        hits += found is not None
    assert hits > 200  # the test exercises inside points, not only misses


def test_locate_matches_naive_on_polygon_vertices_and_edges() -> None:
    rng = random.Random(7)
    zones = [_random_zone(rng, i) for i in range(60)]
    index = ZoneIndex(zones)
    for z in zones:
        polys = z.geometry.geoms if isinstance(z.geometry, MultiPolygon) else [z.geometry]
        for poly in polys:
            coords = list(poly.exterior.coords)
            for (x1, y1), (x2, y2) in pairwise(coords):
                for lon, lat in ((x1, y1), ((x1 + x2) / 2, (y1 + y2) / 2)):
                    assert index.locate(lon, lat) == index.locate_naive(lon, lat)


def metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    return float(GEOD.inv(lon1, lat1, lon2, lat2)[2])


@pytest.mark.parametrize(
    ("x", "y", "radius", "expected"),
    [
        (2, 2, 10, ("a", False, ())),  # deep inside A
        (2, 2, 150, ("a", True, ())),  # A's west edge is 137 m away
        (-0.1, 5, 10, (None, True, ("a",))),  # 6.9 m outside A
        (-0.1, 5, 5, (None, False, ())),
        (7.9, 9, 10, ("a", True, ("b",))),  # B (outranks A) 6.9 m away
        (8.1, 9, 10, ("b", True, ("a",))),  # near B's own edge, A underneath
        (9.5, 9.5, 50, ("b", False, ())),  # A underneath, but B's edges are > 100 m away
        (21.05, 1.5, 5, ("c", True, ("d",))),  # 3.4 m from C's edge
        (23, 3, 20, ("d", False, ())),
        (31.5, 0.5, 40, (None, True, ("e",))),  # between E's parts, 34 m from each
    ],
)
def test_locate_with_margin_table(
    x: float, y: float, radius: float, expected: tuple[str | None, bool, tuple[str, ...]]
) -> None:
    result = INDEX.locate_with_margin(*at(x, y), radius)
    zone_id = result.zone.id if result.zone else None
    assert (zone_id, result.is_uncertain, result.nearby_zone_ids) == expected


@pytest.mark.parametrize(
    ("x", "y", "edge_x", "edge_y"),
    [(-0.1, 5, 0, 5), (2, 2, 0, 2), (7.9, 9, 8, 9), (5, 3.9, 5, 4)],
)
def test_locate_with_margin_distance_in_metres(
    x: float, y: float, edge_x: float, edge_y: float
) -> None:
    result = INDEX.locate_with_margin(*at(x, y), 500)
    expected = metres(*at(x, y), *at(edge_x, edge_y))
    assert result.distance_m == pytest.approx(expected, rel=1e-3)


def test_locate_with_margin_rejects_negative_radius() -> None:
    with pytest.raises(InvalidZoneError, match="radius_m"):
        INDEX.locate_with_margin(*at(1, 1), -1)


def test_regulation_at_through_the_index() -> None:
    town = ZoneIndex(town_zones())
    centrum = town.locate(4.3580, 52.0100)
    assert centrum is not None
    assert centrum.id == "centrum"
    reg = town.regulation_at(centrum, datetime(2026, 11, 23, 10, tzinfo=UTC))
    assert reg.regulated is True
    assert reg.tariff_cents_per_hour == 450


@pytest.mark.parametrize(
    ("lon", "lat", "expected"),
    [
        (4.3580, 52.0115, "centrum"),  # market square
        (4.35745, 52.01125, "laden-kerkstraat"),  # loading bay inside the core
        (4.3595, 52.01206, "verbod-markt"),  # no-parking strip inside the core
        (4.3547, 52.0135, None),  # Stadspark (hole)
        (4.3580, 52.0160, "noord"),
        (4.3580, 52.0070, "zuid"),
        (4.3500, 52.0110, "blauw"),
        (4.3700, 52.0110, None),
    ],
)
def test_locate_in_fixture_town(lon: float, lat: float, expected: str | None) -> None:
    found = ZoneIndex(town_zones()).locate(lon, lat)
    assert (found.id if found else None) == expected
