"""The car's health: one snapshot (``car_health``) for the heartbeat, ``scancar status``, the
metrics and the summary line; ``find_problems`` says in words what is wrong; the
``HealthMonitor`` thread (live) notices GPS silence, writes ``<data_dir>/status.json``, logs a
summary line every ``health.summary_interval_s`` and pings the systemd watchdog while the
frame loop is alive. No plate and no position is ever part of any of it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scancar.car.notify import Watchdog
from scancar.pipeline.model import OutcomeKind
from scancar.wire import CameraHealth, GpsHealth, Heartbeat, HeartbeatCounts

if TYPE_CHECKING:
    from scancar.car.build import Car

log = logging.getLogger("scancar.health")

STATUS_NAME = "status.json"
OUTBOX_LATE_S = 15 * 60.0  # a suspect waiting longer than this: the backend is not taking them
LOOP_STALL_S = 30.0  # no frame loop progress for this long: the watchdog is not pinged


def counts(car: Car) -> HeartbeatCounts:
    c = car.pipeline.counters
    return HeartbeatCounts(
        frames=c.frames,
        frames_skipped=c.frames_skipped or car.frames_skipped(),
        reads=c.reads,
        checks=c.checks,
        suspects=c.suspects,
        discarded=c.discarded,
        passes=c.passes,
        rights_unknown=c.outcomes[OutcomeKind.DISCARD_RIGHTS_UNAVAILABLE.value],
        clock_refused=c.outcomes[OutcomeKind.DISCARD_CLOCK_OFFSET.value],
    )


def outcomes_now(car: Car) -> dict[str, int]:
    """A copy of the outcome counts, safe while the frame loop adds to them (``dict.copy``
    runs in one step under the GIL; iterating the live Counter does not)."""
    return dict.copy(car.pipeline.counters.outcomes)


def _cameras(car: Car) -> list[CameraHealth]:
    if car.live_frames is None:
        return []
    now = time.monotonic()
    return [
        CameraHealth(
            name=s.name,
            state=s.state,
            fps=s.fps(now),
            last_frame_age_s=s.last_frame_age_s(now),
            frames=s.frames,
            dropped=s.dropped,
            reconnects=s.reconnects,
        )
        for s in car.live_frames.stats
    ]


def _gps(car: Car) -> tuple[GpsHealth | None, float | None, bool | None]:
    if car.gps_watch is None:
        return None, None, None
    r = car.gps_watch.reading()
    gps = GpsHealth(
        state=r.state,
        fix_age_s=r.fix_age_s,
        hdop=r.hdop,
        fix_quality=r.fix_quality,
        satellites=r.satellites,
    )
    return gps, r.clock_offset_s, car.gps_watch.is_clock_trusted()


def _age_s(now: datetime, then: datetime | None) -> float | None:
    return None if then is None else round(max(0.0, (now - then).total_seconds()), 3)


def car_health(car: Car) -> Heartbeat:
    """Everything the car knows about itself now, without its position."""
    now = datetime.now(UTC)
    gps, offset, trusted = _gps(car)
    age = car.rights.cache_age(car.clock())
    stats = car.outbox.stats()
    try:
        free: int | None = shutil.disk_usage(car.config.data_dir).free
    except OSError:
        free = None
    health = Heartbeat(
        sent_at=now,
        run_id=car.run_id,
        counts=counts(car),
        outbox_backlog=stats.pending,
        rights_cache_age_s=None if age is None else max(0.0, round(age.total_seconds(), 1)),
        software_version=car.settings.software_version,
        uptime_s=round(time.monotonic() - car.started_mono, 1),
        cameras=_cameras(car),
        gps=gps,
        clock_offset_s=offset,
        clock_trusted=trusted,
        rights_state=car.rights.state,
        zones_origin=car.zones.origin,
        zones_version=car.zones.version,
        outbox_oldest_age_s=_age_s(now, car.outbox.oldest_pending_at()),
        dead_letters=stats.dead,
        disk_free_bytes=free,
    )
    return health.model_copy(update={"problems": find_problems(car, health)})


def find_problems(car: Car, h: Heartbeat) -> list[str]:
    """What is wrong, in words (empty: healthy)."""
    out: list[str] = []
    for cam in h.cameras:
        if cam.state != "up":
            age = "never" if cam.last_frame_age_s is None else f"{cam.last_frame_age_s:.0f} s ago"
            out.append(f"camera {cam.name} {cam.state} (last frame {age})")
    if h.gps is not None and h.gps.state != "ok":
        age = "none yet" if h.gps.fix_age_s is None else f"{h.gps.fix_age_s:.0f} s ago"
        out.append(f"GPS {h.gps.state.replace('_', ' ')} (last fix {age})")
    if h.clock_trusted is False and h.clock_offset_s is not None:
        out.append(f"clock off by {h.clock_offset_s:+.2f} s against GPS: nothing is fined")
    if h.rights_state == "no_key":
        out.append("rights unknown: no plate key yet (nothing is fined)")
    elif (cache_age := h.rights_cache_age_s or 0.0) > car.rights.max_age.total_seconds():
        out.append(f"rights cache stale ({cache_age / 60:.0f} min old)")
    if car.keeper is not None and car.keeper.refused:
        out.append("backend refuses the device token")
    if h.outbox_oldest_age_s is not None and h.outbox_oldest_age_s > OUTBOX_LATE_S:
        out.append(
            f"outbox: {h.outbox_backlog} suspects waiting, oldest "
            f"{h.outbox_oldest_age_s / 60:.0f} min"
        )
    if h.dead_letters:
        out.append(f"outbox: {h.dead_letters} suspects refused by the backend (dead letters)")
    min_free = car.config.health.min_free_disk_mb * 1024 * 1024
    if h.disk_free_bytes is not None and h.disk_free_bytes < min_free:
        out.append(f"disk almost full ({h.disk_free_bytes // (1024 * 1024)} MB free)")
    sender = getattr(car, "heartbeat", None)
    if sender is not None and sender.failed_in_a_row >= 3:
        out.append(f"backend unreachable ({sender.failed_in_a_row} heartbeats failed)")
    return out


def summary_line(h: Heartbeat, outcomes: dict[str, int]) -> str:
    """The periodic log line: numbers, states and outcome kinds only."""
    cams = ", ".join(f"{c.name} {c.state} {c.fps:.1f} fps" for c in h.cameras) or "-"
    gps = "-"
    if h.gps is not None:
        age = "-" if h.gps.fix_age_s is None else f"{h.gps.fix_age_s:.1f} s"
        gps = f"{h.gps.state} (fix age {age}, hdop {h.gps.hdop})"
    clock = "-" if h.clock_offset_s is None else f"{h.clock_offset_s:+.2f} s"
    oldest = "-" if h.outbox_oldest_age_s is None else f"{h.outbox_oldest_age_s:.0f} s"
    c = h.counts
    outcome_text = ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())) or "none"
    return (
        f"summary: cameras {cams}; frames {c.frames}, reads {c.reads}, passes {c.passes} "
        f"({outcome_text}); outbox backlog {h.outbox_backlog} (oldest {oldest}), dead "
        f"{h.dead_letters}; GPS {gps}; clock {clock}; rights {h.rights_state} "
        f"(cache age {h.rights_cache_age_s} s); "
        f"{'healthy' if not h.problems else 'problems: ' + '; '.join(h.problems)}"
    )


def write_status(data_dir: Path, h: Heartbeat, mode: str) -> None:
    """``status.json`` for ``scancar status`` (temporary name, then renamed)."""
    doc: dict[str, Any] = {
        "written_at": datetime.now(UTC).isoformat(),
        "pid": os.getpid(),
        "mode": mode,
        "health": json.loads(h.model_dump_json(exclude={"lon", "lat"})),
    }
    path = data_dir / STATUS_NAME
    tmp = path.with_name(f".{STATUS_NAME}.tmp")
    tmp.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    tmp.replace(path)


class HealthMonitor:
    """The live car's health thread (see the module docstring)."""

    def __init__(self, car: Car, *, tick_s: float = 0.5) -> None:
        self.car = car
        self.tick_s = tick_s
        self.watchdog = Watchdog.from_environment()
        self._next_status = 0.0
        self._next_summary = time.monotonic() + car.config.health.summary_interval_s

    def loop_is_alive(self) -> bool:
        frames = self.car.live_frames
        if frames is None:
            return True
        return time.monotonic() - frames.last_poll_mono < LOOP_STALL_S

    def tick(self) -> None:
        car, now = self.car, time.monotonic()
        if car.gps_watch is not None:
            car.gps_watch.check()
        if car.live_frames is not None:
            for cam in car.live_frames.cameras:
                cam.check_down()
        if self.loop_is_alive():
            self.watchdog.ping()
        if now >= self._next_status or now >= self._next_summary:
            health = car_health(car)
            if now >= self._next_status:
                self._next_status = now + car.config.health.status_interval_s
                write_status(car.config.data_dir, health, car.mode)
                self.watchdog.status(
                    "healthy" if not health.problems else "; ".join(health.problems)[:200]
                )
            if now >= self._next_summary:
                self._next_summary = now + car.config.health.summary_interval_s
                log.info(summary_line(health, outcomes_now(car)))

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.tick()
            except Exception:  # the monitor must outlive a failing snapshot
                log.exception("health monitor round failed")
            if stop.wait(self.tick_s):
                break
        with contextlib.suppress(OSError):
            write_status(self.car.config.data_dir, car_health(self.car), self.car.mode)
