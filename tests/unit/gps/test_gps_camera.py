"""Unit tests of the camera mount and the parked car's position."""

from __future__ import annotations

import math

import pytest

from scancar.gps.camera import CameraMount, parked_position
from scancar.gps.errors import GpsConfigError
from scancar.gps.geometry import to_local_m
from scancar.gps.model import Position, UncertainReason

CAR = Position(
    lon=4.3571, lat=52.0116, heading_deg=90.0, speed_mps=5.0, accuracy_m=4.0, uncertain=False
)


@pytest.mark.parametrize(
    ("side", "angle", "want_east", "want_north"),
    [
        ("right", 90.0, 0.0, -3.0),  # driving east, right is south
        ("left", 90.0, 0.0, 3.0),
        ("right", 45.0, 2.1213, -2.1213),
    ],
)
def test_parked_position_offsets_to_the_camera_side(
    side: str, angle: float, want_east: float, want_north: float
) -> None:
    mount = CameraMount("cam-1", side, distance_m=3.0, angle_deg=angle)  # type: ignore[arg-type]
    parked = parked_position(CAR, mount)
    east, north = to_local_m(parked.lon, parked.lat, CAR.lon, CAR.lat)
    assert east == pytest.approx(want_east, abs=1e-3)
    assert north == pytest.approx(want_north, abs=1e-3)
    assert parked.accuracy_m == pytest.approx(4.0 + 3.0 * math.sin(math.radians(10.0)))
    assert parked.uncertain is False


def test_parked_position_without_heading_is_uncertain() -> None:
    car = Position(
        lon=4.3571, lat=52.0116, heading_deg=None, speed_mps=0.0, accuracy_m=4.0, uncertain=False
    )
    parked = parked_position(car, CameraMount("cam-1", "right", distance_m=3.0))
    assert (parked.lon, parked.lat) == (car.lon, car.lat)
    assert parked.accuracy_m == pytest.approx(7.0)
    assert parked.uncertain is True
    assert parked.reason is UncertainReason.NO_HEADING


def test_parked_position_keeps_an_uncertain_reason() -> None:
    stale = Position(
        lon=4.3571,
        lat=52.0116,
        heading_deg=0.0,
        speed_mps=0.0,
        accuracy_m=30.0,
        uncertain=True,
        reason=UncertainReason.STALE,
    )
    parked = parked_position(stale, CameraMount("cam-1", "left"))
    assert parked.uncertain is True
    assert parked.reason is UncertainReason.STALE


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"name": "bad name!"}, "camera name"),
        ({"side": "up"}, "side"),
        ({"distance_m": 80.0}, "distance_m"),
        ({"angle_deg": 0.0}, "angle_deg"),
    ],
)
def test_camera_mount_refuses_bad_config(kwargs: dict[str, object], name: str) -> None:
    args: dict[str, object] = {"name": "cam-1", "side": "right", **kwargs}
    with pytest.raises(GpsConfigError, match=name):
        CameraMount(**args)  # type: ignore[arg-type]
