"""``build_car(config)``: the car's one composition root, shared by ``run``, ``replay`` and
``demo``.

Live (``run``): cameras and GPS are live devices; the data folder is locked; the backend is
asked for the plate key first (which proves the device token); a backend that cannot be reached
is not fatal when a zone set was saved (the car starts offline, rights unknown until the key
arrives). Everything the car cannot use fails here, in this order, with one line
(``CarStartError``): recordings given to ``run``, data folder in use, the token refused, no
zones, no rights key at all, the OCR model, a camera without a frame in
``start.camera_timeout_s``, the GPS device or no fix in ``start.gps_fix_timeout_s``.

Replay: frames from image folders with their own times, the whole NMEA/GPX file as the track,
the frame time as the clock; otherwise the same parts.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from scancar.car.backend import BackendLink, BackendRefusalError, BackendUnreachableError, PlateKey
from scancar.car.cameras import LiveCamera, LiveFrames, live_frame_queue, merged, paced
from scancar.car.errors import (
    BackendRefusedError,
    CameraStartError,
    CarSetupError,
    CarStartError,
    GpsStartError,
    NoRightsKeyError,
)
from scancar.car.gpswatch import GpsWatch
from scancar.car.lock import DataFolderLock
from scancar.car.rights import CarRights, RightsKeeper, remove_legacy_key
from scancar.car.zoneset import LoadedZones, load_zones
from scancar.config import CarConfig
from scancar.lpr.model import Frame
from scancar.pipeline import EnforcementPipeline, PipelineSettings

log = logging.getLogger("scancar.car")


@dataclass(frozen=True, slots=True)
class Replay:
    """Build the car for a recording: ``speed`` x real time (None: as fast as possible)."""

    speed: float | None = None


@dataclass
class Car:
    """Every part of one car process; ``close()`` releases them (the lock last)."""

    config: CarConfig
    mode: str  # "live" | "replay"
    settings: PipelineSettings
    lock: DataFolderLock
    clock: Callable[[], datetime]
    zones: LoadedZones
    run_id: uuid.UUID = field(default_factory=uuid.uuid4)
    link: BackendLink | None = None
    rights: CarRights = None  # type: ignore[assignment]  # set while building
    pipeline: EnforcementPipeline = None  # type: ignore[assignment]
    recognizer: Any = None  # PlateRecognizer
    outbox: Any = None  # SqliteOutbox
    chalk: Any = None  # SqliteChalkStore
    repeat_guard: Any = None  # SqliteRepeatGuard
    secret: bytes = field(default=b"", repr=False)
    track: Any = None  # LiveTrack (live) or Track (replay)
    keeper: RightsKeeper | None = None
    gps_watch: GpsWatch | None = None
    live_frames: LiveFrames | None = None
    replay_sources: list[Any] = field(default_factory=list)
    replay_speed: float | None = None
    gps_fixes: int = 0
    gps_dropped: int = 0
    started_mono: float = field(default_factory=time.monotonic)
    last_frame_done_mono: float | None = None
    frame_time: list[datetime] = field(default_factory=list)  # replay clock: the last frame
    uploader: Any = None  # Uploader, set by the runner
    heartbeat: Any = None  # HeartbeatSender, set by the runner
    monitor: Any = None  # HealthMonitor, set by the runner
    closers: list[Callable[[], None]] = field(default_factory=list, repr=False)

    @property
    def is_live(self) -> bool:
        return self.mode == "live"

    def frames(self, stop: threading.Event) -> Iterator[Frame]:
        if self.live_frames is not None:
            return self.live_frames.frames(stop)
        return paced(merged(self.replay_sources), self.replay_speed, stop)

    def frames_skipped(self) -> int:
        return sum(getattr(s, "skipped", 0) for s in self.replay_sources)

    def close(self) -> None:
        for close in reversed(self.closers):
            try:
                close()
            except Exception:  # closing must go on; the failure is logged
                log.exception("closing a car part failed")
        self.closers.clear()


# --------------------------------------------------------------------------- checks
def live_setup_problem(config: CarConfig) -> str | None:
    """``run`` reads live devices only; recordings belong to ``replay`` (one line)."""
    from scancar.frames.sources import is_live_spec

    for i, cam in enumerate(config.cameras):
        if not is_live_spec(cam.source):
            return (
                f"cameras.{i}.source {cam.source!r} is a recording; `scancar run` reads live "
                "cameras (a device number, /dev/videoN, rtsp:// or http:// URL): replay "
                "recordings with `scancar replay --frames FOLDER --gps FILE`"
            )
    kind = config.gps.source.split(":", 1)[0]
    if kind not in ("serial", "gpsd"):
        return (
            f"gps.source {config.gps.source!r} is a recording; `scancar run` reads a live "
            "receiver (serial:DEVICE or gpsd:HOST:PORT): replay recordings with "
            "`scancar replay --frames FOLDER --gps FILE`"
        )
    return None


def _read_token(config: CarConfig, token: str | None) -> str | None:
    if config.backend is None:
        return None
    if token is not None:
        return token
    path = config.backend.token_file
    if path is None:
        raise CarSetupError("backend.token_file is not set")
    try:
        value = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise CarStartError(f"backend.token_file {path}: cannot read it ({exc.strerror})") from None
    if not value:
        raise CarStartError(f"backend.token_file {path} is empty")
    return value


def _first_key(config: CarConfig, link: BackendLink | None) -> PlateKey | None:
    """The plate key at start: ``rights.key_file`` when given (a car without a backend, or a
    replay with ``--rights-key``), else from the backend: a refusal is fatal (the token or the
    URL is wrong), an unreachable backend is not (the car starts offline, rights unknown)."""
    key_file = config.rights.key_file
    if key_file is not None:
        from permits.errors import FeedError
        from permits.feed import key_fingerprint

        key = key_file.read_bytes()
        try:
            return PlateKey(key, key_fingerprint(key))
        except FeedError as exc:
            raise CarStartError(f"rights.key_file {key_file}: {exc}") from None
    if link is None:
        return None
    try:
        return link.plate_key()
    except BackendRefusalError as exc:
        raise BackendRefusedError(str(exc)) from None
    except BackendUnreachableError as exc:
        log.warning("backend unreachable at start (%s): starting offline", exc)
        return None


# --------------------------------------------------------------------------- parts
def _make_rights(
    config: CarConfig, link: BackendLink | None, clock: Callable[[], datetime]
) -> CarRights:
    online = feed = None
    if link is not None:
        from scancar.rights.http import HttpOnlineRightsCheck, HttpRightsFeedClient

        online = HttpOnlineRightsCheck(link.client, link.base_url, link.token)
        if config.rights.key_file is None:  # a key file's cache is fed from its snapshot only
            feed = HttpRightsFeedClient(link.client, link.base_url, link.token)
    return CarRights(
        config.data_dir,
        max_age=timedelta(minutes=config.rights.max_age_minutes),
        clock=clock,
        online=online,
        feed=feed,
        seed_snapshot=config.rights.snapshot,
    )


def _start_live_gps(config: CarConfig, watch: GpsWatch) -> Any:
    from scancar.gps.live import LiveTrack
    from scancar.gps.nmea import NmeaConfig
    from scancar.gps.sources import GpsdSource, SerialNmeaSource
    from scancar.gps.track import TrackConfig

    kind, _, rest = config.gps.source.partition(":")

    def open_source() -> Any:
        if kind == "serial":
            return SerialNmeaSource(rest, config.gps.baud, config=NmeaConfig())
        host, _, port = rest.rpartition(":")
        return GpsdSource(host or "127.0.0.1", int(port or 2947))

    track = LiveTrack(
        open_source,
        TrackConfig(keep_s=config.gps.keep_s, max_accuracy_m=config.gps.max_accuracy_m),
        on_fix=watch.on_fix,
    )
    track.start()
    return track


def _start_live_cameras(config: CarConfig, stop: threading.Event) -> LiveFrames:
    from scancar.frames.mjpeg import MjpegHttpSource
    from scancar.frames.sources import VideoSource

    frames_q = live_frame_queue(len(config.cameras))
    cameras = []
    for cam in config.cameras:

        def open_stream(spec: str = cam.source, name: str = cam.name) -> Any:
            if spec.lower().startswith(("http://", "https://")):
                return MjpegHttpSource(spec, name)
            return VideoSource(spec, name)

        cameras.append(
            LiveCamera(
                cam.name, open_stream, frames_q, down_after_s=config.health.camera_down_after_s
            )
        )
    live = LiveFrames(cameras, frames_q)
    live.start(stop)
    return live


def _wait_for_devices(car: Car, stop: threading.Event) -> None:
    """Fail fast: every camera's first frame, then a first GPS fix, within their timeouts."""
    config = car.config
    if car.live_frames is None or car.gps_watch is None:
        return
    late = car.live_frames.wait_first_frames(config.start.camera_timeout_s, stop)
    if late:
        cam = late[0]
        spec = next(c.source for c in config.cameras if c.name == cam.name)
        raise CameraStartError(
            f"camera {cam.name} ({spec}): no frame within {config.start.camera_timeout_s:g} s "
            f"({cam.last_error or 'nothing received'})"
        )
    deadline = time.monotonic() + config.start.gps_fix_timeout_s
    track = car.track
    while car.gps_watch.fixes == 0 and not stop.is_set():
        if track.fixes_added == 0 and track.source_failures > 0:
            raise GpsStartError(f"gps.source {config.gps.source}: {track.last_error}")
        if time.monotonic() >= deadline:
            raise GpsStartError(
                f"gps.source {config.gps.source}: no fix within "
                f"{config.start.gps_fix_timeout_s:g} s (start.gps_fix_timeout_s)"
            )
        stop.wait(0.05)


