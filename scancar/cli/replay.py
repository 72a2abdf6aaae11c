"""``scancar replay``: a recorded route (frames with timestamps + an NMEA/GPX file) through the
whole car pipeline, fast-forward or at ``--speed N`` times real time.

Composition root: frame folders (``scancar.frames``), the OCR (``scancar.lpr``), a ``Track`` of
the recorded fixes, the zones (a file, or the backend's current set), the offline rights cache
(a snapshot file, or the backend's feed), the SQLite chalk store and repeat guard, the outbox in
``--data-dir`` and, with ``--backend/--token``, an uploader thread and heartbeats plus a final
drain. Without a backend the suspects stay in the outbox.
"""

from __future__ import annotations

import heapq
import json
import logging
import statistics
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from scancar.gps.camera import CameraMount
from scancar.lpr.model import Frame
from scancar.pipeline import EnforcementPipeline, PipelineSettings
from scancar.rights.errors import RightsUnavailableError
from scancar.rights.ports import RightsAnswer, RightsQuery

log = logging.getLogger("scancar.replay")

DEFAULT_ZONES = Path(__file__).resolve().parents[2] / "fixtures" / "zones" / "town.geojson"


class ReplayError(RuntimeError):
    """The replay cannot start (bad input); one line."""


@dataclass(frozen=True)
class CameraInput:
    name: str
    frames: Path
    mount: CameraMount


@dataclass(frozen=True)
class ReplayOptions:
    cameras: tuple[CameraInput, ...]
    gps: Path
    data_dir: Path
    zones: Path | None = None
    backend: str | None = None
    token: str | None = None
    rights_snapshot: Path | None = None
    rights_key: Path | None = None
    rights_max_age: timedelta = timedelta(hours=24)
    speed: float | None = None
    drain_timeout_s: float = 30.0
    progress: bool = True
    ocr_model: str | None = None
    settings: PipelineSettings = field(default_factory=PipelineSettings)
    heartbeat_s: float = 30.0
    outbox_quota_bytes: int = 512 * 1024 * 1024


@dataclass
class ReplayReport:
    frames: int
    frames_skipped: int
    reads: int
    passes: int
    checks: int
    discarded: int
    suspects: int
    suspects_stored: int
    outcomes: dict[str, int]
    gps_fixes: int
    gps_dropped: int
    outbox_pending: int
    outbox_sent: int
    outbox_dead: int
    elapsed_s: float
    route_s: float
    latency_s: dict[str, float]
    suspect_ids: list[str]

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class _NoRights:
    """No rights data at all: every check fails, so nothing is ever reported."""

    def check(self, query: RightsQuery) -> RightsAnswer:
        raise RightsUnavailableError(
            f"no rights cache and no backend to check area {query.area_code}"
        )


def _merge_frames(sources: Iterable[Iterable[Frame]]) -> Iterator[Frame]:
    return heapq.merge(*sources, key=lambda f: f.captured_at)


def _paced(frames: Iterator[Frame], speed: float | None) -> Iterator[Frame]:
    if speed is None:
        yield from frames
        return
    start_wall = time.monotonic()
    start_t: datetime | None = None
    skipped = timedelta(0)
    last: datetime | None = None
    for frame in frames:
        if start_t is None:
            start_t = frame.captured_at
        if last is not None and frame.captured_at - last > timedelta(seconds=5):
            skipped += frame.captured_at - last - timedelta(seconds=5)  # cap long gaps at 5 s
        last = frame.captured_at
        due = (frame.captured_at - start_t - skipped).total_seconds() / speed
        wait = due - (time.monotonic() - start_wall)
        if wait > 0:
            time.sleep(wait)
        yield frame


def _load_track(path: Path) -> tuple[Any, int, int]:
    from scancar.gps.nmea import NmeaConfig
    from scancar.gps.sources import GpxSource, NmeaFileSource
    from scancar.gps.track import Track, TrackConfig

    source: GpxSource | NmeaFileSource
    if path.suffix.lower() == ".gpx":
        source = GpxSource(path)
    else:
        source = NmeaFileSource(path, config=NmeaConfig(backfill_epochs=3600))
    track = Track(TrackConfig(keep_s=14 * 24 * 3600.0))
    for fix in source.fixes():
        track.add(fix)
    stats = source.stats
    return track, stats.fixes_accepted, sum(stats.dropped.values())


