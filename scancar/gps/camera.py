"""Where a camera looks: from the car's position to the parked car's position."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace

from scancar.gps.errors import GpsConfigError
from scancar.gps.geometry import SIDES, Side, offset_position
from scancar.gps.model import Position, UncertainReason


@dataclass(frozen=True, slots=True)
class CameraMount:
    """A camera on the scan car.

    ``side`` and ``angle_deg`` (from the driving direction towards that side: 90 = straight
    sideways) say where it looks; ``distance_m`` is the usual distance from the GPS antenna's
    track to the parked cars it reads (e.g. 3 m to the right).
    """

    name: str
    side: Side
    distance_m: float = 3.0
    angle_deg: float = 90.0
    heading_sigma_deg: float = 10.0  # heading uncertainty used for the accuracy estimate

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", self.name):
            raise GpsConfigError("camera name", self.name, "1-64 characters of A-Z a-z 0-9 _ . -")
        if self.side not in SIDES:
            raise GpsConfigError(f"camera {self.name} side", self.side, "'left' or 'right'")
        if not (math.isfinite(self.distance_m) and 0.0 <= self.distance_m <= 50.0):
            raise GpsConfigError(
                f"camera {self.name} distance_m", self.distance_m, "between 0 and 50 metres"
            )
        if not (math.isfinite(self.angle_deg) and 0.0 < self.angle_deg < 180.0):
            raise GpsConfigError(
                f"camera {self.name} angle_deg", self.angle_deg, "between 0 and 180 degrees"
            )
        if not (math.isfinite(self.heading_sigma_deg) and 0.0 <= self.heading_sigma_deg < 90.0):
            raise GpsConfigError(
                f"camera {self.name} heading_sigma_deg", self.heading_sigma_deg, "0 to 90 degrees"
            )


def parked_position(car: Position, mount: CameraMount) -> Position:
    """The position of the parked car the camera sees, with the accuracy widened for the offset.

    Without a heading the side is unknown: the car's own position is returned, its accuracy
    widened by ``distance_m`` and marked uncertain (``no_heading``).
    """
    if car.heading_deg is None:
        return replace(
            car,
            accuracy_m=car.accuracy_m + mount.distance_m,
            uncertain=True,
            reason=car.reason or UncertainReason.NO_HEADING,
        )
    lon, lat = offset_position(
        car.lon, car.lat, car.heading_deg, mount.side, mount.distance_m, angle_deg=mount.angle_deg
    )
    spread = mount.distance_m * math.sin(math.radians(mount.heading_sigma_deg))
    return replace(car, lon=lon, lat=lat, accuracy_m=car.accuracy_m + spread)