def _load_replay_track(config: CarConfig) -> tuple[Any, int, int]:
    from scancar.gps.nmea import NmeaConfig
    from scancar.gps.sources import GpxSource, NmeaFileSource
    from scancar.gps.track import Track, TrackConfig

    kind, _, rest = config.gps.source.partition(":")
    source: GpxSource | NmeaFileSource
    if kind == "gpx":
        source = GpxSource(rest)
    else:
        source = NmeaFileSource(rest, config=NmeaConfig(backfill_epochs=3600))
    track = Track(TrackConfig(keep_s=14 * 24 * 3600.0, max_accuracy_m=config.gps.max_accuracy_m))
    for fix in source.fixes():
        track.add(fix)
    stats = source.stats
    return track, stats.fixes_accepted, sum(stats.dropped.values())


def _open_stores(car: Car) -> None:
    from scancar.chalk import SqliteChalkStore, SqliteRepeatGuard, load_or_create_secret
    from scancar.outbox.store import SqliteOutbox

    data = car.config.data_dir
    car.secret = load_or_create_secret(data / "car.secret")
    car.outbox = SqliteOutbox(
        data / "outbox", int(car.config.thresholds.outbox_quota_mb * 1024 * 1024)
    )
    car.closers.append(car.outbox.close)
    car.chalk = SqliteChalkStore(data / "chalk.sqlite3", car.secret)
    car.closers.append(car.chalk.close)
    car.repeat_guard = SqliteRepeatGuard(data / "chalk.sqlite3", car.secret)
    car.closers.append(car.repeat_guard.close)