def _load_zones(opts: ReplayOptions, client: Any) -> Any:
    from zones.geojson import load_feature_collection
    from zones.index import ZoneIndex

    if opts.zones is not None:
        imported = load_feature_collection(opts.zones)
    elif client is not None and opts.backend:
        import httpx

        try:
            r = client.get(
                f"{opts.backend.rstrip('/')}/api/v1/zones",
                headers={"Authorization": f"Bearer {opts.token}"},
            )
            r.raise_for_status()
        except httpx.HTTPError as exc:
            raise ReplayError(
                f"cannot fetch the zones from {opts.backend} ({exc}); give --zones FILE"
            ) from None
        doc = r.json()
        doc.pop("version", None)
        imported = load_feature_collection(doc)
    else:
        imported = load_feature_collection(DEFAULT_ZONES)
    return ZoneIndex(imported.zones)


def _load_rights(opts: ReplayOptions, clock: Any, client: Any) -> tuple[Any, Any]:
    """The rights source: the offline cache (from a snapshot file with ``--rights-key``, or
    enrolled and synced from the backend's feed), with the backend's online check as the
    fallback when the cache is stale or does not cover the time of a pass."""
    from permits.feed import RightsSnapshotPage
    from scancar.rights.cache import SqliteRightsCache
    from scancar.rights.source import CachedRightsSource, sync_cache

    online = None
    base, token = opts.backend or "", opts.token or ""
    has_backend = client is not None and bool(base) and bool(token)
    if has_backend:
        from scancar.rights.http import HttpOnlineRightsCheck

        online = HttpOnlineRightsCheck(client, base, token)
    if opts.rights_key is not None:
        cache = SqliteRightsCache(opts.data_dir / "rights.sqlite3", opts.rights_key.read_bytes())
        if opts.rights_snapshot is not None:
            lines = opts.rights_snapshot.read_text(encoding="utf-8").splitlines()
            cache.apply_snapshot(RightsSnapshotPage.model_validate_json(x) for x in lines if x)
        source = CachedRightsSource(cache, max_age=opts.rights_max_age, clock=clock, online=online)
        return source, cache
    if not has_backend:
        return _NoRights(), None
    from scancar.rights.errors import RightsCacheError
    from scancar.rights.http import HttpRightsFeedClient, fetch_feed_key

    def now() -> datetime:
        return datetime.now(UTC)

    try:
        key = fetch_feed_key(client, base, token)
    except RightsCacheError as exc:
        log.warning("cannot enrol for the rights feed (%s): online checks only", exc)
        return _OnlineOnly(online), None
    cache = SqliteRightsCache(opts.data_dir / "rights.sqlite3", key.key)
    try:
        sync_cache(cache, HttpRightsFeedClient(client, base, token), now())
    except RightsCacheError as exc:
        log.warning("rights feed sync failed (%s): online checks until it works", exc)
    return CachedRightsSource(cache, max_age=opts.rights_max_age, clock=now, online=online), cache


class _OnlineOnly:
    def __init__(self, online: Any) -> None:
        self._online = online

    def check(self, query: RightsQuery) -> RightsAnswer:
        from scancar.rights.ports import AnswerSource

        return RightsAnswer(self._online(query), AnswerSource.ONLINE, None)


