"""Position source adapters: NMEA file replay, serial receiver, GPX track, gpsd JSON.

Each adapter yields only accepted fixes and keeps counters in ``stats`` (a ``ParseStats``).
Third-party APIs (pyserial, gpxpy) are used only here.
"""

from __future__ import annotations

import json
import logging
import math
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol, cast

from scancar.gps.errors import GpsConfigError, GpsSourceError
from scancar.gps.filters import MotionFilter
from scancar.gps.model import DropReason, Fix, FixQuality, IgnoredKind, ParseStats
from scancar.gps.nmea import NmeaConfig, NmeaParser

log = logging.getLogger(__name__)

Sleep = Callable[[float], None]
CHUNK = 4096


class _SerialPort(Protocol):
    """The part of ``serial.Serial`` this module uses."""

    in_waiting: int

    def read(self, size: int = 1) -> bytes: ...

    def reset_input_buffer(self) -> None: ...

    def close(self) -> None: ...


class NmeaFileSource:
    """Replays a recorded NMEA log.

    ``speed=None`` replays as fast as possible; ``speed=1.0`` at the recorded pace (sleeping
    between fixes by the difference of their UTC times, each gap capped at ``max_gap_s``);
    ``speed=10`` ten times faster.
    """

    def __init__(
        self,
        path: str | Path,
        speed: float | None = None,
        *,
        config: NmeaConfig | None = None,
        max_gap_s: float = 5.0,
        sleep: Sleep = time.sleep,
    ) -> None:
        if speed is not None and not (math.isfinite(speed) and speed > 0):
            raise GpsConfigError("speed", speed, "a positive replay factor or None")
        self.path = Path(path)
        if not self.path.is_file():
            raise GpsSourceError(str(self.path), "no such file")
        self.speed = speed
        self.max_gap_s = max_gap_s
        self._sleep = sleep
        self._parser = NmeaParser(config)
        self.stats = self._parser.stats
        self._closed = threading.Event()

    def fixes(self) -> Iterator[Fix]:
        previous: Fix | None = None
        with self.path.open("rb") as fh:
            while not self._closed.is_set():
                chunk = fh.read(CHUNK)
                batch = self._parser.feed(chunk) if chunk else self._parser.flush()
                for fix in batch:
                    self._pace(previous, fix)
                    previous = fix
                    yield fix
                if not chunk:
                    return

    def _pace(self, previous: Fix | None, fix: Fix) -> None:
        if self.speed is None or previous is None:
            return
        gap = (fix.time - previous.time).total_seconds()
        if gap > 0:
            self._sleep(min(gap, self.max_gap_s) / self.speed)

    def close(self) -> None:
        self._closed.set()


class SerialNmeaSource:
    """Reads NMEA from a serial receiver (pyserial). Reopens the port after read errors."""

    def __init__(
        self,
        device: str,
        baud: int = 9600,
        *,
        config: NmeaConfig | None = None,
        read_timeout_s: float = 1.0,
        reconnect_delay_s: float = 2.0,
    ) -> None:
        allowed = (4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800)
        if baud not in allowed:
            raise GpsConfigError("baud", baud, f"one of {', '.join(map(str, allowed))}")
        self.device = device
        self.baud = baud
        self.read_timeout_s = read_timeout_s
        self.reconnect_delay_s = reconnect_delay_s
        self._parser = NmeaParser(config)
        self.stats = self._parser.stats
        self._closed = threading.Event()

    def _open(self) -> _SerialPort:
        import serial

        try:  # exclusive: a second process on the same receiver is refused, not interleaved
            port = serial.Serial(
                self.device, self.baud, timeout=self.read_timeout_s, exclusive=True
            )
            # sentences the driver kept while nobody read are old: their fixes would be
            # stale positions and a wrong clock comparison
            port.reset_input_buffer()
            return cast(_SerialPort, port)
        except (serial.SerialException, OSError) as exc:
            if "exclusively lock" in str(exc):
                raise GpsSourceError(self.device, "in use by another process") from exc
            raise GpsSourceError(self.device, f"cannot open at {self.baud} baud: {exc}") from exc

    def fixes(self) -> Iterator[Fix]:
        import serial

        port: _SerialPort | None = self._open()  # a bad device fails here, at start-up
        try:
            while not self._closed.is_set():
                if port is None:
                    if self._closed.wait(self.reconnect_delay_s):
                        return
                    try:
                        port = self._open()
                    except GpsSourceError as err:
                        log.warning("%s", err)
                        continue
                try:
                    data = port.read(max(1, port.in_waiting))
                except (serial.SerialException, OSError, TypeError) as exc:
                    log.warning("GPS serial %s read failed (%s); reopening", self.device, exc)
                    port.close()
                    port = None
                    continue
                for fix in self._parser.feed(data) if data else ():
                    if self._closed.is_set():
                        return
                    yield fix
        finally:
            if port is not None:
                port.close()

    def close(self) -> None:
        self._closed.set()


