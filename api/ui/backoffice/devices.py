"""The scan cars page under /ui/autos: every car with its last heartbeat, position, software,
outbox backlog, cameras, GPS and flags (``api.devices.queries.list_device_health``, the same
read as ``GET /api/v1/devices``), a warning for cars silent too long, and revoking a car."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from api.auth.principal import Role
from api.db import utcnow
from api.deps import SessionDep, SettingsDep
from api.devices import service
from api.devices.health import DeviceFlag
from api.devices.queries import DeviceHealth, list_device_health, thresholds_of
from api.limits import ROW_ID_MAX
from api.ui.backoffice.guards import CarsActPage, CarsPage
from api.ui.flash import set_flash
from api.ui.forms import form_action, see_other
from api.ui.session import PageUser
from api.ui.templating import render

router = APIRouter()
DeviceId = Annotated[int, PathParam(ge=1, le=ROW_ID_MAX)]
ACTING_ROLES = (Role.BACKOFFICE, Role.ADMIN)


@dataclass(frozen=True, slots=True)
class CarCard:
    """One car as the page shows it."""

    device: DeviceHealth
    silent_for_s: float | None  # since the last sign of life; None: never heard from
    health: dict[str, Any]

    @property
    def is_silent(self) -> bool:
        return DeviceFlag.SILENT in self.device.flags

    @property
    def position(self) -> tuple[float, float] | None:
        last = self.device.latest
        if last is None or last.lon is None or last.lat is None:
            return None
        return (last.lon, last.lat)


def car_cards(devices: list[DeviceHealth], now: datetime) -> list[CarCard]:
    cards = []
    for d in devices:
        seen = d.last_seen_at
        silent_for = (now - seen).total_seconds() if seen is not None else None
        cards.append(CarCard(d, silent_for, d.health))
    return cards


def _ctx(session: SessionDep, settings: SettingsDep, user: PageUser) -> dict[str, Any]:
    now = utcnow()
    thresholds = thresholds_of(settings)
    cards = car_cards(list_device_health(session, now, thresholds), now)
    active = [c for c in cards if not c.device.revoked]
    return {
        "user": user,
        "cards": active,
        "revoked": [c for c in cards if c.device.revoked],
        "silent": [c for c in active if c.is_silent],
        "troubled": [c for c in active if c.device.flags and not c.is_silent],
        "silent_after_s": thresholds.silent_after.total_seconds(),
        "can_act": user.principal.role in ACTING_ROLES,
        "can_map": user.principal.role in (Role.BACKOFFICE, Role.COORDINATOR),
        "now": now,
    }


@router.get("/autos", response_class=HTMLResponse)
def cars_page(
    request: Request, session: SessionDep, settings: SettingsDep, user: CarsPage
) -> HTMLResponse:
    return render(request, "backoffice/cars.html", _ctx(session, settings, user))


@router.post("/autos/{device_id}/intrekken")
async def revoke(
    device_id: DeviceId,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: CarsActPage,
) -> Response:
    def do(_: FormData) -> str:
        device = service.revoke(session, user.principal, device_id)
        session.commit()
        return device.name

    outcome = await form_action(request, user, do, session=session, key="revoke")
    if not outcome.ok:
        ctx = {**_ctx(session, settings, user), "problem": outcome.form}
        return render(request, "backoffice/cars.html", ctx, outcome.status)
    response = see_other("/ui/autos")
    text = (
        f"De toegang van scanauto {outcome.result} is ingetrokken; de auto kan niets meer sturen."
    )
    set_flash(response, request, text)
    return response
