"""Coordinate reference systems of zone files (adapter: the only module that uses pyproj).

Zone files are in WGS84 lon/lat (RFC 7946) or in RD New (EPSG:28992, Amersfoort / RD New,
metres). pyproj transforms RD New to WGS84 with the EPSG 7-parameter datum shift (about 1 m
accurate without the RDNAPTRANS grid files; enough for zone borders drawn on street level).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

from zones.errors import ProblemCode, UnknownCrsError

WGS84 = "EPSG:4326"
RD_NEW = "EPSG:28992"

_ALIASES: dict[str, str] = {
    "epsg:4326": WGS84,
    "epsg::4326": WGS84,
    "urn:ogc:def:crs:epsg::4326": WGS84,
    "urn:ogc:def:crs:ogc:1.3:crs84": WGS84,
    "urn:ogc:def:crs:ogc::crs84": WGS84,
    "crs84": WGS84,
    "wgs84": WGS84,
    "epsg:28992": RD_NEW,
    "epsg::28992": RD_NEW,
    "urn:ogc:def:crs:epsg::28992": RD_NEW,
    "rd": RD_NEW,
    "rdnew": RD_NEW,
}
ALLOWED_CRS: tuple[str, ...] = (WGS84, RD_NEW, "urn:ogc:def:crs:OGC:1.3:CRS84")

# Where coordinates of a Dutch zone file can plausibly lie, per CRS (minx, miny, maxx, maxy).
RD_NEW_BOUNDS = (-7_000.0, 289_000.0, 300_000.0, 629_000.0)  # EPSG:28992 area of use
WGS84_BOUNDS = (-180.0, -90.0, 180.0, 90.0)
NETHERLANDS_LONLAT = (3.2, 50.7, 7.3, 53.6)


def normalise_crs(name: str) -> str:
    """`EPSG:4326` or `EPSG:28992` for any accepted spelling; UnknownCrsError otherwise."""
    if not isinstance(name, str):
        raise UnknownCrsError(name, ALLOWED_CRS)
    key = name.strip().lower().replace(" ", "")
    try:
        return _ALIASES[key]
    except KeyError:
        raise UnknownCrsError(name, ALLOWED_CRS) from None


def legacy_crs_member(data: dict[str, Any]) -> str | None:
    """The CRS name of a GeoJSON 2008 `crs` member (`{"type": "name", ...}`), or None."""
    member = data.get("crs")
    if member is None:
        return None
    if not isinstance(member, dict) or member.get("type") != "name":
        raise UnknownCrsError(member, ALLOWED_CRS)
    props = member.get("properties")
    name = props.get("name") if isinstance(props, dict) else None
    if not isinstance(name, str):
        raise UnknownCrsError(member, ALLOWED_CRS)
    return normalise_crs(name)


@lru_cache(maxsize=4)
def _transformer(source: str, target: str) -> Transformer:
    return Transformer.from_crs(source, target, always_xy=True)


def transform_geometry(geometry: BaseGeometry, source: str, target: str) -> BaseGeometry:
    """`geometry` from CRS `source` to `target` (x/y = lon/lat or RD x/y)."""
    source, target = normalise_crs(source), normalise_crs(target)
    if source == target:
        return geometry
    transformer = _transformer(source, target)

    def apply(coords: Any) -> Any:
        xs, ys = transformer.transform(coords[:, 0], coords[:, 1])
        out = coords.copy()
        out[:, 0] = xs
        out[:, 1] = ys
        return out

    result: BaseGeometry = shapely.transform(geometry, apply)
    return result


def to_wgs84(lon_or_x: float, lat_or_y: float, source: str) -> tuple[float, float]:
    source = normalise_crs(source)
    if source == WGS84:
        return lon_or_x, lat_or_y
    x, y = _transformer(source, WGS84).transform(lon_or_x, lat_or_y)
    return float(x), float(y)


def from_wgs84(lon: float, lat: float, target: str) -> tuple[float, float]:
    target = normalise_crs(target)
    if target == WGS84:
        return lon, lat
    x, y = _transformer(WGS84, target).transform(lon, lat)
    return float(x), float(y)


def _inside(bounds: tuple[float, float, float, float], box: tuple[float, ...]) -> bool:
    minx, miny, maxx, maxy = box
    return bounds[0] <= minx and bounds[1] <= miny and maxx <= bounds[2] and maxy <= bounds[3]


@dataclass(frozen=True)
class ImplausibleCoordinates:
    """Why coordinates cannot be in a CRS: the problem's code, the English and the bounds."""

    code: ProblemCode
    message: str
    bounds: tuple[float, float, float, float]  # min x, min y, max x, max y
    looks_like: str | None = None  # the CRS they look like instead, if any

    def values(self) -> dict[str, float | str | None]:
        min_x, min_y, max_x, max_y = self.bounds
        return {
            "min_x": min_x,
            "min_y": min_y,
            "max_x": max_x,
            "max_y": max_y,
            "looks_like": self.looks_like,
        }


def implausible_coordinates(
    bounds: tuple[float, float, float, float], crs: str
) -> ImplausibleCoordinates | None:
    """Why coordinates with these `bounds` cannot be in `crs`, or None when they can."""
    crs = normalise_crs(crs)
    minx, miny, maxx, maxy = bounds
    shown = f"x {minx:g}..{maxx:g}, y {miny:g}..{maxy:g}"
    if crs == WGS84:
        if _inside(WGS84_BOUNDS, bounds):
            lon_min, lat_min, lon_max, lat_max = NETHERLANDS_LONLAT
            if lat_min <= minx and maxx <= lat_max and lon_min <= miny and maxy <= lon_max:
                return ImplausibleCoordinates(
                    ProblemCode.COORDINATES_SWAPPED,
                    f"coordinates ({shown}) look like lat, lon in the Netherlands; "
                    "GeoJSON positions are lon, lat",
                    bounds,
                )
            return None
        hint = ""
        looks_like = None
        if _inside(RD_NEW_BOUNDS, bounds):
            looks_like = RD_NEW
            hint = (
                "; they look like RD New metres: add the crs member "
                '"urn:ogc:def:crs:EPSG::28992" or import with --crs EPSG:28992'
            )
        return ImplausibleCoordinates(
            ProblemCode.COORDINATES_NOT_WGS84,
            f"coordinates ({shown}) are not WGS84 lon/lat degrees{hint}",
            bounds,
            looks_like,
        )
    if _inside(RD_NEW_BOUNDS, bounds):
        return None
    hint = ""
    looks_like = None
    if _inside(WGS84_BOUNDS, bounds):
        looks_like = WGS84
        hint = "; they look like WGS84 degrees: import without --crs EPSG:28992"
    return ImplausibleCoordinates(
        ProblemCode.COORDINATES_OUTSIDE_RD,
        f"coordinates ({shown}) are outside RD New (EPSG:28992) x {RD_NEW_BOUNDS[0]:g}.."
        f"{RD_NEW_BOUNDS[2]:g}, y {RD_NEW_BOUNDS[1]:g}..{RD_NEW_BOUNDS[3]:g}{hint}",
        bounds,
        looks_like,
    )
