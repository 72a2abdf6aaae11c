"""``LiveTrack``: a ``Track`` fed by a ``PositionSource`` in a background thread.

The pipeline thread calls ``position_at(frame_time)`` while the reader thread adds fixes; both
go through one lock. A source that fails (device unplugged, gpsd restarted) is reopened after
``retry_s`` (doubling up to ``max_retry_s``); the first failure after a fix is logged as a
warning, repeats (and failures before any fix, which the caller's start-up check reports) at
debug level, the recovery once; meanwhile positions turn ``stale`` on their own.
``on_fix(fix)`` is called for every fix as it arrives (the car's health and clock check).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from scancar.gps.errors import GpsError
from scancar.gps.model import Fix, Position
from scancar.gps.ports import PositionSource
from scancar.gps.track import Track, TrackConfig

log = logging.getLogger(__name__)


class LiveTrack:
    """Thread-safe track of the car's recent fixes, filled from ``open_source()``."""

    def __init__(
        self,
        open_source: Callable[[], PositionSource],
        config: TrackConfig | None = None,
        *,
        retry_s: float = 2.0,
        max_retry_s: float = 30.0,
        on_fix: Callable[[Fix], None] | None = None,
    ) -> None:
        self._open_source = open_source
        self._track = Track(config)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._source: PositionSource | None = None
        self.retry_s = retry_s
        self.max_retry_s = max_retry_s
        self._on_fix = on_fix
        self.fixes_added = 0
        self.source_failures = 0
        self.last_error: str | None = None

    def add(self, fix: Fix) -> None:
        with self._lock:
            self._track.add(fix)
            self.fixes_added += 1
        if self._on_fix is not None:
            self._on_fix(fix)

    def position_at(self, t: datetime) -> Position | None:
        with self._lock:
            return self._track.position_at(t)

    @property
    def latest(self) -> Fix | None:
        with self._lock:
            return self._track.latest

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="gps-reader", daemon=True)
        self._thread.start()

    def join(self, timeout_s: float | None = None) -> bool:
        """Wait for the reader to end (a replayed file ran out); True when it has."""
        if self._thread is None:
            return True
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        source = self._source
        if source is not None:
            source.close()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                self._source = self._open_source()
                for fix in self._source.fixes():
                    if failures:
                        log.info("GPS source works again after %d failed attempts", failures)
                        failures = 0
                        self.last_error = None
                    self.add(fix)
                    if self._stop.is_set():
                        return
                log.info("GPS source ended: %s", self._source.stats.summary())
                return
            except GpsError as exc:
                self.source_failures += 1
                failures += 1
                self.last_error = str(exc)
                # before the first fix the caller's start-up check reports the failure
                level = logging.WARNING if failures == 1 and self.fixes_added else logging.DEBUG
                log.log(level, "GPS source failed (%s); reopening it until it works", exc)
            finally:
                if self._source is not None:
                    self._source.close()
            delay = min(self.max_retry_s, self.retry_s * 2 ** min(failures - 1, 16))
            if self._stop.wait(delay):
                return
