"""``LiveTrack``: a ``Track`` fed by a ``PositionSource`` in a background thread.

The pipeline thread calls ``position_at(frame_time)`` while the reader thread adds fixes; both
go through one lock. A source that fails (device unplugged, gpsd restarted) is logged and
reopened after ``retry_s``; meanwhile positions turn ``stale`` on their own.
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
    ) -> None:
        self._open_source = open_source
        self._track = Track(config)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._source: PositionSource | None = None
        self.retry_s = retry_s
        self.fixes_added = 0
        self.source_failures = 0

    def add(self, fix: Fix) -> None:
        with self._lock:
            self._track.add(fix)
            self.fixes_added += 1

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
        while not self._stop.is_set():
            try:
                self._source = self._open_source()
                for fix in self._source.fixes():
                    self.add(fix)
                    if self._stop.is_set():
                        return
                log.info("GPS source ended: %s", self._source.stats.summary())
                return
            except GpsError as exc:
                self.source_failures += 1
                log.warning("GPS source failed (%s); retrying in %.1f s", exc, self.retry_s)
            finally:
                if self._source is not None:
                    self._source.close()
            if self._stop.wait(self.retry_s):
                return
