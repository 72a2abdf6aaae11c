"""Which zone is this point in? A read-only index over a set of zones (stdlib + shapely).

`ZoneIndex.locate` is the hot path of the scan car (one call per plate read) and of the
backend's `/zones/locate`. It answers from a uniform grid built once with an STRtree and
prepared geometries:

- a grid cell that lies entirely inside its winning zone (or outside every zone) holds that
  answer, so most lookups cost two multiplications and a list index;
- a cell crossed by a zone edge holds the zones touching it in rank order, tested with a
  point-in-polygon slab structure in pure Python (GEOS decides points exactly on a vertex row).

Points on a zone's edge count as inside it. Overlaps resolve to the higher `priority`, then
the smaller area, then the smaller id. `locate_with_margin` works in local metres
(`zones.geo.LocalProjection`) around the index's centre.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Point, Polygon

from zones.errors import InvalidZoneError
from zones.geo import LocalProjection
from zones.model import Zone
from zones.rules import Regulation, regulation_at

# A slab structure for a zone with more vertices than this is not built; GEOS answers instead.
_MAX_SLAB_VERTICES = 4000
_EDGE_TOLERANCE_DEG = 1e-11  # ~1 um: closer to an edge than this, GEOS decides (float noise)
_EPS_DEG = 1e-9  # ~0.1 mm: grid cells are classified slightly enlarged, to stay conservative


@dataclass(frozen=True)
class LocateResult:
    """`locate_with_margin` answer.

    `is_uncertain`: a point within `radius_m` of the given point resolves differently (another
    zone, or no zone), so a GPS error of that size could change the verdict.
    `nearby_zone_ids`: zones other than `zone` that such a nearby point could resolve to,
    nearest first (zones within the radius that outrank `zone`; when the point is within the
    radius of `zone`'s own edge, every other zone within the radius).
    `distance_m`: metres to the nearest edge that changes the answer (own edge or a nearby
    zone), None when the point is in no zone and none is within the radius.
    """

    zone: Zone | None
    is_uncertain: bool
    nearby_zone_ids: tuple[str, ...]
    distance_m: float | None


class _SlabPolygon:
    """Point-in-(multi)polygon by horizontal slabs: bisect the slab, count edges to the left."""

    __slots__ = ("geometry", "maxx", "maxy", "minx", "miny", "slabs", "ys")

    def __init__(self, geometry: Polygon | MultiPolygon) -> None:
        self.geometry = geometry
        self.minx, self.miny, self.maxx, self.maxy = geometry.bounds
        edges: list[tuple[float, float, float, float]] = []
        parts = geometry.geoms if isinstance(geometry, MultiPolygon) else [geometry]
        for part in parts:
            for ring in [part.exterior, *part.interiors]:
                coords = list(ring.coords)
                for (x1, y1), (x2, y2) in pairwise(coords):
                    if y1 != y2:
                        edges.append((x1, y1, x2, y2))
        ys = sorted({y for _, y1, _, y2 in edges for y in (y1, y2)})
        slabs: list[list[tuple[float, float, float]]] = [[] for _ in range(max(len(ys) - 1, 0))]
        for x1, y1, x2, y2 in edges:
            lo, hi = (y1, y2) if y1 < y2 else (y2, y1)
            slope = (x2 - x1) / (y2 - y1)
            first = bisect_right(ys, lo) - 1
            last = bisect_right(ys, hi) - 1
            for i in range(first, last):
                slabs[i].append((x1, y1, slope))
        self.ys = ys
        self.slabs = slabs

    def covers(self, x: float, y: float) -> bool:
        if x < self.minx or x > self.maxx or y < self.miny or y > self.maxy:
            return False
        ys = self.ys
        i = bisect_right(ys, y) - 1
        if i < 0 or ys[i] == y or i >= len(self.slabs):
            return bool(shapely.intersects_xy(self.geometry, x, y))
        inside = False
        for x1, y1, slope in self.slabs[i]:
            xi = x1 + (y - y1) * slope
            if -_EDGE_TOLERANCE_DEG <= xi - x <= _EDGE_TOLERANCE_DEG:  # on an edge: let GEOS say
                return bool(shapely.intersects_xy(self.geometry, x, y))
            if xi < x:
                inside = not inside
        return inside


def _geos_covers(geometry: Any) -> Callable[[float, float], bool]:
    def covers(x: float, y: float) -> bool:
        return bool(shapely.intersects_xy(geometry, x, y))

    return covers


class ZoneIndex:
    """Read-only lookup structure over `zones` (built once; share it between threads)."""

    def __init__(self, zones: Iterable[Zone], *, cells_per_zone: int = 16) -> None:
        self._zones: tuple[Zone, ...] = tuple(zones)
        self._by_id: dict[str, Zone] = {}
        for zone in self._zones:
            if zone.id in self._by_id:
                raise InvalidZoneError("id", zone.id, "zone ids must be unique in an index")
            self._by_id[zone.id] = zone
        self._position = {zone.id: i for i, zone in enumerate(self._zones)}
        n = len(self._zones)
        geoms = [z.geometry for z in self._zones]
        if n:
            minx, miny, maxx, maxy = (float(v) for v in shapely.total_bounds(geoms))
        else:
            minx = miny = maxx = maxy = 0.0
        self.projection = LocalProjection((minx + maxx) / 2, (miny + maxy) / 2)
        metric = [self.projection.project(g) for g in geoms]
        self.area_m2: dict[str, float] = {
            z.id: float(m.area) for z, m in zip(self._zones, metric, strict=True)
        }
        order = sorted(
            range(n),
            key=lambda i: (
                -self._zones[i].priority,
                self.area_m2[self._zones[i].id],
                self._zones[i].id,
            ),
        )
        self._rank = [0] * n
        for r, i in enumerate(order):
            self._rank[i] = r
        for g in geoms:
            shapely.prepare(g)
        self._tree = shapely.STRtree(geoms)
        self._metric_tree = shapely.STRtree(metric)
        self._metric_geoms = self._metric_tree.geometries
        self._metric_boundaries = [m.boundary for m in metric]
        self._covers: list[Callable[[float, float], bool]] = []
        for g in geoms:
            vertices = int(shapely.get_num_coordinates(g))
            if vertices <= _MAX_SLAB_VERTICES:
                self._covers.append(_SlabPolygon(g).covers)
            else:
                self._covers.append(_geos_covers(g))
        self._build_grid(minx, miny, maxx, maxy, cells_per_zone)

    # -- construction ------------------------------------------------------------------
    def _build_grid(
        self, minx: float, miny: float, maxx: float, maxy: float, cells_per_zone: int
    ) -> None:
        n = len(self._zones)
        self._grid: list[Any] = []
        self._nx = self._ny = 0
        self._x0, self._y0 = minx, miny
        self._x1, self._y1 = maxx, maxy
        self._inv_w = self._inv_h = 0.0
        if n == 0:
            self._x0 = self._y0 = math.inf  # nothing is inside an empty index
            self._x1 = self._y1 = -math.inf
            return
        proj = self.projection
        width_m = max((maxx - minx) * proj.metres_per_degree_lon, 1.0)
        height_m = max((maxy - miny) * proj.metres_per_degree_lat, 1.0)
        target = min(max(cells_per_zone * n, 64), 1_000_000)
        cell_m = math.sqrt(width_m * height_m / target)
        nx = max(1, math.ceil(width_m / cell_m))
        ny = max(1, math.ceil(height_m / cell_m))
        cw = (maxx - minx) / nx or 1e-6
        ch = (maxy - miny) / ny or 1e-6
        x0s = [minx + (k % nx) * cw - _EPS_DEG for k in range(nx * ny)]
        y0s = [miny + (k // nx) * ch - _EPS_DEG for k in range(nx * ny)]
        boxes = shapely.box(
            x0s, y0s, [x + cw + 2 * _EPS_DEG for x in x0s], [y + ch + 2 * _EPS_DEG for y in y0s]
        )
        cell_idx, zone_idx = self._tree.query(boxes, predicate="intersects")
        covered = shapely.covers(self._tree.geometries[zone_idx], boxes[cell_idx])
        candidates: dict[int, list[tuple[int, int, bool]]] = {}
        for c, z, cov in zip(cell_idx.tolist(), zone_idx.tolist(), covered.tolist(), strict=True):
            candidates.setdefault(c, []).append((self._rank[z], z, bool(cov)))
        grid: list[Any] = [None] * (nx * ny)
        for c, cands in candidates.items():
            cands.sort()
            _, best, best_covers = cands[0]
            if best_covers:
                grid[c] = self._zones[best]
            else:
                stop = next((k for k, (_, _, cov) in enumerate(cands) if cov), len(cands) - 1)
                grid[c] = tuple((self._covers[z], self._zones[z]) for _, z, _ in cands[: stop + 1])
        self._grid = grid
        self._nx, self._ny = nx, ny
        self._inv_w, self._inv_h = 1.0 / cw, 1.0 / ch

    # -- queries -----------------------------------------------------------------------
    @property
    def zones(self) -> tuple[Zone, ...]:
        return self._zones

    def __len__(self) -> int:
        return len(self._zones)

    def get(self, zone_id: str) -> Zone | None:
        return self._by_id.get(zone_id)

    def locate(self, lon: float, lat: float) -> Zone | None:
        """The zone that governs (`lon`, `lat`), or None outside every zone."""
        if not (self._x0 <= lon <= self._x1 and self._y0 <= lat <= self._y1):
            return None
        ix = int((lon - self._x0) * self._inv_w)
        iy = int((lat - self._y0) * self._inv_h)
        if ix == self._nx:  # the bounding box's east/north edge belongs to the last cell
            ix -= 1
        if iy == self._ny:
            iy -= 1
        cell = self._grid[iy * self._nx + ix]
        if type(cell) is tuple:
            for covers, zone in cell:
                if covers(lon, lat):
                    result: Zone = zone
                    return result
            return None
        found: Zone | None = cell
        return found

    def locate_naive(self, lon: float, lat: float) -> Zone | None:
        """Reference answer by a linear scan over every zone (tests and the benchmark)."""
        best: Zone | None = None
        best_rank = len(self._zones)
        for i, zone in enumerate(self._zones):
            if self._rank[i] < best_rank and shapely.intersects_xy(zone.geometry, lon, lat):
                best, best_rank = zone, self._rank[i]
        return best

    def locate_with_margin(self, lon: float, lat: float, radius_m: float) -> LocateResult:
        """`locate`, plus whether a position error of up to `radius_m` metres matters."""
        if not radius_m >= 0 or math.isinf(radius_m):
            raise InvalidZoneError("radius_m", radius_m, "a finite number of metres >= 0")
        zone = self.locate(lon, lat)
        x, y = self.projection.forward(lon, lat)
        point = Point(x, y)
        own = -1 if zone is None else self._zone_position(zone)
        edge_m: float | None = None
        near_edge = False
        if own >= 0:
            edge_m = float(shapely.distance(point, self._metric_boundaries[own]))
            near_edge = edge_m <= radius_m
        hits = self._metric_tree.query(point, predicate="dwithin", distance=radius_m)
        nearby: list[tuple[float, str]] = []
        if len(hits):
            distances = shapely.distance(point, self._metric_geoms[hits])
            for i, d in zip(hits.tolist(), distances.tolist(), strict=True):
                if i == own:
                    continue
                if own < 0 or near_edge or self._rank[i] < self._rank[own]:
                    nearby.append((float(d), self._zones[i].id))
        nearby.sort()
        distance = min(
            [d for d, _ in nearby] + ([edge_m] if edge_m is not None else []), default=None
        )
        return LocateResult(
            zone=zone,
            is_uncertain=near_edge or bool(nearby),
            nearby_zone_ids=tuple(zone_id for _, zone_id in nearby),
            distance_m=distance,
        )

    def regulation_at(self, zone: Zone, at: datetime) -> Regulation:
        """`zones.rules.regulation_at` (here so a caller needs only the index)."""
        return regulation_at(zone, at)

    def _zone_position(self, zone: Zone) -> int:
        position = self._position.get(zone.id)
        if position is None:
            raise InvalidZoneError("zone", zone.id, "a zone of this index")
        return position
