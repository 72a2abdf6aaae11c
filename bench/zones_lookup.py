"""Benchmark: ZoneIndex.locate / locate_with_margin against a naive linear scan (one core).

    python bench/zones_lookup.py [--zones 10000] [--points 1000000] [--seed 7]

Generates `--zones` zone polygons of realistic sizes (jittered street-block zones of 150 m to
300 m on a 30 km x 30 km region around Delft, about 10 % gaps, plus 5 % small loading/no-parking
strips of 20-80 m x 10 m on top with a higher priority), and `--points` uniform random points in
their bounding box. Prints lookups per second for the index and for a naive scan over every
zone measured in the same run (on a sample: the scan is ~10^4 times slower), and their ratio.
Target: >= 100,000 locates/s.
"""

from __future__ import annotations

import argparse
import math
import platform
import random
import sys
import time
from pathlib import Path

import shapely
from shapely.geometry import Point, Polygon

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from zones.index import ZoneIndex
from zones.model import Zone, ZoneKind

LON0, LAT0 = 4.20, 51.90
CELL_M = 300.0
M_PER_DEG_LAT = 111_250.0
M_PER_DEG_LON = M_PER_DEG_LAT * math.cos(math.radians(LAT0 + 0.13))


def _polygon(rng: random.Random, cx: float, cy: float, half: float, sides: int) -> Polygon:
    """A convex-ish jittered polygon around (cx, cy) metres, returned in lon/lat."""
    pts = []
    for k in range(sides):
        angle = 2 * math.pi * k / sides + rng.uniform(-0.2, 0.2) + math.pi / sides
        r = half * rng.uniform(0.8, 1.0) * math.sqrt(2)
        x = cx + r * math.cos(angle)
        y = cy + r * math.sin(angle)
        pts.append((LON0 + x / M_PER_DEG_LON, LAT0 + y / M_PER_DEG_LAT))
    return Polygon(pts)


def make_zones(n: int, rng: random.Random) -> list[Zone]:
    strips = n // 20
    blocks = n - strips
    side = math.ceil(math.sqrt(blocks / 0.9))
    zones: list[Zone] = []
    cells = [(i, j) for i in range(side) for j in range(side)]
    rng.shuffle(cells)
    for i, j in cells[:blocks]:
        cx, cy = (i + 0.5) * CELL_M, (j + 0.5) * CELL_M
        half = CELL_M / 2 * rng.uniform(0.5, 0.95)
        geom = _polygon(rng, cx, cy, half, rng.choice([4, 4, 5, 6, 8]))
        zones.append(_zone(len(zones), geom, 0))
    for _ in range(strips):
        i, j = rng.choice(cells[:blocks])
        cx = (i + 0.5) * CELL_M + rng.uniform(-60, 60)
        cy = (j + 0.5) * CELL_M + rng.uniform(-60, 60)
        length, width = rng.uniform(20, 80), 10.0
        pts = [(cx, cy), (cx + length, cy), (cx + length, cy + width), (cx, cy + width)]
        geom = Polygon([(LON0 + x / M_PER_DEG_LON, LAT0 + y / M_PER_DEG_LAT) for x, y in pts])
        zones.append(_zone(len(zones), geom, 10))
    return zones


def _zone(i: int, geom: Polygon, priority: int) -> Zone:
    kind = ZoneKind.PAID if priority == 0 else ZoneKind.LOADING
    return Zone(
        id=f"z{i}",
        name=f"Zone {i}",
        kind=kind,
        area_code=f"9999_{i}",
        geometry=geom,
        priority=priority,
    )


def naive_margin(
    index: ZoneIndex, metric: list[object], lon: float, lat: float, radius_m: float
) -> list[str]:
    point = Point(*index.projection.forward(lon, lat))
    return [
        z.id
        for z, g in zip(index.zones, metric, strict=True)
        if shapely.distance(point, g) <= radius_m
    ]


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zones", type=int, default=10_000)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--naive-points", type=int, default=300)
    parser.add_argument("--margin-points", type=int, default=100_000)
    parser.add_argument("--radius", type=float, default=15.0)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    zones = make_zones(args.zones, rng)
    minx, miny, maxx, maxy = (float(v) for v in shapely.total_bounds([z.geometry for z in zones]))
    points = [(rng.uniform(minx, maxx), rng.uniform(miny, maxy)) for _ in range(args.points)]
    width_km = (maxx - minx) * M_PER_DEG_LON / 1000
    height_km = (maxy - miny) * M_PER_DEG_LAT / 1000
    print(
        f"python {platform.python_version()} on {platform.machine()}, shapely {shapely.__version__}"
    )
    print(f"{len(zones)} zones in {width_km:.1f} x {height_km:.1f} km, {len(points)} points")

    t0 = time.perf_counter()
    index = ZoneIndex(zones)
    print(f"build: {time.perf_counter() - t0:.2f} s")

    locate = index.locate
    t0 = time.perf_counter()
    found = [locate(lon, lat) for lon, lat in points]
    fast = rate(len(points), time.perf_counter() - t0)
    inside = sum(z is not None for z in found) / len(found)

    sample = points[: args.naive_points]
    t0 = time.perf_counter()
    reference = [index.locate_naive(lon, lat) for lon, lat in sample]
    slow = rate(len(sample), time.perf_counter() - t0)
    mismatches = sum(a is not b for a, b in zip(found, reference, strict=False))
    print(f"locate:        {fast:12,.0f} /s  ({inside:.0%} of points in a zone)")
    print(f"naive scan:    {slow:12,.1f} /s  (on {len(sample)} points; {mismatches} mismatches)")
    print(f"ratio:         {fast / slow:12,.0f} x")
    print(f"target >= 100,000 locates/s: {'met' if fast >= 100_000 else 'NOT met'}")

    margin_points = points[: args.margin_points]
    t0 = time.perf_counter()
    uncertain = sum(
        index.locate_with_margin(lon, lat, args.radius).is_uncertain for lon, lat in margin_points
    )
    fast_m = rate(len(margin_points), time.perf_counter() - t0)
    metric = [index.projection.project(z.geometry) for z in zones]
    naive_sample = margin_points[: args.naive_points]
    t0 = time.perf_counter()
    for lon, lat in naive_sample:
        naive_margin(index, metric, lon, lat, args.radius)
    slow_m = rate(len(naive_sample), time.perf_counter() - t0)
    share = uncertain / len(margin_points)
    print(f"locate_with_margin ({args.radius:g} m): {fast_m:10,.0f} /s  ({share:.0%} uncertain)")
    print(f"naive margin scan:        {slow_m:10,.1f} /s  (on {len(naive_sample)} points)")
    print(f"ratio:                    {fast_m / slow_m:10,.0f} x")


if __name__ == "__main__":
    main()
