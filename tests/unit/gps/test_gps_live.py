"""LiveTrack: a track filled by a source in a background thread."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from scancar.gps.errors import GpsSourceError
from scancar.gps.live import LiveTrack
from scancar.gps.model import Fix, FixQuality, ParseStats, UncertainReason

T0 = datetime(2026, 3, 2, 10, 0, 0, tzinfo=UTC)


def fix_at(seconds: int) -> Fix:
    return Fix(
        time=T0 + timedelta(seconds=seconds),
        lon=4.3571,
        lat=52.0116 + seconds * 1e-4,
        speed_mps=11.1,
        course_deg=0.0,
        hdop=1.0,
        quality=FixQuality.GPS,
        satellites=8,
        source_line=seconds + 1,
    )


class FakeSource:
    """Yields the given fixes, or fails first when told to."""

    def __init__(self, fixes: list[Fix], fail: bool = False) -> None:
        self.stats = ParseStats()
        self._fixes = fixes
        self._fail = fail
        self.closed = threading.Event()

    def fixes(self) -> Iterator[Fix]:
        if self._fail:
            raise GpsSourceError("fake", "device unplugged")
        yield from self._fixes

    def close(self) -> None:
        self.closed.set()


def test_live_track_reads_a_source_and_interpolates() -> None:
    sources = [FakeSource([], fail=True), FakeSource([fix_at(s) for s in range(5)])]
    live = LiveTrack(lambda: sources.pop(0), retry_s=0.01)
    live.start()
    assert live.join(timeout_s=10) is True  # the second fake source ends by itself
    assert live.source_failures == 1
    assert live.fixes_added == 5
    pos = live.position_at(T0 + timedelta(seconds=2.5))
    assert pos is not None
    assert abs(pos.lat - (52.0116 + 2.5e-4)) < 1e-9
    assert pos.uncertain is False
    stale = live.position_at(T0 + timedelta(seconds=60))
    assert stale is not None
    assert stale.reason is UncertainReason.STALE
    latest = live.latest
    assert latest is not None
    assert latest.time == T0 + timedelta(seconds=4)


def test_live_track_stop_closes_a_running_source() -> None:
    started = threading.Event()

    class EndlessSource(FakeSource):
        def fixes(self) -> Iterator[Fix]:
            started.set()
            second = 0
            while not self.closed.wait(0.01):
                yield fix_at(second)
                second += 1

    source = EndlessSource([])
    live = LiveTrack(lambda: source)
    live.start()
    assert started.wait(10)
    live.stop(timeout_s=10)
    assert source.closed.is_set()
    assert live.join(timeout_s=0) is True
