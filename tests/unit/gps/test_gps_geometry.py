"""Unit tests of the local metric geometry and the camera offset."""

from __future__ import annotations

import pytest
from pyproj import Geod

from scancar.gps.errors import GpsConfigError
from scancar.gps.geometry import (
    bearing_deg,
    distance_m,
    from_local_m,
    offset_position,
    to_local_m,
)

DELFT = (4.3571, 52.0116)


@pytest.mark.parametrize(
    ("lon1", "lat1", "lon2", "lat2"),
    [
        (4.0, 52.0, 4.0, 52.0 + 1 / 60),  # one arc-minute north
        (4.0, 52.0, 4.0 + 1 / 60, 52.0),  # one arc-minute east
        (4.0, 52.0, 4.0, 52.0),
        (179.9999, 0.0, -179.9999, 0.0),  # across the antimeridian
        (4.36, 52.01, 4.3612, 52.0107),  # ~110 m in Delft
    ],
)
def test_distance_m_matches_pyproj_geodesic(
    lon1: float, lat1: float, lon2: float, lat2: float
) -> None:
    want = Geod(ellps="WGS84").inv(lon1, lat1, lon2, lat2)[2]
    assert distance_m(lon1, lat1, lon2, lat2) == pytest.approx(want, abs=1e-3)


@pytest.mark.parametrize(
    ("metres", "tolerance"), [(10, 1e-6), (100, 1e-6), (1000, 1e-4), (10_000, 1e-2)]
)
def test_distance_m_error_stays_within_documented_bounds(metres: float, tolerance: float) -> None:
    lon2, lat2, _ = Geod(ellps="WGS84").fwd(4.36, 52.01, 37.0, metres)
    assert distance_m(4.36, 52.01, lon2, lat2) == pytest.approx(metres, abs=tolerance)


@pytest.mark.parametrize(
    ("heading", "side", "want_east", "want_north"),
    [
        (0.0, "right", 3.0, 0.0),
        (0.0, "left", -3.0, 0.0),
        (90.0, "right", 0.0, -3.0),
        (180.0, "right", -3.0, 0.0),
        (270.0, "left", 0.0, -3.0),
    ],
)
def test_offset_position_moves_sideways_by_distance(
    heading: float, side: str, want_east: float, want_north: float
) -> None:
    lon, lat = offset_position(*DELFT, heading, side, 3.0)  # type: ignore[arg-type]
    east, north = to_local_m(lon, lat, *DELFT)
    assert (east, north) == (
        pytest.approx(want_east, abs=1e-6),
        pytest.approx(want_north, abs=1e-6),
    )
    assert distance_m(*DELFT, lon, lat) == pytest.approx(3.0, abs=1e-6)


def test_offset_position_angle_points_forward_of_sideways() -> None:
    lon, lat = offset_position(*DELFT, 0.0, "right", 4.0, angle_deg=45.0)
    east, north = to_local_m(lon, lat, *DELFT)
    assert east == pytest.approx(2.828427, abs=1e-5)
    assert north == pytest.approx(2.828427, abs=1e-5)


def test_local_frame_round_trips() -> None:
    lon, lat = from_local_m(123.4, -56.7, *DELFT)
    assert to_local_m(lon, lat, *DELFT) == (
        pytest.approx(123.4, abs=1e-6),
        pytest.approx(-56.7, abs=1e-6),
    )


@pytest.mark.parametrize(
    ("dlon", "dlat", "want"), [(0, 1, 0), (1, 0, 90), (0, -1, 180), (-1, 0, 270)]
)
def test_bearing_deg_cardinal_directions(dlon: float, dlat: float, want: float) -> None:
    lon2, lat2 = DELFT[0] + dlon * 1e-4, DELFT[1] + dlat * 1e-4
    assert bearing_deg(*DELFT, lon2, lat2) == pytest.approx(want, abs=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"side": "up"}, "side"),
        ({"distance_m": -1.0}, "distance_m"),
        ({"angle_deg": 200.0}, "angle_deg"),
        ({"heading_deg": float("nan")}, "heading_deg"),
    ],
)
def test_offset_position_refuses_bad_arguments(kwargs: dict[str, object], name: str) -> None:
    args: dict[str, object] = {
        "lon": 4.0,
        "lat": 52.0,
        "heading_deg": 0.0,
        "side": "right",
        "distance_m": 3.0,
        **kwargs,
    }
    with pytest.raises(GpsConfigError, match=name):
        offset_position(**args)  # type: ignore[arg-type]
