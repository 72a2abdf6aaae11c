"""Scan-car devices: heartbeats (device) and their status (admin, backoffice)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Response
from pydantic import BaseModel
from sqlmodel import col, select

from api.auth.db import DeviceRow
from api.auth.principal import Principal, Role
from api.deps import SessionDep, allow
from api.devices.db import HeartbeatRow
from api.devices.service import store_heartbeat
from scancar.wire import Heartbeat

router = APIRouter(prefix="/api/v1/devices", tags=["devices"])


class DeviceStatus(BaseModel):
    id: int
    name: str
    created_at: datetime
    revoked: bool
    last_seen_at: datetime | None
    last_lon: float | None = None
    last_lat: float | None = None
    outbox_backlog: int | None = None
    rights_cache_age_s: float | None = None
    software_version: str | None = None
    counts: dict[str, int] | None = None


class DevicesPage(BaseModel):
    data: list[DeviceStatus]
    count: int


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
    _: Annotated[Principal, allow(Role.ADMIN, Role.BACKOFFICE)],
) -> DevicesPage:
    out = []
    for dev in session.exec(select(DeviceRow).order_by(col(DeviceRow.name))).all():
        last = session.exec(
            select(HeartbeatRow)
            .where(HeartbeatRow.device_id == dev.id)
            .order_by(col(HeartbeatRow.id).desc())
            .limit(1)
        ).first()
        out.append(
            DeviceStatus(
                id=dev.id or 0,
                name=dev.name,
                created_at=dev.created_at,
                revoked=dev.revoked_at is not None,
                last_seen_at=dev.last_seen_at,
                last_lon=last.lon if last else None,
                last_lat=last.lat if last else None,
                outbox_backlog=last.outbox_backlog if last else None,
                rights_cache_age_s=last.rights_cache_age_s if last else None,
                software_version=last.software_version if last else None,
                counts=last.counts if last else None,
            )
        )
    return DevicesPage(data=out, count=len(out))
