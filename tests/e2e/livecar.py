"""A live street for ``scancar run`` as a real process: the fixture route's ``centrum`` leg
driven in real time. An MJPEG camera on loopback serves its frames, NMEA sentences go through
a pseudo-terminal pair at 1 Hz, both from one timeline, so the car reads plates where the GPS
says it is. Either can be stopped and resumed; the GPS can run ``shift_s`` behind the system
clock (a car whose clock is ahead)."""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import termios
import threading
import time
import tty
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from fixtures.route import RouteInfo, nmea_sentence
from fixtures.route.generator import FPS, SPEED_KMH, leg_origin
from scancar.gps.geometry import from_local_m
from tests.conftest import REPO

PRE_S = 3.0  # GPS moving before the first frame (a heading and fixes on both sides)
POST_S = 3.0


def wait_for(condition: Callable[[], Any], timeout_s: float, what: str) -> Any:
    """Poll ``condition`` until it is truthy; AssertionError naming ``what`` after timeout."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}")


class LiveDrive:
    """The leg's timeline: frame and position at any wall time (true time = wall - shift)."""

    def __init__(self, route: RouteInfo, leg: str = "centrum", shift_s: float = 0.0) -> None:
        truth = json.loads((route.folder / "truth.json").read_text())
        info = next(x for x in truth["legs"] if x["name"] == leg)
        start = datetime.fromisoformat(info["start"])
        paths = sorted(route.frames_dir.iterdir())
        first = start.strftime("%Y%m%dT%H%M%S")
        i = next(k for k, p in enumerate(paths) if p.name.startswith(first))
        self.frames = [p.read_bytes() for p in paths[i : i + int(info["frames"])]]
        self.duration_s = len(self.frames) / FPS
        self.origin = leg_origin(leg, route.seed)
        self.speed = SPEED_KMH / 3.6
        self.shift_s = shift_s
        self.blank = cv2.imencode(".jpg", np.full((720, 1280, 3), 90, np.uint8))[1].tobytes()
        self._start: float | None = None
        self.drives = 0

    def drive(self) -> None:
        """Start driving the leg now (again from its start)."""
        self._start = self.true_time()
        self.drives += 1

    def true_time(self) -> float:
        return time.time() - self.shift_s

    def leg_time(self, true_t: float) -> float:
        if self._start is None:
            return -PRE_S
        return min(max(true_t - self._start - PRE_S, -PRE_S), self.duration_s + POST_S)

    def is_done(self) -> bool:
        return self.leg_time(self.true_time()) >= self.duration_s + POST_S

    def frame(self, true_t: float) -> bytes:
        t = self.leg_time(true_t)
        return self.frames[int(t * FPS)] if 0 <= t < self.duration_s else self.blank

    def fix(self, true_t: float) -> tuple[float, float, float]:
        """(lon, lat, speed m/s) at true time ``true_t``."""
        t = self.leg_time(true_t)
        moving = self._start is not None and -PRE_S < t < self.duration_s + POST_S
        lon, lat = from_local_m(self.speed * t, 0.0, *self.origin)
        return lon, lat, self.speed if moving else 0.0


# --------------------------------------------------------------------------- camera
class MjpegCamera:
    """``http://127.0.0.1:PORT/stream``: multipart JPEG at ``fps`` from the drive's timeline."""

    def __init__(self, drive: LiveDrive, fps: float = FPS) -> None:
        self.drive = drive
        self.fps = fps
        self.is_down = False
        self._closed = threading.Event()
        camera = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: object) -> None:
                pass

            def do_GET(self) -> None:
                if camera.is_down:
                    self.send_error(503, "camera off")
                    return
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.end_headers()
                camera.stream(self.wfile)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/stream"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stream(self, out: Any) -> None:
        tick = time.monotonic()
        with contextlib.suppress(OSError):
            while not self.is_down and not self._closed.is_set():
                jpeg = self.drive.frame(self.drive.true_time())
                head = b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n"
                out.write(head % len(jpeg) + jpeg + b"\r\n")
                out.flush()
                tick += 1.0 / self.fps
                self._closed.wait(max(0.0, tick - time.monotonic()))

    def stop(self) -> None:
        """The camera goes away: streams end, new connections get 503."""
        self.is_down = True

    def resume(self) -> None:
        self.is_down = False

    def close(self) -> None:
        self._closed.set()
        self.server.shutdown()
        self.server.server_close()


# --------------------------------------------------------------------------- GPS
def _coord(value: float, is_lat: bool) -> tuple[str, str]:
    hemi = ("N" if value >= 0 else "S") if is_lat else ("E" if value >= 0 else "W")
    deg = int(abs(value))
    minutes = (abs(value) - deg) * 60
    return (f"{deg:02d}" if is_lat else f"{deg:03d}") + f"{minutes:08.5f}", hemi


