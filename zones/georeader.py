"""A zone file's geometry read and checked (adapter): a feature's polygon or multipolygon in
WGS84 or RD New, each problem with its place, and with ``fix`` repaired (``make_valid``,
unclosed rings closed) with every repair reported. Used by the GeoJSON and NPR importers."""

from __future__ import annotations

import math
import re
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from zones.crs import (
    WGS84,
    implausible_coordinates,
)
from zones.errors import (
    Notice,
    NoticeCode,
    Problem,
    ProblemCode,
    scalar,
)

_REASON = re.compile(r"^(?P<what>[^\[]*)\[(?P<x>\S+) (?P<y>\S+)\]")


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _fmt_xy(x: float, y: float, crs: str) -> str:
    if crs == WGS84:
        return f"lon {x:.7g}, lat {y:.7g}"
    return f"x {x:.3f}, y {y:.3f}"


class GeometryReader:
    def __init__(self, index: int, feature_id: str | None, crs: str, fix: bool) -> None:
        self.index, self.feature_id, self.crs, self.fix = index, feature_id, crs, fix
        self.problems: list[Problem] = []
        self.repairs: list[Notice] = []

    def problem(self, field: str, message: str, code: ProblemCode, **values: Any) -> None:
        self.problems.append(
            Problem(self.index, self.feature_id, field, message, code=code, values=values)
        )

    def repair(self, field: str, message: str, code: NoticeCode, **values: Any) -> None:
        self.repairs.append(
            Notice(self.index, self.feature_id, field, message, code=code, values=values)
        )

    def ring(self, raw: Any, field: str) -> list[tuple[float, float]] | None:
        if not isinstance(raw, list):
            got = type(raw).__name__
            self.problem(
                field,
                f"a ring must be a list of positions, got {got}",
                ProblemCode.RING_NOT_LIST,
                got=got,
            )
            return None
        points: list[tuple[float, float]] = []
        for i, pos in enumerate(raw):
            if (
                not isinstance(pos, list)
                or len(pos) not in (2, 3)
                or not all(_is_number(v) for v in pos)
            ):
                self.problem(
                    f"{field}[{i}]",
                    f"a position must be [x, y] numbers, got {pos!r}",
                    ProblemCode.POSITION_INVALID,
                    got=scalar(pos),
                )
                return None
            points.append((float(pos[0]), float(pos[1])))
        if len(points) >= 2 and points[0] != points[-1]:
            first, last = _fmt_xy(*points[0], self.crs), _fmt_xy(*points[-1], self.crs)
            if self.fix:
                points.append(points[0])
                self.repair(
                    field,
                    f"ring not closed ({first} != {last}): closed it",
                    NoticeCode.RING_CLOSED,
                    first_x=points[0][0],
                    first_y=points[0][1],
                    last_x=points[-2][0],
                    last_y=points[-2][1],
                    crs=self.crs,
                )
            else:
                self.problem(
                    field,
                    f"ring not closed: first position ({first}) != last ({last}); "
                    "a GeoJSON ring repeats its first position at the end (or use --fix)",
                    ProblemCode.RING_NOT_CLOSED,
                    first_x=points[0][0],
                    first_y=points[0][1],
                    last_x=points[-1][0],
                    last_y=points[-1][1],
                    crs=self.crs,
                )
                return None
        if len(points) < 4:
            self.problem(
                field,
                f"a ring needs at least 4 positions (closed), got {len(points)}",
                ProblemCode.RING_TOO_SHORT,
                count=len(points),
            )
            return None
        return points

    def polygon(self, raw: Any, field: str) -> Polygon | None:
        if not isinstance(raw, list) or not raw:
            self.problem(
                field, "a polygon must be a non-empty list of rings", ProblemCode.POLYGON_EMPTY
            )
            return None
        rings = [self.ring(r, f"{field}[{i}]") for i, r in enumerate(raw)]
        if any(r is None for r in rings):
            return None
        shell, *holes = [r for r in rings if r is not None]
        return Polygon(shell, holes)

    def read(self, raw: Any) -> Polygon | MultiPolygon | None:
        if raw is None:
            self.problem(
                "geometry",
                "missing; a Polygon or MultiPolygon is required",
                ProblemCode.GEOMETRY_MISSING,
            )
            return None
        if not isinstance(raw, dict):
            self.problem(
                "geometry",
                f"must be a GeoJSON geometry object, got {raw!r:.40}",
                ProblemCode.GEOMETRY_NOT_OBJECT,
                got=f"{raw!r:.40}",
            )
            return None
        gtype = raw.get("type")
        coords = raw.get("coordinates")
        if gtype == "Polygon":
            geom = self.polygon(coords, "geometry.coordinates")
        elif gtype == "MultiPolygon":
            geom = self.multipolygon(coords)
        else:
            self.problem(
                "geometry.type",
                f"{gtype!r} is not allowed; allowed: Polygon, MultiPolygon",
                ProblemCode.GEOMETRY_TYPE_NOT_ALLOWED,
                got=scalar(gtype),
                allowed="Polygon, MultiPolygon",
            )
            return None
        return None if geom is None else self.check(geom)

    def multipolygon(self, coords: Any) -> MultiPolygon | None:
        if not isinstance(coords, list) or not coords:
            self.problem(
                "geometry.coordinates",
                "a MultiPolygon needs a list of polygons",
                ProblemCode.MULTIPOLYGON_EMPTY,
            )
            return None
        parts = [self.polygon(p, f"geometry.coordinates[{i}]") for i, p in enumerate(coords)]
        if any(p is None for p in parts):
            return None
        return MultiPolygon([p for p in parts if p is not None])

    def check(self, geom: Polygon | MultiPolygon) -> Polygon | MultiPolygon | None:
        """Plausible coordinates for the CRS, then validity (repaired when `fix`)."""
        minx, miny, maxx, maxy = (float(v) for v in geom.bounds)
        why = implausible_coordinates((minx, miny, maxx, maxy), self.crs)
        if why is not None:
            self.problem("geometry.coordinates", why.message, why.code, **why.values())
            return None
        return self.validate(geom)

    def validate(self, geom: Polygon | MultiPolygon) -> Polygon | MultiPolygon | None:
        if geom.is_valid:
            if geom.area <= 0:
                self.problem("geometry", "polygon has no area", ProblemCode.POLYGON_NO_AREA)
                return None
            return geom
        reason = str(shapely.is_valid_reason(geom))
        match = _REASON.match(reason)
        values: dict[str, Any] = {"reason": reason, "crs": self.crs}
        if match:
            what = match.group("what").strip().lower() or "invalid"
            x, y = float(match.group("x")), float(match.group("y"))
            description = f"{what} at {_fmt_xy(x, y, self.crs)}"
            values |= {"reason": what, "x": x, "y": y}
        else:
            description = reason
        if not self.fix:
            self.problem(
                "geometry",
                f"invalid polygon: {description}; use --fix to repair",
                ProblemCode.POLYGON_INVALID,
                **values,
            )
            return None
        fixed = _polygonal_part(shapely.make_valid(geom))
        if fixed is None:
            self.problem(
                "geometry",
                f"invalid polygon: {description}; make_valid left no area",
                ProblemCode.POLYGON_UNREPAIRABLE,
                **values,
            )
            return None
        parts = len(fixed.geoms) if isinstance(fixed, MultiPolygon) else 1
        self.repair(
            "geometry",
            f"invalid polygon: {description}: repaired with make_valid into {fixed.geom_type} "
            f"({parts} part(s), area {geom.area:.6g} -> {fixed.area:.6g} in file units)",
            NoticeCode.POLYGON_REPAIRED,
            **values,
            geom_type=fixed.geom_type,
            parts=parts,
        )
        return fixed


def _polygonal_part(geom: BaseGeometry) -> Polygon | MultiPolygon | None:
    polygons: list[Polygon] = []
    stack = [geom]
    while stack:
        g = stack.pop()
        if isinstance(g, Polygon):
            if not g.is_empty and g.area > 0:
                polygons.append(g)
        elif hasattr(g, "geoms"):
            stack.extend(g.geoms)
    if not polygons:
        return None
    if len(polygons) == 1:
        return polygons[0]
    merged = shapely.union_all(polygons)
    return merged if isinstance(merged, Polygon | MultiPolygon) else None
