"""The car's cameras: supervised live readers (``run``) and recorded folders (``replay``).

Live: one reader thread per camera. A stream that ends or fails is reopened with backoff
(0.5 s doubling to 10 s); the camera is reported ``down`` after ``down_after_s`` without a
frame. Each transition is logged once (lost, down, back), never once per retry. Frames are
renumbered per camera so a reconnect does not restart the indexes the pipeline pairs frames
by. When the pipeline falls behind, the newest frame is dropped (and counted) rather than
queued: a late frame would be matched to the wrong GPS position.
"""

from __future__ import annotations

import dataclasses
import heapq
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from scancar.lpr.errors import FrameSourceError
from scancar.lpr.model import Frame

log = logging.getLogger("scancar.camera")

FPS_WINDOW_S = 5.0


class CameraState:
    STARTING = "starting"
    UP = "up"
    RECONNECTING = "reconnecting"
    DOWN = "down"


class FrameStream(Protocol):
    def __iter__(self) -> Iterator[Frame]: ...


@dataclass
class CameraStats:
    """One camera's live figures (written by its reader thread, read by health)."""

    name: str
    state: str = CameraState.STARTING
    frames: int = 0
    dropped: int = 0
    reconnects: int = 0
    last_error: str | None = None
    last_frame_mono: float | None = None
    trouble_since_mono: float | None = None
    _arrivals: deque[float] = field(default_factory=lambda: deque(maxlen=600))

    def fps(self, now_mono: float) -> float:
        recent = [t for t in list(self._arrivals) if now_mono - t <= FPS_WINDOW_S]
        return round(len(recent) / FPS_WINDOW_S, 2)

    def last_frame_age_s(self, now_mono: float) -> float | None:
        last = self.last_frame_mono
        return None if last is None else round(now_mono - last, 3)