def nmea_epoch(t: datetime, lon: float, lat: float, speed_mps: float) -> bytes:
    hhmmss = t.strftime("%H%M%S") + ".00"
    lat_s, ns = _coord(lat, True)
    lon_s, ew = _coord(lon, False)
    rmc = nmea_sentence(
        f"GPRMC,{hhmmss},A,{lat_s},{ns},{lon_s},{ew},{speed_mps / 0.514444:.2f},90.0,"
        f"{t.strftime('%d%m%y')},,,A"
    )
    gga = nmea_sentence(f"GPGGA,{hhmmss},{lat_s},{ns},{lon_s},{ew},1,10,0.8,5.0,M,46.0,M,,")
    return f"{rmc}\r\n{gga}\r\n".encode()


class NmeaPty:
    """A receiver behind a pseudo-terminal: the car opens ``path`` as a serial port."""

    def __init__(self, drive: LiveDrive) -> None:
        self.drive = drive
        self.master, self._slave = os.openpty()
        tty.setraw(self._slave)
        os.set_blocking(self.master, False)
        self.path = os.ttyname(self._slave)
        self.is_silent = False
        self.written = 0
        self._closed = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while not self._closed.is_set():
            true_t = self.drive.true_time()
            epoch = math.floor(true_t) + 1
            # a receiver sends its epoch some 50 ms after it
            if self._closed.wait(epoch + 0.05 - true_t):
                return
            if self.is_silent:
                continue
            lon, lat, speed = self.drive.fix(epoch)
            data = nmea_epoch(datetime.fromtimestamp(epoch, UTC), lon, lat, speed)
            with contextlib.suppress(BlockingIOError, OSError):  # nobody reading: dropped
                os.write(self.master, data)
                self.written += 1

    def flush(self) -> None:
        """Drop what waits unread (a car starting reads fresh sentences only)."""
        termios.tcflush(self._slave, termios.TCIFLUSH)

    def close(self) -> None:
        self._closed.set()
        os.close(self.master)
        os.close(self._slave)


# --------------------------------------------------------------------------- the car
class NotifySocket:
    """A systemd-style notify socket: collects the datagrams the car sends."""

    def __init__(self) -> None:
        self.path = os.path.join(tempfile.mkdtemp(prefix="notify-"), "sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.1)
        self.messages: list[str] = []
        self._closed = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while not self._closed.is_set():
            with contextlib.suppress(TimeoutError, OSError):
                self.messages.append(self.sock.recv(4096).decode())

    def close(self) -> None:
        self._closed.set()
        self.sock.close()


def write_config(folder: Path, **values: Any) -> Path:
    """A car.toml for a live test car; ``values`` fill the template."""
    text = """
data_dir = "{data_dir}"
ocr_model = "{model}"
[backend]
url = "{backend}"
token_file = "{token_file}"
heartbeat_s = 1
drain_timeout_s = 15
retry_max_s = 2
[rights]
sync_interval_s = 1
[zones]
refresh_s = 1
[gps]
source = "serial:{gps}"
[[cameras]]
name = "right"
source = "{camera}"
side = "right"
distance_m = 3.0
[start]
camera_timeout_s = 30
gps_fix_timeout_s = 30
[health]
camera_down_after_s = 3
gps_silent_after_s = 3
summary_interval_s = 3
status_interval_s = 0.5
metrics_port = {metrics_port}
"""
    path = folder / "car.toml"
    path.write_text(text.format(**values))
    return path


def car_env(notify: NotifySocket | None = None) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    if notify is not None:
        env.update(NOTIFY_SOCKET=notify.path, WATCHDOG_USEC="2000000")
    return env


def start_car(config: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "scancar", "run", "--config", str(config)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop_car(proc: subprocess.Popen[str], timeout_s: float = 60) -> tuple[str, str]:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=timeout_s)
    return out, err


def car_command(command: str, config: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """``scancar COMMAND --config CONFIG`` to its end (e.g. ``status``, a second ``run``)."""
    return subprocess.run(
        [sys.executable, "-m", "scancar", command, "--config", str(config), *extra],
        cwd=REPO,
        env=car_env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def car_status(config: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return car_command("status", config, *extra)


def status_doc(data_dir: Path) -> dict[str, Any]:
    try:
        return dict(json.loads((data_dir / "status.json").read_text())["health"])
    except (OSError, ValueError, KeyError):
        return {}


def log_lines(data_dir: Path) -> list[dict[str, Any]]:
    path = data_dir / "logs" / "car.log"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def messages(data_dir: Path, needle: str) -> list[str]:
    return [line["message"] for line in log_lines(data_dir) if needle in line["message"]]


@contextlib.contextmanager
def running(proc: subprocess.Popen[str]) -> Iterator[subprocess.Popen[str]]:
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)