class GpxSource:
    """Replays the points of a GPX track (gpxpy) as fixes, with the same plausibility rules."""

    def __init__(self, path: str | Path, *, config: NmeaConfig | None = None) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise GpsSourceError(str(self.path), "no such file")
        self.config = config or NmeaConfig()
        self.stats = ParseStats()
        self._motion = MotionFilter(self.config.motion, self.stats)
        self._closed = threading.Event()

    def fixes(self) -> Iterator[Fix]:
        import gpxpy
        import gpxpy.gpx

        try:
            with self.path.open(encoding="utf-8") as fh:
                gpx = gpxpy.parse(fh)
        except (gpxpy.gpx.GPXException, ValueError, OSError) as exc:
            raise GpsSourceError(str(self.path), f"not a readable GPX file: {exc}") from exc
        index = 0
        for track in gpx.tracks:
            for segment in track.segments:
                for point in segment.points:
                    index += 1
                    self.stats.lines_read += 1
                    if self._closed.is_set():
                        return
                    fix = self._point_fix(point, index)
                    if fix is not None:
                        yield from self._motion.check(fix)
        yield from self._motion.flush()

    def _point_fix(self, point: object, index: int) -> Fix | None:
        p: object = point
        when = getattr(p, "time", None)
        lat, lon = getattr(p, "latitude", None), getattr(p, "longitude", None)
        reason: DropReason | None = None
        if not isinstance(when, datetime):
            reason = DropReason.NO_DATE
        elif getattr(p, "type_of_gpx_fix", None) == "none":
            reason = DropReason.NO_FIX
        elif not isinstance(lat, float) or not isinstance(lon, float):
            reason = DropReason.INVALID_POSITION
        hdop = getattr(p, "horizontal_dilution", None)
        speed = getattr(p, "speed", None)
        if reason is None and hdop is not None and hdop > self.config.max_hdop:
            reason = DropReason.HDOP_TOO_HIGH
        if reason is None and speed is not None and speed > self.config.motion.max_speed_mps:
            reason = DropReason.IMPLAUSIBLE_SPEED
        if reason is not None or not isinstance(when, datetime):
            self.stats.dropped[reason or DropReason.NO_DATE] += 1
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        course = getattr(p, "course", None)
        satellites = getattr(p, "satellites", None)
        try:
            return Fix(
                time=when.astimezone(UTC),
                lon=float(lon),  # type: ignore[arg-type]
                lat=float(lat),  # type: ignore[arg-type]
                speed_mps=None if speed is None else float(speed),
                course_deg=None if course is None else float(course) % 360.0,
                hdop=None if hdop is None else float(hdop),
                quality=FixQuality.GPS,
                satellites=None if satellites is None else int(satellites),
                source_line=index,
                talker="GPX",
                segment=self._motion.segment,
            )
        except GpsConfigError:
            self.stats.dropped[DropReason.INVALID_POSITION] += 1
            return None

    def close(self) -> None:
        self._closed.set()