def run_replay(opts: ReplayOptions) -> ReplayReport:  # noqa: PLR0912, PLR0915 - composition root
    import httpx

    from scancar.chalk import SqliteChalkStore, SqliteRepeatGuard, load_or_create_secret
    from scancar.frames.sources import ImageFolderSource
    from scancar.lpr.fastplate import load_plate_reader
    from scancar.lpr.recognizer import PlateRecognizer
    from scancar.lpr.stream import recognise_stream
    from scancar.lpr.tracking import PassTracker, TrackerSettings
    from scancar.outbox.store import SqliteOutbox
    from scancar.outbox.uploader import HeartbeatSender, Uploader
    from scancar.settings import load_car_settings
    from scancar.wire import Heartbeat, HeartbeatCounts

    started = time.monotonic()
    for cam in opts.cameras:
        if not cam.frames.is_dir():
            raise ReplayError(f"frames folder {cam.frames} does not exist")
    if not opts.gps.is_file():
        raise ReplayError(f"GPS file {opts.gps} does not exist")
    if (opts.backend is None) != (opts.token is None):
        raise ReplayError("give both --backend and --token, or neither")
    opts.data_dir.mkdir(parents=True, exist_ok=True)

    model = opts.ocr_model or load_car_settings().ocr_model
    recognizer = PlateRecognizer(load_plate_reader(model))
    track, gps_fixes, gps_dropped = _load_track(opts.gps)

    now_ref: list[datetime] = [datetime.now(UTC)]

    def replay_clock() -> datetime:
        return now_ref[0]

    client = httpx.Client(timeout=10.0) if opts.backend else None
    zone_index = _load_zones(opts, client)
    rights, cache = _load_rights(opts, replay_clock, client)
    secret = load_or_create_secret(opts.data_dir / "car.secret")
    outbox = SqliteOutbox(opts.data_dir / "outbox", opts.outbox_quota_bytes)
    chalk = SqliteChalkStore(opts.data_dir / "chalk.sqlite3", secret)
    repeat_guard = SqliteRepeatGuard(opts.data_dir / "chalk.sqlite3", secret)
    pipeline = EnforcementPipeline(
        tracker=PassTracker(TrackerSettings(min_agreeing_frames=2)),
        mounts={cam.name: cam.mount for cam in opts.cameras},
        positions=track,
        zone_index=zone_index,
        rights=rights,
        chalk=chalk,
        repeat_guard=repeat_guard,
        sink=outbox,
        settings=opts.settings,
        clock=replay_clock,
        id_key=secret,
    )
    sources = [ImageFolderSource(cam.frames, cam.name) for cam in opts.cameras]
    total = sum(len(s.paths) for s in sources)
    stop = threading.Event()
    threads: list[threading.Thread] = []
    uploader: Uploader | None = None
    run_id = uuid.uuid4()
    if client is not None and opts.backend and opts.token:
        uploader = Uploader(outbox, client, opts.backend, opts.token, idle_poll_s=0.5)
        threads.append(threading.Thread(target=uploader.run, args=(stop,), daemon=True))

        def heartbeat() -> Heartbeat:
            c = pipeline.counters
            return Heartbeat(
                sent_at=datetime.now(UTC),
                run_id=run_id,
                counts=HeartbeatCounts(
                    frames=c.frames,
                    frames_skipped=sum(s.skipped for s in sources),
                    reads=c.reads,
                    checks=c.checks,
                    suspects=c.suspects,
                    discarded=c.discarded,
                ),
                outbox_backlog=outbox.backlog(),
                software_version=opts.settings.software_version,
            )

        sender = HeartbeatSender(
            client, opts.backend, opts.token, heartbeat, interval_s=opts.heartbeat_s
        )
        threads.append(threading.Thread(target=sender.run, args=(stop,), daemon=True))
    for t in threads:
        t.start()

    first: datetime | None = None
    last: datetime | None = None
    bar: Any = None
    if opts.progress:
        from tqdm import tqdm

        bar = tqdm(total=total, unit="frame", desc="replay", leave=False)
    suspect_ids: list[str] = []
    try:
        frames = _paced(_merge_frames(sources), opts.speed)
        for frame, reads in recognise_stream(recognizer, frames):
            now_ref[0] = frame.captured_at
            first = first or frame.captured_at
            last = frame.captured_at
            for decided in pipeline.process(frame, reads):
                if decided.metadata is not None:
                    suspect_ids.append(str(decided.metadata.observation_id))
            if bar is not None:
                bar.update(1)
        for decided in pipeline.flush():
            if decided.metadata is not None:
                suspect_ids.append(str(decided.metadata.observation_id))
    finally:
        if bar is not None:
            bar.close()
        stop.set()
        for t in threads:
            t.join(timeout=15)
    if uploader is not None:
        deadline = time.monotonic() + opts.drain_timeout_s
        while outbox.backlog() > 0 and time.monotonic() < deadline:
            report = uploader.drain_once()
            if report.sent == 0 and report.dead == 0:
                time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
    if client is not None:
        client.close()
    stats = outbox.stats()
    outbox.close()
    if cache is not None:
        cache.close()
    if last is not None:
        chalk.purge(last)
    chalk.close()
    repeat_guard.close()
    c = pipeline.counters
    c.frames_skipped = sum(s.skipped for s in sources)
    lat = sorted(pipeline.latencies_s)
    report_ = ReplayReport(
        frames=c.frames,
        frames_skipped=c.frames_skipped,
        reads=c.reads,
        passes=c.passes,
        checks=c.checks,
        discarded=c.discarded,
        suspects=c.suspects,
        suspects_stored=c.suspects_stored,
        outcomes=dict(sorted(c.outcomes.items())),
        gps_fixes=gps_fixes,
        gps_dropped=gps_dropped,
        outbox_pending=stats.pending,
        outbox_sent=stats.sent,
        outbox_dead=stats.dead,
        elapsed_s=round(time.monotonic() - started, 3),
        route_s=0.0 if first is None or last is None else (last - first).total_seconds(),
        latency_s={}
        if not lat
        else {
            "median": round(statistics.median(lat), 3),
            "max": round(lat[-1], 3),
        },
        suspect_ids=suspect_ids,
    )
    log.info(
        "replay done: %s",
        json.dumps({k: v for k, v in report_.as_dict().items() if k != "suspect_ids"}),
    )
    return report_