# --------------------------------------------------------------------------- the root
def build_car(
    config: CarConfig,
    *,
    replay: Replay | None = None,
    token: str | None = None,
    settings: PipelineSettings | None = None,
    stop: threading.Event | None = None,
) -> Car:
    """Every part of the car, checked (see the module docstring); the caller runs it with
    ``scancar.car.runner.drive`` and closes it. ``token`` overrides ``backend.token_file``;
    ``settings`` overrides the thresholds of ``config``; ``stop`` ends the start-up waits."""
    stop = stop or threading.Event()
    if replay is None:
        problem = live_setup_problem(config)
        if problem is not None:
            raise CarSetupError(problem)
    lock = DataFolderLock(config.data_dir)
    lock.acquire()
    closers: list[Callable[[], None]] = [lock.release]
    try:
        return _assemble(config, replay, token, settings, stop, lock, closers)
    except BaseException:
        stop.set()
        for close in reversed(closers):
            with contextlib.suppress(Exception):  # the start-up error is what matters
                close()
        raise


def _assemble(
    config: CarConfig,
    replay: Replay | None,
    token: str | None,
    settings: PipelineSettings | None,
    stop: threading.Event,
    lock: DataFolderLock,
    closers: list[Callable[[], None]],
) -> Car:
    remove_legacy_key(config.data_dir)
    link = _link(config, _read_token(config, token), closers)
    key = _first_key(config, link)
    if key is None and link is None:
        raise NoRightsKeyError(
            "no rights key: without a backend the car needs rights.key_file, else it could "
            "never report anything"
        )
    zones = load_zones(config.zones.file, link, config.data_dir)
    frame_time: list[datetime] = []

    def replay_clock() -> datetime:
        return frame_time[0] if frame_time else datetime.now(UTC)

    car = Car(
        config=config,
        mode="live" if replay is None else "replay",
        settings=dataclasses.replace(
            settings or config.pipeline_settings(), software_version=software_version()
        ),
        lock=lock,
        clock=_utcnow if replay is None else replay_clock,
        zones=zones,
        link=link,
        frame_time=frame_time,
        closers=closers,
    )
    _start_metrics(car)
    if car.is_live:
        _start_live_devices(car, stop)
    car.recognizer = _recognizer(config)
    if replay is not None:
        car.track, car.gps_fixes, car.gps_dropped = _load_replay_track(config)
    _start_rights(car, key)
    _open_stores(car)
    if replay is None:
        _finish_live(car, stop)
    else:
        car.replay_sources = _replay_sources(config)
        car.replay_speed = replay.speed
    car.pipeline = _pipeline(car)
    return car


