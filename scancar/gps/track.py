"""Recent fixes and the car's position at any instant between them.

``Track.position_at(t)`` interpolates linearly between the two fixes around ``t`` (in a local
metric frame) and never extrapolates more than ``max_extrapolation_s`` past the newest fix.
The result carries an accuracy estimate and an ``uncertain`` flag with a reason:

* ``no_fix_yet``     - ``t`` is before the oldest fix kept;
* ``stale``          - ``t`` is more than ``max_extrapolation_s`` after the newest fix;
* ``gap``            - the fixes around ``t`` are more than ``max_gap_s`` apart;
* ``poor_accuracy``  - the accuracy estimate is worse than ``max_accuracy_m``.

Accuracy: each fix's error is ``error_m`` when the source gives one, else ``hdop * uere_m``,
else ``default_accuracy_m``. Between two fixes the worse of the two is used, plus half the
distance the car could have deviated from the straight line (``0.5 * |v1 - v2| * dt / 2``, with
the two fix velocities). Past the newest fix, the distance travelled since then is added.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from scancar.gps.errors import GpsConfigError
from scancar.gps.geometry import bearing_deg, distance_m, from_local_m, to_local_m
from scancar.gps.model import Fix, Position, UncertainReason


@dataclass(frozen=True, slots=True)
class TrackConfig:
    max_gap_s: float = 3.0
    max_extrapolation_s: float = 1.0
    keep_s: float = 300.0
    uere_m: float = 4.0  # user equivalent range error: metres per unit of HDOP
    default_accuracy_m: float = 10.0  # a fix with neither HDOP nor an error estimate
    max_accuracy_m: float = 15.0
    min_speed_for_course_mps: float = 1.0  # below this, a receiver's course is noise

    def __post_init__(self) -> None:
        for name in ("max_gap_s", "keep_s", "uere_m", "default_accuracy_m", "max_accuracy_m"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise GpsConfigError(name, value, "a positive number")
        for name in ("max_extrapolation_s", "min_speed_for_course_mps"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise GpsConfigError(name, value, "zero or a positive number")


def _check_aware(t: datetime) -> None:
    if t.tzinfo is None or t.utcoffset() is None:
        raise GpsConfigError("t", t, "a timezone-aware datetime (UTC)")


def _lerp_angle(a: float, b: float, w: float) -> float:
    diff = (b - a + 540.0) % 360.0 - 180.0
    return (a + w * diff) % 360.0


class Track:
    """Keeps the last ``keep_s`` seconds of fixes of one segment, in time order."""

    def __init__(self, config: TrackConfig | None = None, fixes: Iterable[Fix] = ()) -> None:
        self.config = config or TrackConfig()
        self._fixes: list[Fix] = []
        self._times: list[datetime] = []
        self._headings: list[float | None] = []
        self.resets = 0
        for fix in fixes:
            self.add(fix)

    def __len__(self) -> int:
        return len(self._fixes)

    @property
    def latest(self) -> Fix | None:
        return self._fixes[-1] if self._fixes else None

    @property
    def earliest(self) -> Fix | None:
        return self._fixes[0] if self._fixes else None

    def add(self, fix: Fix) -> None:
        """Append a fix. A fix older than the newest one (time jumped back) restarts the track."""
        if self._fixes and fix.time <= self._times[-1]:
            if fix.time == self._times[-1]:
                return
            self._fixes.clear()
            self._times.clear()
            self._headings.clear()
            self.resets += 1
        previous = self._fixes[-1] if self._fixes else None
        self._fixes.append(fix)
        self._times.append(fix.time)
        self._headings.append(self._heading_of(fix, previous))
        horizon = fix.time - timedelta(seconds=self.config.keep_s)
        cut = bisect.bisect_left(self._times, horizon)
        if cut:
            del self._fixes[:cut], self._times[:cut], self._headings[:cut]

    def _heading_of(self, fix: Fix, previous: Fix | None) -> float | None:
        """Course when moving, else the bearing from the previous fix, else the last heading."""
        speed = fix.speed_mps
        if fix.course_deg is not None and (
            speed is None or speed >= self.config.min_speed_for_course_mps
        ):
            return fix.course_deg
        if previous is not None and distance_m(previous.lon, previous.lat, fix.lon, fix.lat) > 2.0:
            return bearing_deg(previous.lon, previous.lat, fix.lon, fix.lat)
        return self._headings[-1] if self._headings else None

    def accuracy_of(self, fix: Fix) -> float:
        if fix.error_m is not None:
            return fix.error_m
        if fix.hdop is not None:
            return fix.hdop * self.config.uere_m
        return self.config.default_accuracy_m

    def position_at(self, t: datetime) -> Position | None:
        """The car's position at ``t``; ``None`` when no fix was ever added."""
        _check_aware(t)
        if not self._fixes:
            return None
        i = bisect.bisect_left(self._times, t)
        if i < len(self._fixes) and self._times[i] == t:
            fix = self._fixes[i]
            return self._make(
                fix.lon,
                fix.lat,
                heading=self._headings[i],
                speed=fix.speed_mps,
                accuracy=self.accuracy_of(fix),
                reason=None,
            )
        if i == 0:
            first = self._fixes[0]
            return self._make(
                first.lon,
                first.lat,
                heading=self._headings[0],
                speed=first.speed_mps,
                accuracy=self.accuracy_of(first),
                reason=UncertainReason.NO_FIX_YET,
            )
        if i == len(self._fixes):
            return self._after_latest(t)
        a, b = self._fixes[i - 1], self._fixes[i]
        span = (b.time - a.time).total_seconds()
        w = (t - a.time).total_seconds() / span
        east, north = to_local_m(b.lon, b.lat, a.lon, a.lat)
        lon, lat = from_local_m(east * w, north * w, a.lon, a.lat)
        ha, hb = self._headings[i - 1], self._headings[i]
        heading = (
            _lerp_angle(ha, hb, w)
            if ha is not None and hb is not None
            else (hb if hb is not None else ha)
        )
        speeds = [s for s in (a.speed_mps, b.speed_mps) if s is not None]
        speed = (
            (1 - w) * speeds[0] + w * speeds[-1]
            if speeds
            else distance_m(a.lon, a.lat, b.lon, b.lat) / span
        )
        accuracy = max(self.accuracy_of(a), self.accuracy_of(b)) + self._bend_m(a, b, span)
        reason = UncertainReason.GAP if span > self.config.max_gap_s else None
        return self._make(lon, lat, heading=heading, speed=speed, accuracy=accuracy, reason=reason)

    def _bend_m(self, a: Fix, b: Fix, span: float) -> float:
        """How far the true path may bend away from the chord between two fixes."""
        va, vb = self._velocity(a), self._velocity(b)
        if va is None or vb is None:
            return 0.0
        dv = math.hypot(va[0] - vb[0], va[1] - vb[1])
        return 0.25 * dv * span

    @staticmethod
    def _velocity(fix: Fix) -> tuple[float, float] | None:
        if fix.speed_mps is None or fix.course_deg is None:
            return None
        rad = math.radians(fix.course_deg)
        return fix.speed_mps * math.sin(rad), fix.speed_mps * math.cos(rad)

    def _after_latest(self, t: datetime) -> Position:
        last = self._fixes[-1]
        heading = self._headings[-1]
        dt = (t - last.time).total_seconds()
        speed = last.speed_mps or 0.0
        if dt > self.config.max_extrapolation_s:
            # hold the last position; it says nothing reliable about now
            return self._make(
                last.lon,
                last.lat,
                heading=heading,
                speed=last.speed_mps,
                accuracy=self.accuracy_of(last) + speed * dt,
                reason=UncertainReason.STALE,
            )
        lon, lat = last.lon, last.lat
        if heading is not None and speed > 0:
            rad = math.radians(heading)
            lon, lat = from_local_m(
                speed * dt * math.sin(rad), speed * dt * math.cos(rad), last.lon, last.lat
            )
        accuracy = self.accuracy_of(last) + 0.5 * speed * dt
        return self._make(
            lon, lat, heading=heading, speed=last.speed_mps, accuracy=accuracy, reason=None
        )

    def _make(
        self,
        lon: float,
        lat: float,
        *,
        heading: float | None,
        speed: float | None,
        accuracy: float,
        reason: UncertainReason | None,
    ) -> Position:
        if reason is None and accuracy > self.config.max_accuracy_m:
            reason = UncertainReason.POOR_ACCURACY
        return Position(
            lon=lon,
            lat=lat,
            heading_deg=heading,
            speed_mps=speed,
            accuracy_m=accuracy,
            uncertain=reason is not None,
            reason=reason,
        )