def parse_camera(spec: str, mount: str) -> CameraInput:
    """``PATH`` (camera named after the folder) or ``NAME=PATH``; mount ``SIDE[:DISTANCE]``."""
    name, _, path = spec.rpartition("=")
    folder = Path(path)
    side, _, dist = mount.partition(":")
    if side not in ("left", "right"):
        raise ReplayError(f"--mount side {side!r} is not allowed; use left or right")
    try:
        distance = float(dist) if dist else 3.0
    except ValueError:
        raise ReplayError(f"--mount distance {dist!r} is not a number of metres") from None
    cam = name or folder.name
    return CameraInput(cam, folder, CameraMount(cam, side, distance))  # type: ignore[arg-type]


def replay_command(
    frames: Annotated[list[str], typer.Option(help="frame folder, or NAME=FOLDER; repeatable")],
    gps: Annotated[Path, typer.Option(help="NMEA log or GPX track of the drive")],
    data_dir: Annotated[
        Path, typer.Option(help="the car's data dir (outbox, chalk, cache)")
    ] = Path("car-data"),
    speed: Annotated[
        float | None, typer.Option(help="N x real time (default: as fast as possible)")
    ] = None,
    backend: Annotated[str | None, typer.Option(help="backend base URL")] = None,
    token: Annotated[str | None, typer.Option(help="device token")] = None,
    zones: Annotated[
        Path | None, typer.Option(help="zone GeoJSON (default: backend, else fixture town)")
    ] = None,
    rights_snapshot: Annotated[
        Path | None, typer.Option(help="rights feed snapshot (NDJSON)")
    ] = None,
    rights_key: Annotated[Path | None, typer.Option(help="the enrolment plate key file")] = None,
    mount: Annotated[
        str, typer.Option(help="camera mount SIDE[:METRES] for every camera")
    ] = "right:3",
    drain_timeout: Annotated[float, typer.Option(help="seconds for the final upload")] = 30.0,
    json_out: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
    log_file: Annotated[Path | None, typer.Option(help="JSON-lines log file")] = None,
) -> None:
    """Replay a recorded route through the car pipeline; summary on stdout."""
    from scancar.cli.carlog import configure_car_logging, remove_handlers
    from scancar.settings import CarSettingsError

    handlers = configure_car_logging(log_file)
    try:
        opts = ReplayOptions(
            cameras=tuple(parse_camera(f, mount) for f in frames),
            gps=gps,
            data_dir=data_dir,
            zones=zones,
            backend=backend,
            token=token,
            rights_snapshot=rights_snapshot,
            rights_key=rights_key,
            speed=speed,
            drain_timeout_s=drain_timeout,
        )
        report = run_replay(opts)
    except (ReplayError, CarSettingsError, OSError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    finally:
        remove_handlers(handlers)
    doc = {k: v for k, v in report.as_dict().items() if k != "suspect_ids"}
    if json_out:
        typer.echo(json.dumps(doc))
    else:
        for k, v in doc.items():
            typer.echo(f"{k:<16} {v}")
