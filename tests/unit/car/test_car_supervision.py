"""Camera supervision and the GPS/clock watch with fake streams and clocks: each transition is
logged once, cameras reconnect, the clock offset gates fining."""

from __future__ import annotations

import logging
import queue
import threading
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from scancar.car.cameras import CameraState, LiveCamera
from scancar.car.gpswatch import ClockState, GpsState, GpsWatch
from scancar.gps.model import Fix, FixQuality
from scancar.lpr.errors import FrameSourceError
from scancar.lpr.model import Frame

T0 = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def _frames(n: int, clock: Clock):
    image = np.zeros((4, 4, 3), np.uint8)
    for i in range(n):
        clock.t += 0.1
        yield Frame(image, T0 + timedelta(seconds=clock.t), "x", i, "fake")


def test_camera_reconnects_renumbers_frames_and_logs_each_transition_once(caplog):
    clock = Clock()
    stop = threading.Event()
    out: queue.Queue[Frame] = queue.Queue(maxsize=100)
    attempts = []
    script = ["frames", "fail", "fail", "fail", "last"]

    def last_frames():
        yield from _frames(3, clock)
        stop.set()  # the service stops while this stream still runs

    def open_stream():
        step = script[len(attempts)]
        attempts.append(step)
        if step == "fail":
            clock.t += 2.0
            raise FrameSourceError("http://cam", "connection refused")
        return _frames(3, clock) if step == "frames" else last_frames()

    cam = LiveCamera(
        "right", open_stream, out, down_after_s=5.0, first_retry_s=0.0, monotonic=clock
    )
    with caplog.at_level(logging.INFO, logger="scancar.camera"):
        cam.run(stop)
    messages = [r.getMessage() for r in caplog.records]
    assert sum("stream lost" in m for m in messages) == 1
    assert sum(": down, no frame" in m for m in messages) == 1
    assert sum("back after" in m for m in messages) == 1
    indexes = [out.get_nowait().index for _ in range(out.qsize())]
    assert indexes == list(range(6))  # renumbered across the reconnect
    assert cam.stats.reconnects == 4
    assert cam.stats.state == CameraState.UP


def test_camera_drops_frames_when_the_pipeline_is_behind():
    clock = Clock()
    stop = threading.Event()
    out: queue.Queue[Frame] = queue.Queue(maxsize=2)
    calls = []

    def open_stream():
        calls.append(1)
        if len(calls) > 1:
            stop.set()
            return iter(())
        return _frames(5, clock)

    cam = LiveCamera("right", open_stream, out, first_retry_s=0.0, monotonic=clock)
    cam.run(stop)
    assert (cam.stats.frames, cam.stats.dropped, out.qsize()) == (5, 3, 2)


def _fix(t: datetime) -> Fix:
    return Fix(t, 4.35, 52.01, 5.0, 90.0, 0.8, FixQuality.GPS, 10, 1)


@pytest.mark.parametrize(
    ("ahead_s", "trusted"), [(0.05, True), (0.4, True), (0.7, False), (2.0, False), (-1.0, False)]
)
def test_clock_offset_against_gps_time_gates_fining(ahead_s, trusted, caplog):
    wall = [T0]
    watch = GpsWatch(silent_after_s=5, max_offset_s=0.5, wall=lambda: wall[0])
    with caplog.at_level(logging.INFO, logger="scancar.gps"):
        for i in range(5):
            fix_time = T0 + timedelta(seconds=i)
            # the sentence arrives 0.1-0.3 s after its epoch, on a clock ahead_s ahead
            wall[0] = fix_time + timedelta(seconds=ahead_s + 0.1 + 0.05 * (i % 3))
            watch.on_fix(_fix(fix_time))
    assert watch.is_clock_trusted() is trusted
    assert watch.clock_offset_s == pytest.approx(ahead_s + 0.1, abs=1e-6)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == (0 if trusted else 1)
    if not trusted:
        assert "nothing is fined" in warnings[0].getMessage()
        assert watch.clock_state == ClockState.OFF


def test_gps_silence_logged_once_then_recovery(caplog):
    mono = Clock()
    watch = GpsWatch(
        silent_after_s=5,
        max_offset_s=0.5,
        monotonic=mono,
        wall=lambda: T0 + timedelta(seconds=mono.t),
    )
    with caplog.at_level(logging.INFO, logger="scancar.gps"):
        watch.on_fix(_fix(T0 + timedelta(seconds=mono.t)))
        for _ in range(30):  # 30 s without a fix, checked every second
            mono.t += 1.0
            watch.check()
        assert watch.state == GpsState.SILENT
        assert watch.reading().fix_age_s == pytest.approx(30.0)
        watch.on_fix(_fix(T0 + timedelta(seconds=mono.t)))
    messages = [r.getMessage() for r in caplog.records]
    assert sum("GPS silent" in m for m in messages) == 1
    assert sum("GPS back" in m for m in messages) == 1
    assert watch.state == GpsState.OK