class GpsdSource:
    """Reads gpsd's JSON protocol (``?WATCH={"enable":true,"json":true}``) over TCP.

    Uses TPV reports with ``mode`` >= 2 (2D/3D fix); the latest SKY ``hdop`` is attached;
    gpsd's ``eph`` becomes ``Fix.error_m``.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 2947,
        *,
        config: NmeaConfig | None = None,
        timeout_s: float = 5.0,
    ) -> None:
        if not 0 < port < 65536:
            raise GpsConfigError("port", port, "a TCP port 1-65535")
        self.host = host
        self.port = port
        self.timeout_s = timeout_s
        self.config = config or NmeaConfig()
        self.stats = ParseStats()
        self._motion = MotionFilter(self.config.motion, self.stats)
        self._closed = threading.Event()
        self._hdop: float | None = None

    def fixes(self) -> Iterator[Fix]:
        where = f"gpsd {self.host}:{self.port}"
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.timeout_s)
        except OSError as exc:
            raise GpsSourceError(where, f"cannot connect: {exc}") from exc
        with sock:
            sock.sendall(b'?WATCH={"enable":true,"json":true};\n')
            buffer = b""
            while not self._closed.is_set():
                try:
                    data = sock.recv(CHUNK)
                except TimeoutError:
                    continue
                except OSError as exc:
                    raise GpsSourceError(where, f"connection lost: {exc}") from exc
                if not data:
                    yield from self._motion.flush()
                    raise GpsSourceError(where, "connection closed by gpsd")
                buffer += data
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    fix = self._report(line)
                    if fix is not None:
                        yield from self._motion.check(fix)

    def _report(self, line: bytes) -> Fix | None:
        self.stats.lines_read += 1
        try:
            report = json.loads(line)
        except ValueError:
            self.stats.dropped[DropReason.MALFORMED] += 1
            return None
        if not isinstance(report, dict):
            self.stats.dropped[DropReason.MALFORMED] += 1
            return None
        cls = report.get("class")
        if cls == "SKY" and isinstance(report.get("hdop"), int | float):
            self._hdop = float(report["hdop"])
        if cls != "TPV":
            self.stats.ignored[IgnoredKind.UNSUPPORTED] += 1
            return None
        return self._tpv(report)

    def _tpv(self, report: dict[str, object]) -> Fix | None:
        mode = report.get("mode")
        if not isinstance(mode, int) or mode < 2:
            self.stats.dropped[DropReason.NO_FIX] += 1
            return None
        raw_time = report.get("time")
        if not isinstance(raw_time, str):
            self.stats.dropped[DropReason.NO_DATE] += 1
            return None
        try:
            when = datetime.fromisoformat(raw_time.replace("Z", "+00:00")).astimezone(UTC)
            lat, lon = float(report["lat"]), float(report["lon"])  # type: ignore[arg-type]
            speed = report.get("speed")
            track = report.get("track")
            eph = report.get("eph")
            if self._hdop is not None and self._hdop > self.config.max_hdop:
                self.stats.dropped[DropReason.HDOP_TOO_HIGH] += 1
                return None
            return Fix(
                time=when,
                lon=lon,
                lat=lat,
                speed_mps=float(speed) if isinstance(speed, int | float) else None,
                course_deg=float(track) % 360.0 if isinstance(track, int | float) else None,
                hdop=self._hdop,
                quality=FixQuality.DGPS if report.get("status") == 2 else FixQuality.GPS,
                satellites=None,
                source_line=self.stats.lines_read,
                talker="GPSD",
                segment=self._motion.segment,
                error_m=float(eph) if isinstance(eph, int | float) else None,
            )
        except (KeyError, TypeError, ValueError, GpsConfigError):
            self.stats.dropped[DropReason.MALFORMED] += 1
            return None

    def close(self) -> None:
        self._closed.set()
