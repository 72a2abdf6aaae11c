"""``scancar replay``: a recorded route (frames with timestamps + an NMEA/GPX file) through the
whole car pipeline, fast-forward or at ``--speed N`` times real time.

The car is built by ``scancar.car.build_car`` (the same composition root as ``run``) from the
recording: frame folders (times from sidecars, file names or EXIF; see ``docs/lpr.md``), a
``Track`` of the whole NMEA/GPX file, the zones (a file, or the backend's current set), the
rights (a snapshot file with ``--rights-key``, or the backend's key and feed, held in memory),
the chalk store, repeat guard and outbox in ``--data-dir`` and, with ``--backend/--token``, an
uploader thread and heartbeats plus a final drain. The clock is the frame time. Without a
backend the suspects stay in the outbox.
"""

from __future__ import annotations

import json
import logging
import signal
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from scancar.gps.camera import CameraMount

if TYPE_CHECKING:  # OpenCV and numpy load inside the command
    from scancar.lpr.model import Frame
    from scancar.pipeline import PipelineSettings


def _default_settings() -> PipelineSettings:
    from scancar.pipeline import PipelineSettings

    return PipelineSettings()


log = logging.getLogger("scancar.replay")

DEFAULT_ZONES = Path(__file__).resolve().parents[2] / "fixtures" / "zones" / "town.geojson"


