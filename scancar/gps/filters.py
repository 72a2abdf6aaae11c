"""Plausibility rules that apply to fixes from any source (NMEA, GPX, gpsd)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime

from scancar.gps.errors import GpsConfigError
from scancar.gps.geometry import distance_m
from scancar.gps.model import DropReason, Fix, ParseStats


@dataclass(frozen=True, slots=True)
class MotionLimits:
    """Limits of the fix-to-fix check (see ``MotionFilter``)."""

    max_speed_mps: float = 70.0  # 252 km/h
    jump_slack_m: float = 30.0  # allowance for fix noise between close fixes
    reanchor_after: int = 3
    # a fix at most this much older than the last one is a stray (dropped as out of order);
    # a larger step back is a time jump that starts a new segment
    max_reorder_s: float = 5.0
    # a fix more than this after the last one is a time discontinuity: held until the next fix
    # shows which timeline is right
    max_forward_jump_s: float = 10.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.max_speed_mps) and self.max_speed_mps > 0):
            raise GpsConfigError("max_speed_mps", self.max_speed_mps, "a positive number")
        if not (math.isfinite(self.jump_slack_m) and self.jump_slack_m >= 0):
            raise GpsConfigError("jump_slack_m", self.jump_slack_m, "zero or more metres")
        if not (math.isfinite(self.max_reorder_s) and self.max_reorder_s >= 0):
            raise GpsConfigError("max_reorder_s", self.max_reorder_s, "zero or more seconds")
        if self.reanchor_after < 1:
            raise GpsConfigError("reanchor_after", self.reanchor_after, "1 or more")
        if not (math.isfinite(self.max_forward_jump_s) and self.max_forward_jump_s > 0):
            raise GpsConfigError(
                "max_forward_jump_s", self.max_forward_jump_s, "a positive number of seconds"
            )


class MotionFilter:
    """Drops duplicate times, corrupted times and implausible jumps; numbers segments.

    * A fix with the same time as the last accepted one is a duplicate.
    * A fix up to ``max_reorder_s`` earlier than the last accepted one is out of order.
    * A *time discontinuity* (more than ``max_forward_jump_s`` after, or more than
      ``max_reorder_s`` before the last accepted fix) is held until the next fix: if the next
      fix is closer in time to the held one than to the last accepted one, the receiver's clock
      really jumped (gap, reset, glued logs) and the held fix is accepted; otherwise the held
      fix had a corrupted time and is dropped (``implausible_time``). A backward discontinuity
      that is confirmed starts a new segment and the jump check restarts from it.
    * A fix farther from the last accepted fix than ``max_speed_mps * dt + jump_slack_m`` is
      dropped; when ``reanchor_after`` such fixes in a row agree with each other, the last of
      them is accepted as the new reference (the old reference was the outlier).
    """

    def __init__(self, limits: MotionLimits, stats: ParseStats) -> None:
        self.limits = limits
        self.stats = stats
        self._anchor: Fix | None = None
        self._last_time: datetime | None = None
        self._pending: list[Fix] = []
        self._held: Fix | None = None
        self._segment = 0

    @property
    def segment(self) -> int:
        return self._segment

    def is_plausible(self, a: Fix, b: Fix) -> bool:
        dt = abs((b.time - a.time).total_seconds())
        limit = self.limits.max_speed_mps * dt + self.limits.jump_slack_m
        return distance_m(a.lon, a.lat, b.lon, b.lat) <= limit

    def _is_discontinuity(self, fix: Fix) -> bool:
        if self._last_time is None:
            return False
        step = (fix.time - self._last_time).total_seconds()
        return step > self.limits.max_forward_jump_s or -step > self.limits.max_reorder_s

    def check(self, fix: Fix) -> list[Fix]:
        """The fixes to accept now (0, 1, or 2 when a held fix is confirmed); drops are counted."""
        out: list[Fix] = []
        if self._held is not None:
            held, self._held = self._held, None
            assert self._last_time is not None  # noqa: S101 - only held after a first fix
            to_held = abs((fix.time - held.time).total_seconds())
            to_last = abs((fix.time - self._last_time).total_seconds())
            if to_held <= to_last:
                out.extend(self._accept(held))
            else:
                self.stats.dropped[DropReason.IMPLAUSIBLE_TIME] += 1
        if self._is_discontinuity(fix):
            self._held = fix
            return out
        out.extend(self._accept(fix))
        return out

    def flush(self) -> list[Fix]:
        """End of stream: nothing contradicts a held fix any more; accept it."""
        held, self._held = self._held, None
        return [] if held is None else self._accept(held)

    def _accept(self, fix: Fix) -> list[Fix]:
        last = self._last_time
        if last is not None and fix.time == last:
            self.stats.dropped[DropReason.DUPLICATE_TIME] += 1
            return []
        if last is not None and fix.time < last:
            if (last - fix.time).total_seconds() <= self.limits.max_reorder_s:
                self.stats.dropped[DropReason.OUT_OF_ORDER] += 1
                return []
            self.stats.time_jumps_backwards += 1
            self._segment += 1
            self._anchor = None
            self._pending.clear()
        if fix.segment != self._segment:
            fix = replace(fix, segment=self._segment)
        if self._anchor is not None and not self.is_plausible(self._anchor, fix):
            if self._pending and self.is_plausible(self._pending[-1], fix):
                self._pending.append(fix)
            else:
                self._pending = [fix]
            if len(self._pending) < self.limits.reanchor_after:
                self.stats.dropped[DropReason.IMPLAUSIBLE_JUMP] += 1
                return []
            self.stats.reanchored += 1
        self._pending.clear()
        self._anchor = fix
        self._last_time = fix.time
        self.stats.fixes_accepted += 1
        return [fix]