class LiveCamera:
    """Reads one camera in a thread until ``stop``; see the module docstring."""

    def __init__(
        self,
        name: str,
        open_stream: Callable[[], FrameStream],
        out: queue.Queue[Frame],
        *,
        down_after_s: float = 5.0,
        first_retry_s: float = 0.5,
        max_retry_s: float = 10.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self._open = open_stream
        self._out = out
        self.down_after_s = down_after_s
        self.first_retry_s = first_retry_s
        self.max_retry_s = max_retry_s
        self._mono = monotonic
        self.stats = CameraStats(name)
        self._stream: FrameStream | None = None
        self._index = 0
        self._thread: threading.Thread | None = None

    def start(self, stop: threading.Event) -> None:
        self._thread = threading.Thread(
            target=self.run, args=(stop,), name=f"camera-{self.name}", daemon=True
        )
        self._thread.start()

    def join(self, timeout_s: float) -> None:
        if self._thread is not None:
            self._thread.join(timeout_s)

    def run(self, stop: threading.Event) -> None:
        failures = 0
        while not stop.is_set():
            reason = self._read(stop)
            if stop.is_set():
                break
            failures = 0 if reason is None else failures + 1
            self._lost(reason or "the stream ended")
            delay = min(self.max_retry_s, self.first_retry_s * (2 ** max(0, failures - 1)))
            self._wait(stop, delay)
        self._close_stream()

    def _read(self, stop: threading.Event) -> str | None:
        """Read until the stream ends (None) or fails (the reason)."""
        try:
            stream = self._stream = self._open()
            for frame in stream:
                self._deliver(frame)
                if stop.is_set():
                    return None
        except FrameSourceError as exc:
            return str(exc)
        except Exception as exc:  # a backend library failing: reconnect, keep the reason
            return f"{type(exc).__name__}: {exc}"
        finally:
            self._close_stream()
        return None

    def _close_stream(self) -> None:
        stream, self._stream = self._stream, None
        close = getattr(stream, "close", None)
        if close is not None:
            close()

    def _deliver(self, frame: Frame) -> None:
        now = self._mono()
        s = self.stats
        if s.state != CameraState.UP:
            if s.state != CameraState.STARTING and s.trouble_since_mono is not None:
                log.info(
                    "camera %s: back after %.1f s (reconnects %d)",
                    self.name,
                    now - s.trouble_since_mono,
                    s.reconnects,
                )
            elif s.state == CameraState.STARTING:
                log.info("camera %s: first frame", self.name)
            s.state = CameraState.UP
            s.trouble_since_mono = None
            s.last_error = None
        s.frames += 1
        s.last_frame_mono = now
        s._arrivals.append(now)
        frame = dataclasses.replace(frame, camera=self.name, index=self._index)
        self._index += 1
        try:
            self._out.put_nowait(frame)
        except queue.Full:
            s.dropped += 1

    def _lost(self, reason: str) -> None:
        s = self.stats
        s.last_error = reason
        s.reconnects += 1
        if s.state == CameraState.UP:
            s.state = CameraState.RECONNECTING
            s.trouble_since_mono = self._mono()
            log.warning("camera %s: stream lost (%s); reconnecting", self.name, reason)
        elif s.trouble_since_mono is None:
            s.trouble_since_mono = self._mono()

    def _wait(self, stop: threading.Event, delay: float) -> None:
        """Sleep ``delay`` (in small steps) and declare the camera down once it is overdue."""
        deadline = self._mono() + delay
        while not stop.is_set():
            self.check_down()
            left = deadline - self._mono()
            if left <= 0:
                return
            stop.wait(min(left, 0.25))

    def check_down(self) -> None:
        s = self.stats
        since = s.trouble_since_mono
        if since is None or s.state in (CameraState.DOWN, CameraState.STARTING):
            return
        if self._mono() - since >= self.down_after_s:
            s.state = CameraState.DOWN
            log.warning(
                "camera %s: down, no frame for %.0f s (%s)",
                self.name,
                self._mono() - since,
                s.last_error,
            )


class LiveFrames:
    """Every live camera's frames through one queue, in arrival order."""

    def __init__(self, cameras: list[LiveCamera], frames: queue.Queue[Frame]) -> None:
        self.cameras = cameras
        self._q = frames
        self.last_poll_mono = time.monotonic()

    @property
    def stats(self) -> list[CameraStats]:
        return [c.stats for c in self.cameras]

    def start(self, stop: threading.Event) -> None:
        for cam in self.cameras:
            cam.start(stop)

    def join(self, timeout_s: float = 5.0) -> None:
        for cam in self.cameras:
            cam.join(timeout_s)

    def wait_first_frames(self, timeout_s: float, stop: threading.Event) -> list[CameraStats]:
        """Wait until every camera delivered a frame; returns those that did not in time."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and not stop.is_set():
            if all(c.stats.frames > 0 for c in self.cameras):
                return []
            stop.wait(0.05)
        return [c.stats for c in self.cameras if c.stats.frames == 0]

    def frames(self, stop: threading.Event) -> Iterator[Frame]:
        while not stop.is_set():
            self.last_poll_mono = time.monotonic()
            try:
                yield self._q.get(timeout=0.25)
            except queue.Empty:
                for cam in self.cameras:
                    cam.check_down()


def live_frame_queue(n_cameras: int) -> queue.Queue[Frame]:
    return queue.Queue(maxsize=4 * max(1, n_cameras))


# --------------------------------------------------------------------------- recordings
def merged(sources: Iterable[Iterable[Frame]]) -> Iterator[Frame]:
    """Frames of several recorded cameras in time order."""
    return heapq.merge(*sources, key=lambda f: f.captured_at)


def paced(frames: Iterator[Frame], speed: float | None, stop: threading.Event) -> Iterator[Frame]:
    """Recorded frames at ``speed`` x their own pace (None: as fast as possible); gaps longer
    than 5 s (the recording was paused) are cut to 5 s. Ends early when ``stop`` is set."""
    start_wall = time.monotonic()
    start_t: datetime | None = None
    skipped = timedelta(0)
    last: datetime | None = None
    for frame in frames:
        if stop.is_set():
            return
        if speed is not None:
            if start_t is None:
                start_t = frame.captured_at
            if last is not None and frame.captured_at - last > timedelta(seconds=5):
                skipped += frame.captured_at - last - timedelta(seconds=5)
            last = frame.captured_at
            due = (frame.captured_at - start_t - skipped).total_seconds() / speed
            wait = due - (time.monotonic() - start_wall)
            if wait > 0 and stop.wait(wait):
                return
        yield frame
