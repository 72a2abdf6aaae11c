"""Scan-car devices: heartbeats (device) and their health (admin, backoffice)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from api.auth.principal import Principal, Role
from api.db import utcnow
from api.deps import SessionDep, SettingsDep, allow
from api.devices.queries import DeviceHealth, list_device_health, thresholds_of
from api.devices.service import store_heartbeat
from scancar.wire import CameraHealth, GpsHealth, Heartbeat

router = APIRouter(prefix="/api/v1/devices", tags=["devices"])


class DeviceStatus(BaseModel):
    id: int
    name: str
    created_at: datetime
    revoked: bool
    last_seen_at: datetime | None
    flags: list[str] = Field(
        default_factory=list, description="silent, blind, lost, reading_nothing"
    )
    blind_cameras: list[str] = Field(default_factory=list)
    last_lon: float | None = None
    last_lat: float | None = None
    last_heartbeat_sent_at: datetime | None = None
    run_id: str | None = None
    outbox_backlog: int | None = None
    rights_cache_age_s: float | None = None
    software_version: str | None = None
    counts: dict[str, int] | None = None
    uptime_s: float | None = None
    cameras: list[CameraHealth] = Field(default_factory=list)
    gps: GpsHealth | None = None
    clock_offset_s: float | None = None
    clock_trusted: bool | None = None
    rights_state: str | None = None
    zones_origin: str | None = None
    zones_version: int | None = None
    outbox_oldest_age_s: float | None = None
    dead_letters: int | None = None
    disk_free_bytes: int | None = None
    problems: list[str] = Field(default_factory=list, description="as the car reports them")


class DevicesPage(BaseModel):
    data: list[DeviceStatus]
    count: int


def _status(device: DeviceHealth) -> DeviceStatus:
    last = device.latest
    health: dict[str, Any] = device.health
    return DeviceStatus(
        id=device.id,
        name=device.name,
        created_at=device.created_at,
        revoked=device.revoked,
        last_seen_at=device.last_seen_at,
        flags=[f.value for f in device.flags],
        blind_cameras=list(device.blind_cameras),
        last_lon=last.lon if last else None,
        last_lat=last.lat if last else None,
        last_heartbeat_sent_at=last.sent_at if last else None,
        run_id=last.run_id if last else None,
        outbox_backlog=last.outbox_backlog if last else None,
        rights_cache_age_s=last.rights_cache_age_s if last else None,
        software_version=last.software_version if last else None,
        counts=last.counts if last else None,
        **health,
    )


@router.post("/heartbeat", status_code=204, response_class=Response)
def heartbeat(
    body: Heartbeat,
    session: SessionDep,
    device: Annotated[Principal, allow(Role.DEVICE)],
) -> Response:
    store_heartbeat(session, device, body)
    session.commit()
    return Response(status_code=204)


@router.get("", response_model=DevicesPage)
def list_devices(
    session: SessionDep,
    settings: SettingsDep,
    _: Annotated[Principal, allow(Role.ADMIN, Role.BACKOFFICE, Role.COORDINATOR)],
) -> DevicesPage:
    """Every scan car with its latest heartbeat and its flags: ``silent`` (no heartbeat for
    ``SCANCAR_DEVICE_SILENT_AFTER_S``), ``blind`` (a camera without frames), ``lost`` (no
    GPS fix), ``reading_nothing`` (frames but no rights check for
    ``SCANCAR_DEVICE_READING_NOTHING_MINUTES``)."""
    devices = list_device_health(session, utcnow(), thresholds_of(settings))
    data = [_status(d) for d in devices]
    return DevicesPage(data=data, count=len(data))
