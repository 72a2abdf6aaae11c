"""``drive(car, stop)``: the car's loop, shared by ``run`` and ``replay``.

Frames -> OCR (``recognise_stream``) -> ``EnforcementPipeline``. Around it, in threads: the
uploader and heartbeats (with a backend), the rights keeper (live), and the health monitor
(live: GPS silence, status file, summary line, watchdog). When ``stop`` is set (or a
recording ends) the open passes are decided, the threads stop and the outbox is drained for
up to ``backend.drain_timeout_s``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from scancar.car.build import Car
from scancar.lpr.model import Frame
from scancar.pipeline.service import Decided

log = logging.getLogger("scancar.run")


@dataclass
class DriveResult:
    suspect_ids: list[str] = field(default_factory=list)
    drained: bool = True


def _background(car: Car) -> list[tuple[str, Callable[[threading.Event], None]]]:
    from scancar.car.health import HealthMonitor
    from scancar.car.heartbeat import heartbeat_sender
    from scancar.outbox.uploader import Backoff, Uploader

    jobs: list[tuple[str, Callable[[threading.Event], None]]] = []
    link, backend = car.link, car.config.backend
    if link is not None and backend is not None:
        idle = 2.0 if car.is_live else 0.5
        uploader = Uploader(
            car.outbox,
            link.client,
            link.base_url,
            link.token,
            idle_poll_s=idle,
            backoff=Backoff(max_s=backend.retry_max_s),
        )
        car.uploader = uploader
        jobs.append(("uploader", uploader.run))
        sender = heartbeat_sender(car)
        car.heartbeat = sender
        jobs.append(("heartbeat", sender.run))
    if car.keeper is not None:
        jobs.append(("rights-keeper", car.keeper.run))
    if car.is_live and link is not None and car.config.zones.file is None:
        from scancar.car.zoneset import ZoneRefresher

        jobs.append(("zones", ZoneRefresher(car, car.config.zones.refresh_s).run))
    if car.is_live:
        monitor = HealthMonitor(car)
        car.monitor = monitor
        jobs.append(("health", monitor.run))
    return jobs


def _record(decided: list[Decided], result: DriveResult) -> None:
    for d in decided:
        if d.metadata is not None:
            result.suspect_ids.append(str(d.metadata.observation_id))


def drive(
    car: Car, stop: threading.Event, *, on_frame: Callable[[Frame], None] | None = None
) -> DriveResult:
    """Run until ``stop`` is set or the recording ends; see the module docstring."""
    from scancar.lpr.stream import recognise_stream

    result = DriveResult()
    background_stop = threading.Event()
    threads = [
        threading.Thread(target=job, args=(background_stop,), name=name, daemon=True)
        for name, job in _background(car)
    ]
    for t in threads:
        t.start()
    log.info(
        "running: %d cameras, backend %s, zones %s (%d, version %s), rights %s",
        len(car.config.cameras),
        car.link.base_url if car.link else "none",
        car.zones.origin,
        car.zones.count,
        car.zones.version,
        car.rights.state,
    )
    try:
        for frame, reads in recognise_stream(car.recognizer, car.frames(stop)):
            car.frame_time[:] = [frame.captured_at]
            car.last_frame_done_mono = time.monotonic()
            _record(car.pipeline.process(frame, reads), result)
            if on_frame is not None:
                on_frame(frame)
        _record(car.pipeline.flush(), result)
    finally:
        background_stop.set()
        for t in threads:
            t.join(timeout=15)
        result.drained = _drain(car)
        _last_heartbeat(car)
    return result


def _last_heartbeat(car: Car) -> None:
    """One heartbeat after the drain: the backend gets the run's final counts and backlog
    (a short run or a shift's last minutes would otherwise never be reported)."""
    sender: Any = getattr(car, "heartbeat", None)
    if sender is None:
        return
    try:
        sender.send_once()
    except Exception:  # a failing snapshot must not turn a clean stop into a crash
        log.exception("last heartbeat: snapshot or send failed")


def _drain(car: Car) -> bool:
    """Send what is left, for up to ``backend.drain_timeout_s``; True when nothing is left."""
    uploader: Any = getattr(car, "uploader", None)
    backend = car.config.backend
    if uploader is None or backend is None:
        return bool(car.outbox.backlog() == 0)
    deadline = time.monotonic() + backend.drain_timeout_s
    while car.outbox.backlog() > 0 and time.monotonic() < deadline:
        report = uploader.drain_once()
        if report.sent == 0 and report.dead == 0:
            time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
    left: int = car.outbox.backlog()
    if left:
        log.warning("stopping with %d suspects not yet delivered; they are sent next start", left)
    return left == 0
