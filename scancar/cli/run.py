"""``scancar run --config car.toml``: the car itself (composition root of the live process).

Cameras (one reader thread each) -> OCR -> vehicle passes -> decision (zones, offline rights
cache, chalk, repeat guard) -> outbox -> uploader thread; heartbeats; structured logs in
``<data_dir>/logs/car.log``. The config is checked first (one-line error, exit 2). SIGTERM /
SIGINT: the current frame is finished, open passes are decided, the outbox is drained for up
to ``backend.drain_timeout_s`` and the process exits 0. Everything it keeps (outbox, chalk
marks, rights cache, car secret) survives a restart; observation ids are derived from the pass,
so a pass re-detected after a crash is not posted twice.
"""

from __future__ import annotations

import json
import logging
import queue
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from scancar.config import CarConfig, CarConfigError, load_car_config
from scancar.lpr.model import Frame

log = logging.getLogger("scancar.run")

_END = object()


def _open_gps(config: CarConfig) -> Any:
    from scancar.gps.live import LiveTrack
    from scancar.gps.nmea import NmeaConfig
    from scancar.gps.sources import GpsdSource, GpxSource, NmeaFileSource, SerialNmeaSource
    from scancar.gps.track import TrackConfig

    kind, _, rest = config.gps.source.partition(":")

    def open_source() -> Any:
        if kind == "serial":
            return SerialNmeaSource(rest, config.gps.baud)
        if kind == "nmea":
            return NmeaFileSource(rest, config=NmeaConfig(backfill_epochs=3600))
        if kind == "gpx":
            return GpxSource(rest)
        host, _, port = rest.rpartition(":")
        return GpsdSource(host or "127.0.0.1", int(port or 2947))

    return LiveTrack(
        open_source,
        TrackConfig(keep_s=config.gps.keep_s, max_accuracy_m=config.gps.max_accuracy_m),
    )


def _camera_reader(source: Any, frames: queue.Queue[Any], stop: threading.Event) -> None:
    try:
        for frame in source:
            while not stop.is_set():
                try:
                    frames.put(frame, timeout=0.5)
                    break
                except queue.Full:
                    continue
            if stop.is_set():
                return
    except Exception:
        log.exception("camera %s failed", getattr(source, "camera", "?"))
    finally:
        frames.put(_END)


def _frames(frames: queue.Queue[Any], n_sources: int, stop: threading.Event) -> Iterator[Frame]:
    ended = 0
    while ended < n_sources and not stop.is_set():
        try:
            item = frames.get(timeout=0.5)
        except queue.Empty:
            continue
        if item is _END:
            ended += 1
            continue
        yield item


def _rights(config: CarConfig, client: Any, token: str | None, clock: Any) -> tuple[Any, Any, Any]:
    """(rights source, cache, sync function or None). The cache's key: ``rights.key_file``,
    else fetched from the backend at the first start (enrolment) and kept in the data dir."""
    from permits.feed import RightsSnapshotPage
    from scancar.rights.cache import SqliteRightsCache
    from scancar.rights.errors import RightsCacheError
    from scancar.rights.source import CachedRightsSource, sync_cache

    backend = config.backend
    online = None
    feed = None
    if backend is not None and client is not None and token:
        from scancar.rights.http import HttpOnlineRightsCheck, HttpRightsFeedClient

        online = HttpOnlineRightsCheck(client, backend.url, token)
        feed = HttpRightsFeedClient(client, backend.url, token)
    key_file = config.rights.key_file or config.data_dir / "rights.key"
    if not key_file.is_file() and backend is not None and client is not None and token:
        from scancar.chalk.store import write_secret
        from scancar.rights.http import fetch_feed_key

        try:
            write_secret(key_file, fetch_feed_key(client, backend.url, token).key)
        except RightsCacheError as exc:
            log.warning("cannot enrol for the rights feed (%s)", exc)
    if not key_file.is_file():
        from scancar.cli.replay import _NoRights

        log.warning("no rights key: nothing will be reported")
        return _NoRights(), None, None
    cache = SqliteRightsCache(config.data_dir / "rights.sqlite3", key_file.read_bytes())
    if config.rights.snapshot is not None and cache.cursor is None:
        lines = config.rights.snapshot.read_text(encoding="utf-8").splitlines()
        cache.apply_snapshot(RightsSnapshotPage.model_validate_json(x) for x in lines if x)

    def sync() -> None:
        if feed is None:
            return
        try:
            sync_cache(cache, feed, clock())
        except RightsCacheError as exc:
            log.warning("rights feed sync failed: %s", exc)

    source = CachedRightsSource(
        cache,
        max_age=timedelta(minutes=config.rights.max_age_minutes),
        clock=clock,
        online=online,
    )
    return source, cache, sync if feed is not None else None


