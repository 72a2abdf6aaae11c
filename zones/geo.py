"""Metric distances without pyproj: a local tangent-plane projection (pure math + shapely).

`LocalProjection` maps WGS84 lon/lat to metres east/north of a centre point, scaling degrees
by the ellipsoid's radii of curvature at the centre latitude (an equirectangular projection
on the WGS84 ellipsoid). It is exact at the centre; away from it the east-west scale drifts
by about tan(lat0) per radian of latitude difference: at 52 deg N that is 0.02 % per km
north-south from the centre (0.2 % at 10 km, ~2 % at 100 km). North-south scale and
directions are good to better than 0.01 % over a city. For a zone index of a city (a few
km) a 20 m margin is therefore right to a few centimetres; for the whole of the Netherlands
build one index per municipality, or accept errors of a few per cent of the distance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, TypeVar

import shapely
from shapely.geometry.base import BaseGeometry

WGS84_A = 6_378_137.0  # semi-major axis (m)
WGS84_F = 1 / 298.257223563
WGS84_E2 = WGS84_F * (2 - WGS84_F)

G = TypeVar("G", bound=BaseGeometry)


@dataclass(frozen=True)
class LocalProjection:
    """Metres east (x) and north (y) of (`lon0`, `lat0`)."""

    lon0: float
    lat0: float
    metres_per_degree_lon: float = field(init=False)
    metres_per_degree_lat: float = field(init=False)

    def __post_init__(self) -> None:
        phi = math.radians(self.lat0)
        w = 1 - WGS84_E2 * math.sin(phi) ** 2
        meridional = WGS84_A * (1 - WGS84_E2) / w**1.5  # M
        prime_vertical = WGS84_A / math.sqrt(w)  # N
        rad = math.pi / 180
        object.__setattr__(self, "metres_per_degree_lat", meridional * rad)
        object.__setattr__(self, "metres_per_degree_lon", prime_vertical * math.cos(phi) * rad)

    def forward(self, lon: float, lat: float) -> tuple[float, float]:
        return (
            (lon - self.lon0) * self.metres_per_degree_lon,
            (lat - self.lat0) * self.metres_per_degree_lat,
        )

    def inverse(self, x: float, y: float) -> tuple[float, float]:
        return (
            self.lon0 + x / self.metres_per_degree_lon,
            self.lat0 + y / self.metres_per_degree_lat,
        )

    def project(self, geometry: G) -> G:
        """`geometry` (lon/lat) in local metres."""
        kx, ky = self.metres_per_degree_lon, self.metres_per_degree_lat
        ox, oy = self.lon0 * kx, self.lat0 * ky

        def scale(coords: Any) -> Any:
            return coords * (kx, ky) - (ox, oy)

        result: G = shapely.transform(geometry, scale)
        return result

    def unproject(self, geometry: G) -> G:
        """`geometry` in local metres back to lon/lat."""
        kx, ky = self.metres_per_degree_lon, self.metres_per_degree_lat

        def unscale(coords: Any) -> Any:
            return coords / (kx, ky) + (self.lon0, self.lat0)

        result: G = shapely.transform(geometry, unscale)
        return result

    def distance_m(self, lon1: float, lat1: float, lon2: float, lat2: float) -> float:
        x1, y1 = self.forward(lon1, lat1)
        x2, y2 = self.forward(lon2, lat2)
        return math.hypot(x2 - x1, y2 - y1)

    def east_west_scale_error(self, lat: float) -> float:
        """Relative error of east-west distances at `lat` (0.001 = 0.1 %)."""
        other = LocalProjection(self.lon0, lat)
        return abs(self.metres_per_degree_lon / other.metres_per_degree_lon - 1)


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance on a sphere of the mean Earth radius (checks, ~0.3 % accurate)."""
    r = 6_371_008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(h))