class ReplayError(RuntimeError):
    """The replay cannot start; one line. ``exit_code`` 2: bad usage (missing files, options
    that do not go together), 1: the recording or the backend (nothing could come of it)."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


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
    settings: PipelineSettings = field(default_factory=_default_settings)
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
    frame_times: dict[str, int]  # where frame times came from: file name, sidecar, EXIF, ...
    elapsed_s: float
    route_s: float
    latency_s: dict[str, float]
    suspect_ids: list[str]

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def replay_config(opts: ReplayOptions) -> Any:
    """The ``CarConfig`` of a replay: the recording as the car's sources."""
    from pydantic import ValidationError

    from scancar.config import (
        BackendConfig,
        CameraConfig,
        CarConfig,
        GpsConfig,
        HealthConfig,
        RightsConfig,
        ThresholdsConfig,
        ZonesConfig,
    )

    kind = "gpx" if opts.gps.suffix.lower() == ".gpx" else "nmea"
    zones = opts.zones
    s = opts.settings
    try:
        return CarConfig(
            data_dir=opts.data_dir,
            ocr_model=opts.ocr_model,
            backend=None
            if not opts.backend
            else BackendConfig(
                url=opts.backend, heartbeat_s=opts.heartbeat_s, drain_timeout_s=opts.drain_timeout_s
            ),
            gps=GpsConfig(source=f"{kind}:{opts.gps}", max_accuracy_m=s.max_accuracy_m),
            zones=ZonesConfig(file=zones),
            rights=RightsConfig(
                key_file=opts.rights_key,
                snapshot=opts.rights_snapshot,
                max_age_minutes=opts.rights_max_age.total_seconds() / 60,
            ),
            cameras=[
                CameraConfig(
                    name=cam.name,
                    source=str(cam.frames),
                    side=cam.mount.side,
                    distance_m=cam.mount.distance_m,
                    angle_deg=cam.mount.angle_deg,
                )
                for cam in opts.cameras
            ],
            thresholds=ThresholdsConfig(outbox_quota_mb=opts.outbox_quota_bytes / (1024 * 1024)),
            health=HealthConfig(metrics_port=0),  # a replay serves no metrics
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ReplayError(f"{where}: {first['msg']}") from None


def _check(opts: ReplayOptions) -> None:
    for cam in opts.cameras:
        if not cam.frames.is_dir():
            raise ReplayError(f"frames folder {cam.frames} does not exist")
    if not opts.gps.is_file():
        raise ReplayError(f"GPS file {opts.gps} does not exist")
    if (opts.backend is None) != (opts.token is None):
        raise ReplayError("give both --backend and --token, or neither")
    if opts.backend is None and opts.zones is None:
        raise ReplayError(
            "no zones: give --zones FILE (a zone GeoJSON), --zones fixture (the demo town), "
            "or --backend and --token (the backend's current zones)"
        )
    if opts.backend is None and opts.rights_key is None:
        raise ReplayError(
            "no rights: without --backend give --rights-key (and --rights-snapshot); without a "
            "plate key every pass is 'rights unknown' and nothing can be reported"
        )
    _check_times(opts)


def _check_times(opts: ReplayOptions) -> None:
    """The GPS file has fixes and the frames' times overlap them (else no pass could be
    placed): one line with both ranges."""
    from scancar.frames.sources import ImageFolderSource
    from scancar.gps.nmea import NmeaConfig
    from scancar.gps.sources import GpxSource, NmeaFileSource

    config = NmeaConfig(backfill_epochs=3600)
    gps: Any = (
        GpxSource(opts.gps, config=config)
        if opts.gps.suffix.lower() == ".gpx"
        else NmeaFileSource(opts.gps, config=config)
    )
    times = [fix.time for fix in gps.fixes()]
    if not times:
        raise ReplayError(
            f"the GPS file {opts.gps} has no usable fix ({gps.stats.summary()}); "
            f"check it with: scancar gps {opts.gps}",
            exit_code=1,
        )
    first_fix, last_fix = min(times), max(times)
    for cam in opts.cameras:
        span = ImageFolderSource(cam.frames, cam.name).time_span()
        if span is None:
            raise ReplayError(f"frames folder {cam.frames} holds no images", exit_code=1)
        if span[1] < first_fix or span[0] > last_fix:
            raise ReplayError(
                f"the frames of {cam.name} ({_when(span[0])} to {_when(span[1])}) and the GPS "
                f"track ({_when(first_fix)} to {_when(last_fix)}) do not overlap in time, so "
                "no pass can be placed; check the camera's and the GPS receiver's clocks",
                exit_code=1,
            )


def _when(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def run_replay(opts: ReplayOptions, stop: threading.Event | None = None) -> ReplayReport:
    """Replay a recording through ``build_car`` / ``drive`` (the same parts as ``run``)."""
    from scancar.car.build import Replay, build_car
    from scancar.car.errors import CarStartError
    from scancar.car.runner import drive

    started = time.monotonic()
    _check(opts)
    stop = stop or threading.Event()
    try:
        car = build_car(
            replay_config(opts),
            replay=Replay(opts.speed),
            token=opts.token,
            settings=opts.settings,
            stop=stop,
        )
    except CarStartError as exc:
        raise ReplayError(str(exc), exit_code=exc.exit_code) from None
    bar: Any = None
    if opts.progress:
        from tqdm import tqdm

        total = sum(len(s.paths) for s in car.replay_sources)
        bar = tqdm(total=total, unit="frame", desc="replay", leave=False)
    span: list[datetime] = []

    def on_frame(frame: Frame) -> None:
        if not span:
            span.append(frame.captured_at)
        span[1:] = [frame.captured_at]
        if bar is not None:
            bar.update(1)

    try:
        result = drive(car, stop, on_frame=on_frame)
        report = _report(car, result.suspect_ids, span, started)
        if car.frame_time:
            car.chalk.purge(car.frame_time[0])
    finally:
        if bar is not None:
            bar.close()
        car.close()
    log.info(
        "replay done: %s",
        json.dumps({k: v for k, v in report.as_dict().items() if k != "suspect_ids"}),
    )
    return report


def _frame_time_sources(car: Any) -> dict[str, int]:
    """Where the frames' times came from, summed over the cameras; a warning when any came
    from file modification times (copied files get new ones)."""
    total: dict[str, int] = {}
    for source in car.replay_sources:
        for kind, n in source.time_sources.items():
            total[kind] = total.get(kind, 0) + n
    if total.get("modification time"):
        log.warning(
            "%d frames are dated by their files' modification times, which copying changes: "
            "put the time in the file names or in sidecar files (see docs/lpr.md)",
            total["modification time"],
        )
    return dict(sorted(total.items()))


def _report(car: Any, suspect_ids: list[str], span: list[datetime], started: float) -> ReplayReport:
    c = car.pipeline.counters
    c.frames_skipped = car.frames_skipped()
    stats = car.outbox.stats()
    lat = sorted(car.pipeline.latencies_s)
    return ReplayReport(
        frames=c.frames,
        frames_skipped=c.frames_skipped,
        reads=c.reads,
        passes=c.passes,
        checks=c.checks,
        discarded=c.discarded,
        suspects=c.suspects,
        suspects_stored=c.suspects_stored,
        outcomes=dict(sorted(c.outcomes.items())),
        gps_fixes=car.gps_fixes,
        gps_dropped=car.gps_dropped,
        outbox_pending=stats.pending,
        outbox_sent=stats.sent,
        outbox_dead=stats.dead,
        frame_times=_frame_time_sources(car),
        elapsed_s=round(time.monotonic() - started, 3),
        route_s=0.0 if len(span) < 2 else (span[-1] - span[0]).total_seconds(),
        latency_s={}
        if not lat
        else {"median": round(statistics.median(lat), 3), "max": round(lat[-1], 3)},
        suspect_ids=suspect_ids,
    )


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
        str | None,
        typer.Option(
            help="zone GeoJSON file, or 'fixture' for the demo town (default: the backend's)"
        ),
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
    from scancar.settings import CarSettingsError, local_ocr_model

    handlers = configure_car_logging(log_file)
    stop = threading.Event()

    def on_signal(_signum: int, _frame: Any) -> None:
        stop.set()  # finish the current frame, decide open passes, drain, report

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        opts = ReplayOptions(
            cameras=tuple(parse_camera(f, mount) for f in frames),
            gps=gps,
            data_dir=data_dir,
            zones=DEFAULT_ZONES if zones == "fixture" else (Path(zones) if zones else None),
            backend=backend,
            token=token,
            rights_snapshot=rights_snapshot,
            rights_key=rights_key,
            speed=speed,
            drain_timeout_s=drain_timeout,
            progress=sys.stderr.isatty(),
            ocr_model=local_ocr_model(),
        )
        report = run_replay(opts, stop)
    except ReplayError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None
    except (CarSettingsError, OSError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    finally:
        remove_handlers(handlers)
    doc = {k: v for k, v in report.as_dict().items() if k != "suspect_ids"}
    if json_out:
        typer.echo(json.dumps(doc))
    else:
        for line in describe_replay(report):
            typer.echo(line)


def describe_replay(report: ReplayReport) -> list[str]:
    """The replay's summary in words."""
    outcomes = ", ".join(f"{kind.replace('_', ' ')} {n}" for kind, n in report.outcomes.items())
    lines = [
        f"frames {report.frames} ({report.frames_skipped} unreadable), plates read "
        f"{report.reads}, vehicle passes {report.passes}, rights checks {report.checks}",
        f"suspects {report.suspects} ({report.suspects_stored} stored in the outbox), "
        f"discarded {report.discarded}",
        f"outcomes: {outcomes or 'none'}",
        f"GPS fixes {report.gps_fixes} ({report.gps_dropped} dropped)",
        f"outbox: {report.outbox_sent} delivered, {report.outbox_pending} waiting, "
        f"{report.outbox_dead} refused by the backend",
        f"route {report.route_s:.0f} s replayed in {report.elapsed_s:.1f} s",
    ]
    if report.latency_s:
        lines.append(
            f"latency to the outbox: median {report.latency_s['median']} s, "
            f"max {report.latency_s['max']} s"
        )
    return lines


def register(app: typer.Typer) -> None:
    """Add ``replay`` to the root ``scancar`` command."""
    app.command("replay", help="Replay a recorded route (frames + NMEA/GPX) through the car.")(
        replay_command
    )
