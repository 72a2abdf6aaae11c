"""Flags on a scan car, from its heartbeats (pure rules; the queries feed them).

- ``silent``: no heartbeat for ``silent_after`` (or never one);
- ``blind``: a camera that is not up, or whose last frame is older than ``blind_after``;
- ``lost``: no GPS fix, or the newest fix older than ``lost_after``;
- ``reading_nothing``: over the last ``reading_window`` of one run the frame count grew but not
  one rights check was made (a camera pointing at the sky, the OCR failing, a car driving
  where nothing is regulated).

Blind and lost judge the latest heartbeat, also when the car has gone silent since (the last
thing known). A heartbeat of an older car without health fields raises neither.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any


class DeviceFlag(enum.StrEnum):
    SILENT = "silent"
    BLIND = "blind"
    LOST = "lost"
    READING_NOTHING = "reading_nothing"


@dataclass(frozen=True, slots=True)
class HealthThresholds:
    silent_after: timedelta = timedelta(minutes=5)
    blind_after: timedelta = timedelta(seconds=60)
    lost_after: timedelta = timedelta(seconds=60)
    reading_window: timedelta = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class HeartbeatFacts:
    """What the rules need of one heartbeat."""

    sent_at: datetime
    run_id: str | None
    counts: dict[str, int]
    health: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class DeviceVerdict:
    flags: tuple[DeviceFlag, ...]
    blind_cameras: tuple[str, ...]


def blind_cameras(health: dict[str, Any] | None, thresholds: HealthThresholds) -> tuple[str, ...]:
    if not health:
        return ()
    limit = thresholds.blind_after.total_seconds()
    blind = []
    for cam in health.get("cameras") or []:
        age = cam.get("last_frame_age_s")
        if cam.get("state") != "up" or age is None or age > limit:
            blind.append(str(cam.get("name")))
    return tuple(blind)


def is_lost(health: dict[str, Any] | None, thresholds: HealthThresholds) -> bool:
    if not health or health.get("gps") is None:
        return False
    gps = health["gps"]
    age = gps.get("fix_age_s")
    return bool(
        gps.get("state") != "ok" or age is None or age > thresholds.lost_after.total_seconds()
    )


def is_reading_nothing(latest: HeartbeatFacts, earlier: HeartbeatFacts | None) -> bool:
    """``earlier``: the same run's heartbeat at least ``reading_window`` before ``latest``."""
    if earlier is None or earlier.run_id is None or earlier.run_id != latest.run_id:
        return False
    frames = latest.counts.get("frames", 0) - earlier.counts.get("frames", 0)
    checks = latest.counts.get("checks", 0) - earlier.counts.get("checks", 0)
    return frames > 0 and checks == 0


def device_verdict(
    last_seen_at: datetime | None,
    latest: HeartbeatFacts | None,
    earlier: HeartbeatFacts | None,
    now: datetime,
    thresholds: HealthThresholds,
) -> DeviceVerdict:
    flags: list[DeviceFlag] = []
    if last_seen_at is None or now - last_seen_at > thresholds.silent_after:
        flags.append(DeviceFlag.SILENT)
    if latest is None:
        return DeviceVerdict(tuple(flags), ())
    blind = blind_cameras(latest.health, thresholds)
    if blind:
        flags.append(DeviceFlag.BLIND)
    if is_lost(latest.health, thresholds):
        flags.append(DeviceFlag.LOST)
    if is_reading_nothing(latest, earlier):
        flags.append(DeviceFlag.READING_NOTHING)
    return DeviceVerdict(tuple(flags), blind)