def run_car(config: CarConfig, stop: threading.Event) -> dict[str, Any]:  # noqa: PLR0912, PLR0915
    """Run until ``stop`` is set or every camera source has ended; returns the counters."""
    import httpx

    from scancar.chalk import SqliteChalkStore, SqliteRepeatGuard, load_or_create_secret
    from scancar.frames.sources import open_frame_source
    from scancar.gps.camera import CameraMount
    from scancar.lpr.fastplate import load_plate_reader
    from scancar.lpr.recognizer import PlateRecognizer
    from scancar.lpr.stream import recognise_stream
    from scancar.lpr.tracking import PassTracker, TrackerSettings
    from scancar.outbox.store import SqliteOutbox
    from scancar.outbox.uploader import HeartbeatSender, Uploader
    from scancar.pipeline import EnforcementPipeline
    from scancar.settings import load_car_settings
    from scancar.wire import Heartbeat, HeartbeatCounts
    from zones.geojson import load_feature_collection
    from zones.index import ZoneIndex

    settings = config.pipeline_settings()
    data = config.data_dir
    data.mkdir(parents=True, exist_ok=True)
    track = _open_gps(config)
    track.start()
    reader = load_plate_reader(config.ocr_model or load_car_settings().ocr_model)
    backend = config.backend
    token = backend.token_file.read_text(encoding="utf-8").strip() if backend else None
    client = httpx.Client(timeout=10.0) if backend else None
    if config.zones.file is not None:
        zone_set = load_feature_collection(config.zones.file)
    elif client is not None and backend is not None:
        r = client.get(f"{backend.url}/api/v1/zones", headers={"Authorization": f"Bearer {token}"})
        r.raise_for_status()
        doc = r.json()
        doc.pop("version", None)
        zone_set = load_feature_collection(doc)
    else:
        raise CarConfigError("no zones: set zones.file or a backend")
    zone_index = ZoneIndex(zone_set.zones)

    def clock() -> datetime:
        return datetime.now(UTC)

    rights, cache, sync = _rights(config, client, token, clock)
    secret = load_or_create_secret(data / "car.secret")
    outbox = SqliteOutbox(data / "outbox", int(config.thresholds.outbox_quota_mb * 1024 * 1024))
    chalk = SqliteChalkStore(data / "chalk.sqlite3", secret)
    repeat_guard = SqliteRepeatGuard(data / "chalk.sqlite3", secret)
    mounts = {
        c.name: CameraMount(c.name, c.side, c.distance_m, c.angle_deg) for c in config.cameras
    }
    pipeline = EnforcementPipeline(
        tracker=PassTracker(TrackerSettings(min_agreeing_frames=2)),
        mounts=mounts,
        positions=track,
        zone_index=zone_index,
        rights=rights,
        chalk=chalk,
        repeat_guard=repeat_guard,
        sink=outbox,
        settings=settings,
        clock=clock,
        id_key=secret,
    )
    sources = [open_frame_source(c.source, c.name) for c in config.cameras]
    frames_q: queue.Queue[Any] = queue.Queue(maxsize=8)
    camera_stop = threading.Event()
    threads = [
        threading.Thread(target=_camera_reader, args=(s, frames_q, camera_stop), daemon=True)
        for s in sources
    ]
    upload_stop = threading.Event()
    uploader = None
    if client is not None and backend is not None and token:
        uploader = Uploader(outbox, client, backend.url, token)
        run_id = uuid.uuid4()

        def heartbeat() -> Heartbeat:
            c = pipeline.counters
            latest = track.latest
            return Heartbeat(
                sent_at=clock(),
                run_id=run_id,
                lon=None if latest is None else latest.lon,
                lat=None if latest is None else latest.lat,
                counts=HeartbeatCounts(
                    frames=c.frames,
                    frames_skipped=sum(getattr(s, "skipped", 0) for s in sources),
                    reads=c.reads,
                    checks=c.checks,
                    suspects=c.suspects,
                    discarded=c.discarded,
                ),
                outbox_backlog=outbox.backlog(),
                software_version=settings.software_version,
            )

        sender = HeartbeatSender(
            client, backend.url, token, heartbeat, interval_s=backend.heartbeat_s
        )
        threads.append(threading.Thread(target=uploader.run, args=(upload_stop,), daemon=True))
        threads.append(threading.Thread(target=sender.run, args=(upload_stop,), daemon=True))
    for t in threads:
        t.start()
    log.info("running: %d cameras, backend %s", len(sources), backend.url if backend else "none")
    recognizer = PlateRecognizer(reader)
    next_sync = 0.0
    try:
        for frame, reads in recognise_stream(recognizer, _frames(frames_q, len(sources), stop)):
            if sync is not None and time.monotonic() >= next_sync:
                sync()  # between frames: the cache is only touched from this thread
                next_sync = time.monotonic() + config.rights.sync_interval_s
            pipeline.process(frame, reads)
        pipeline.flush()
    finally:
        camera_stop.set()
        upload_stop.set()
        for t in threads:
            t.join(timeout=10)
        if uploader is not None and backend is not None:
            deadline = time.monotonic() + backend.drain_timeout_s
            while outbox.backlog() > 0 and time.monotonic() < deadline:
                report = uploader.drain_once()
                if report.sent == 0 and report.dead == 0:
                    time.sleep(0.5)
        track.stop()
        counters = pipeline.counters.as_dict()
        counters["outbox_backlog"] = outbox.backlog()
        outbox.close()
        chalk.purge(clock())
        chalk.close()
        repeat_guard.close()
        if cache is not None:
            cache.close()
        if client is not None:
            client.close()
    log.info("stopped: %s", json.dumps(counters))
    return counters


def run_command(
    config: Annotated[Path, typer.Option("--config", help="the car's TOML configuration")] = Path(
        "car.toml"
    ),
) -> None:
    """Run the car until SIGTERM/SIGINT (or until file/folder sources end)."""
    from scancar.cli.carlog import configure_car_logging, remove_handlers
    from scancar.settings import CarSettingsError

    try:
        car = load_car_config(config)
    except CarConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    handlers = configure_car_logging(car.data_dir / "logs" / "car.log")
    stop = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        log.info("signal %d: finishing the current frame and flushing the outbox", signum)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        counters = run_car(car, stop)
    except (CarConfigError, CarSettingsError, OSError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    finally:
        remove_handlers(handlers)
    typer.echo(json.dumps(counters))
