"""Watching the live GPS: fix age and quality, silence and recovery, and the system clock
against GPS time.

Clock: for every fix, ``arrival (system clock) - fix time`` is the clock's offset plus the
receiver's and the serial line's delay (tens to a few hundred milliseconds, never negative).
The smallest value of the last ``window`` fixes is the estimate (judged from ``min_samples``
fixes on): delay only adds to it. When
its magnitude exceeds ``max_offset_s`` the car fines nothing (frames are stamped with the
system clock and matched to GPS positions: a clock 1 s off places a passing car ~5 m away at
20 km/h) and says so once; when it agrees again, once more.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from scancar.gps.model import Fix

log = logging.getLogger("scancar.gps")


class GpsState:
    NO_FIX = "no_fix"  # no fix since start
    OK = "ok"
    SILENT = "silent"  # no fix for gps_silent_after_s


class ClockState:
    UNKNOWN = "unknown"
    OK = "ok"
    OFF = "off"


@dataclass(frozen=True, slots=True)
class GpsReading:
    state: str
    fix_age_s: float | None
    hdop: float | None
    fix_quality: str | None
    satellites: int | None
    fixes: int
    clock_offset_s: float | None
    clock_state: str


class GpsWatch:
    """Fed by ``LiveTrack(on_fix=watch.on_fix)``; ``check()`` from the health thread."""

    def __init__(
        self,
        *,
        silent_after_s: float,
        max_offset_s: float,
        window: int = 10,
        min_samples: int = 3,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.silent_after_s = silent_after_s
        self.max_offset_s = max_offset_s
        self._wall = wall
        self._mono = monotonic
        self._lock = threading.Lock()
        self._offsets: deque[float] = deque(maxlen=window)
        self.min_samples = min_samples
        self._last: Fix | None = None
        self._last_mono: float | None = None
        self._silent_since: float | None = None
        self.fixes = 0
        self.state = GpsState.NO_FIX
        self.clock_state = ClockState.UNKNOWN

    # ------------------------------------------------------------------ fixes
    def on_fix(self, fix: Fix) -> None:
        arrived = self._wall()
        now = self._mono()
        with self._lock:
            self._offsets.append((arrived - fix.time).total_seconds())
            self._last, self._last_mono = fix, now
            self.fixes += 1
            was = self.state
            self.state = GpsState.OK
        if was == GpsState.SILENT and self._silent_since is not None:
            log.info("GPS back: fixes again after %.0f s of silence", now - self._silent_since)
            self._silent_since = None
        elif was == GpsState.NO_FIX:
            log.info("GPS: first fix (quality %s, hdop %s)", fix.quality.value, fix.hdop)
        self._check_clock()

    @property
    def clock_offset_s(self) -> float | None:
        with self._lock:
            return min(self._offsets) if self._offsets else None

    def is_clock_trusted(self) -> bool:
        """False only when the offset is known and too large (no GPS: no positions anyway)."""
        return self.clock_state != ClockState.OFF

    def _check_clock(self) -> None:
        with self._lock:
            if len(self._offsets) < self.min_samples:  # judged on a few fixes, not the first
                return
        offset = self.clock_offset_s
        if offset is None:
            return
        off = abs(offset) > self.max_offset_s
        if off and self.clock_state != ClockState.OFF:
            log.warning(
                "system clock is %.2f s %s GPS time (limit %.2f s): nothing is fined until "
                "they agree; check the time sync (chrony/NTP with the GPS as source)",
                abs(offset),
                "ahead of" if offset > 0 else "behind",
                self.max_offset_s,
            )
            self.clock_state = ClockState.OFF
        elif not off and self.clock_state != ClockState.OK:
            if self.clock_state == ClockState.OFF:
                log.info("system clock agrees with GPS time again (offset %+.2f s)", offset)
            else:
                log.info("system clock - GPS time: %+.2f s", offset)
            self.clock_state = ClockState.OK

    # ------------------------------------------------------------------ silence
    def check(self) -> None:
        """Declare the GPS silent once it is overdue (logged once)."""
        now = self._mono()
        with self._lock:
            last = self._last_mono
            if self.state != GpsState.OK or last is None or now - last < self.silent_after_s:
                return
            self.state = GpsState.SILENT
            self._silent_since = last
        log.warning(
            "GPS silent: no fix for %.0f s; passes are not decided on old positions",
            now - last,
        )

    def reading(self) -> GpsReading:
        now = self._mono()
        with self._lock:
            fix, last = self._last, self._last_mono
            offset = min(self._offsets) if self._offsets else None
        return GpsReading(
            state=self.state,
            fix_age_s=None if last is None else round(now - last, 3),
            hdop=None if fix is None else fix.hdop,
            fix_quality=None if fix is None else fix.quality.value,
            satellites=None if fix is None else fix.satellites,
            fixes=self.fixes,
            clock_offset_s=None if offset is None else round(offset, 3),
            clock_state=self.clock_state,
        )
