from __future__ import annotations

import pytest
from pyproj import Geod
from shapely.geometry import box

from zones.geo import LocalProjection, haversine_m

GEOD = Geod(ellps="WGS84")
CENTRE = LocalProjection(4.3580, 52.0115)


def geodesic_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    return float(GEOD.inv(lon1, lat1, lon2, lat2)[2])


@pytest.mark.parametrize(
    ("dlon", "dlat", "rel"),
    [
        (0.01, 0.0, 1e-4),  # ~690 m east
        (0.0, 0.01, 1e-4),  # ~1.1 km north
        (0.007, -0.004, 1e-4),
        (0.0003, 0.0001, 1e-4),  # ~22 m: a GPS margin
    ],
)
def test_local_projection_distance_near_centre(dlon: float, dlat: float, rel: float) -> None:
    lon, lat = CENTRE.lon0 + dlon, CENTRE.lat0 + dlat
    expected = geodesic_m(CENTRE.lon0, CENTRE.lat0, lon, lat)
    assert CENTRE.distance_m(CENTRE.lon0, CENTRE.lat0, lon, lat) == pytest.approx(expected, rel=rel)


@pytest.mark.parametrize(("dlat_km", "max_error"), [(1, 0.0003), (10, 0.0025), (100, 0.025)])
def test_local_projection_documented_east_west_error(dlat_km: float, max_error: float) -> None:
    lat = CENTRE.lat0 + dlat_km / 111.2
    error = CENTRE.east_west_scale_error(lat)
    assert error <= max_error
    # the real east-west distance of 0.001 deg at `lat` differs from the projected one by `error`
    real = geodesic_m(4.0, lat, 4.001, lat)
    assert abs(CENTRE.distance_m(4.0, lat, 4.001, lat) / real - 1) == pytest.approx(error, abs=2e-5)


def test_local_projection_round_trip() -> None:
    x, y = CENTRE.forward(4.3612, 52.0071)
    assert CENTRE.inverse(x, y) == pytest.approx((4.3612, 52.0071), abs=1e-12)


def test_project_geometry_gives_square_metres() -> None:
    metric = CENTRE.project(box(4.3575, 52.0110, 4.3585, 52.0120))
    assert metric.area == pytest.approx(68.7 * 111.3 * 1, rel=0.01)
    back = CENTRE.unproject(metric)
    assert back.equals_exact(box(4.3575, 52.0110, 4.3585, 52.0120), 1e-12)


def test_haversine_agrees_within_half_a_percent() -> None:
    args = (4.3580, 52.0115, 4.3680, 52.0215)
    assert haversine_m(*args) == pytest.approx(geodesic_m(*args), rel=5e-3)
