"""The read side of scan-car devices, shared by the API and the back-office pages: each car
with its latest heartbeat (health as the car reported it) and its flags
(``api.devices.health``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from api.auth.db import DeviceRow
from api.devices.db import HeartbeatRow
from api.devices.health import (
    DeviceFlag,
    HealthThresholds,
    HeartbeatFacts,
    device_verdict,
)
from api.settings import BackendSettings


@dataclass(frozen=True, slots=True)
class DeviceHealth:
    id: int
    name: str
    created_at: datetime
    revoked: bool
    last_seen_at: datetime | None
    flags: tuple[DeviceFlag, ...]
    blind_cameras: tuple[str, ...]
    latest: HeartbeatRow | None

    @property
    def health(self) -> dict[str, Any]:
        return dict(self.latest.health or {}) if self.latest is not None else {}


def _facts(row: HeartbeatRow | None) -> HeartbeatFacts | None:
    if row is None:
        return None
    return HeartbeatFacts(row.sent_at, row.run_id, dict(row.counts or {}), row.health)


def latest_heartbeats(session: Session) -> dict[int, HeartbeatRow]:
    """The newest heartbeat of every device that sent one (one query: per car one lookup on
    the index (device_id, id), however many heartbeats are stored)."""
    newest = (
        select(func.max(HeartbeatRow.id))
        .where(col(HeartbeatRow.device_id) == col(DeviceRow.id))
        .correlate(DeviceRow)
        .scalar_subquery()
    )
    rows = session.exec(
        select(HeartbeatRow).where(col(HeartbeatRow.id).in_(select(newest).select_from(DeviceRow)))
    )
    return {row.device_id: row for row in rows}


def heartbeat_before(session: Session, latest: HeartbeatRow, at: datetime) -> HeartbeatRow | None:
    """The same run's newest heartbeat sent at or before ``at``."""
    if latest.run_id is None:
        return None
    return session.exec(
        select(HeartbeatRow)
        .where(
            HeartbeatRow.device_id == latest.device_id,
            HeartbeatRow.run_id == latest.run_id,
            col(HeartbeatRow.sent_at) <= at,
        )
        .order_by(col(HeartbeatRow.sent_at).desc())
        .limit(1)
    ).first()


def list_device_health(
    session: Session, now: datetime, thresholds: HealthThresholds
) -> list[DeviceHealth]:
    """Every device (by name) with its latest heartbeat and flags; revoked devices get none."""
    latest = latest_heartbeats(session)
    out: list[DeviceHealth] = []
    for dev in session.exec(select(DeviceRow).order_by(col(DeviceRow.name))).all():
        last = latest.get(dev.id or 0)
        revoked = dev.revoked_at is not None
        earlier = (
            None
            if last is None or revoked
            else heartbeat_before(session, last, last.sent_at - thresholds.reading_window)
        )
        verdict = device_verdict(dev.last_seen_at, _facts(last), _facts(earlier), now, thresholds)
        out.append(
            DeviceHealth(
                id=dev.id or 0,
                name=dev.name,
                created_at=dev.created_at,
                revoked=revoked,
                last_seen_at=dev.last_seen_at,
                flags=() if revoked else verdict.flags,
                blind_cameras=() if revoked else verdict.blind_cameras,
                latest=last,
            )
        )
    return out


def thresholds_of(settings: BackendSettings) -> HealthThresholds:
    """The health flags' thresholds from the settings (SCANCAR_DEVICE_*)."""
    return HealthThresholds(
        silent_after=timedelta(seconds=settings.device_silent_after_s),
        blind_after=timedelta(seconds=settings.device_blind_after_s),
        lost_after=timedelta(seconds=settings.device_lost_after_s),
        reading_window=timedelta(minutes=settings.device_reading_nothing_minutes),
    )