def _start_metrics(car: Car) -> None:
    health = car.config.health
    if health.metrics_port:
        from scancar.car.metrics import MetricsServer

        metrics = MetricsServer(car, health.metrics_host, health.metrics_port)
        car.closers.append(metrics.close)


def _start_rights(car: Car, key: PlateKey | None) -> None:
    """The rights source; with a key its cache (a replay with a backend syncs the feed once,
    for the recording's time, so its passes are checked against the cache as a live car's
    are; a live car's keeper syncs all the time)."""
    car.rights = _make_rights(car.config, car.link, car.clock)
    car.closers.append(car.rights.close)
    if key is not None:
        car.rights.install_key(key)
        if not car.is_live and car.link is not None:
            first = car.track.earliest if car.track is not None else None
            car.rights.sync(first.time if first is not None else datetime.now(UTC))


def _finish_live(car: Car, stop: threading.Event) -> None:
    """The rights keeper (with a backend), then wait for the devices' first frames and fix."""
    if car.link is not None:
        interval = car.config.rights.sync_interval_s
        car.keeper = RightsKeeper(
            car.rights, car.link, interval_s=interval, clock=car.clock, retry_s=min(10.0, interval)
        )
    _wait_for_devices(car, stop)


def software_version() -> str:
    """``scancar/<package version>``: in heartbeats, observations and metrics."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"scancar/{version('scancar')}"
    except PackageNotFoundError:
        return "scancar/unknown"


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _link(
    config: CarConfig, token: str | None, closers: list[Callable[[], None]]
) -> BackendLink | None:
    import httpx

    if config.backend is None or token is None:
        return None
    client = httpx.Client(timeout=httpx.Timeout(10.0, connect=5.0))
    closers.append(client.close)
    source = str(config.backend.token_file or "--token")
    return BackendLink(client, config.backend.url, token, source)


def _start_live_devices(car: Car, stop: threading.Event) -> None:
    config = car.config
    car.gps_watch = GpsWatch(
        silent_after_s=config.health.gps_silent_after_s,
        max_offset_s=config.health.max_clock_offset_s,
    )
    car.live_frames = _start_live_cameras(config, stop)
    car.closers.append(car.live_frames.join)
    car.track = _start_live_gps(config, car.gps_watch)
    car.closers.append(car.track.stop)


def _recognizer(config: CarConfig) -> Any:
    from scancar.lpr.errors import LprError
    from scancar.lpr.fastplate import load_plate_reader
    from scancar.lpr.finder import build_plate_finder
    from scancar.lpr.recognizer import PlateRecognizer
    from scancar.settings import MODEL_HINT, load_car_settings

    settings = load_car_settings()
    model = config.ocr_model or settings.ocr_model
    # SCANCAR_PLATE_FINDER (default: OpenCV + the learned text detector, docs/lpr.md)
    finder = build_plate_finder(
        settings.plate_finder,
        text_model=settings.text_detector_model or None,
        detector_every=settings.text_detector_every,
    )
    try:
        return PlateRecognizer(load_plate_reader(model), finder)
    except LprError as exc:  # no model folder, or a hub name without internet
        raise CarStartError(f"{exc}; {MODEL_HINT}") from None


def _pipeline(car: Car) -> EnforcementPipeline:
    from scancar.lpr.tracking import PassTracker, TrackerSettings

    return EnforcementPipeline(
        tracker=PassTracker(TrackerSettings(min_agreeing_frames=2)),
        mounts=_mounts(car.config),
        positions=car.track,
        zone_index=car.zones.index,
        rights=car.rights,
        chalk=car.chalk,
        repeat_guard=car.repeat_guard,
        sink=car.outbox,
        settings=car.settings,
        clock=car.clock,
        id_key=car.secret,
        is_clock_trusted=None if car.gps_watch is None else car.gps_watch.is_clock_trusted,
    )


def _mounts(config: CarConfig) -> dict[str, Any]:
    from scancar.gps.camera import CameraMount

    return {c.name: CameraMount(c.name, c.side, c.distance_m, c.angle_deg) for c in config.cameras}


def _replay_sources(config: CarConfig) -> list[Any]:
    from scancar.frames.sources import ImageFolderSource

    return [ImageFolderSource(Path(c.source), c.name) for c in config.cameras]
