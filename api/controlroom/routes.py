"""The control room through the API: the live picture (cars, BOAs sharing their location,
hits waiting for an officer on site), assigning such a hit to a BOA, a BOA's own assigned
hits, and a BOA sharing their position. The control-room page (/ui/meldkamer) and the tablet
call the same ``api.controlroom`` functions."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from api.auth.principal import Principal, Role
from api.controlroom import queries, service
from api.db import utcnow
from api.deps import SessionDep, SettingsDep, ZoneCatalogDep, allow
from api.devices.queries import thresholds_of
from api.limits import ROW_ID_MAX, RowIdPath

router = APIRouter(prefix="/api/v1/controlroom", tags=["control room"])
Coordinator = Annotated[Principal, allow(Role.COORDINATOR, Role.BACKOFFICE)]
Boa = Annotated[Principal, allow(Role.BOA)]


class CarOut(BaseModel):
    id: int
    name: str
    lon: float | None
    lat: float | None
    last_seen_at: datetime | None
    silent: bool


class BoaOut(BaseModel):
    id: int
    name: str
    lon: float
    lat: float
    accuracy_m: float | None
    at: datetime


class AssignmentOut(BaseModel):
    boa_id: int
    boa_name: str
    assigned_by: str
    assigned_at: datetime


class WaitingOut(BaseModel):
    id: int
    zone_id: str | None
    lon: float
    lat: float
    captured_at: datetime
    waiting_s: float
    status: str
    assignment: AssignmentOut | None


class LiveOut(BaseModel):
    at: datetime
    cars: list[CarOut]
    boas: list[BoaOut]
    waiting: list[WaitingOut]


class AssignIn(BaseModel):
    boa_id: int = Field(ge=1, le=ROW_ID_MAX)


class PositionIn(BaseModel):
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    accuracy_m: float | None = Field(default=None, ge=0, le=100_000)


def on_site_zones(catalog: ZoneCatalogDep, session: SessionDep) -> list[str]:
    """The current zones where hits are confirmed on site only (no remote enforcement)."""
    return [z.id for z in catalog.current(session).index.zones if not z.remote_enforcement_allowed]


@router.get("/live", response_model=LiveOut)
def live(
    session: SessionDep, settings: SettingsDep, catalog: ZoneCatalogDep, _: Coordinator
) -> LiveOut:
    now = utcnow()
    waiting = queries.waiting_on_site(
        session, queries.on_site_zone_ids(catalog.current(session).index.zones)
    )
    return LiveOut(
        at=now,
        cars=[CarOut.model_validate(c, from_attributes=True)
              for c in queries.live_cars(session, now, thresholds_of(settings))],
        boas=[BoaOut.model_validate(b, from_attributes=True)
              for b in queries.live_boas(session, now, max_age(settings))],
        waiting=[
            WaitingOut(
                id=w.id, zone_id=w.zone_id, lon=w.lon, lat=w.lat, captured_at=w.captured_at,
                waiting_s=(now - w.captured_at).total_seconds(), status=w.status,
                assignment=AssignmentOut.model_validate(w.assignment, from_attributes=True)
                if w.assignment else None,
            )
            for w in waiting
        ],
    )  # fmt: skip


def max_age(settings: SettingsDep) -> timedelta:
    return timedelta(minutes=settings.boa_position_max_age_minutes)


@router.put("/hits/{hit_id}/assignment", response_model=AssignmentOut)
def assign(
    hit_id: RowIdPath, body: AssignIn, session: SessionDep, actor: Coordinator
) -> AssignmentOut:
    """Give an open hit to one BOA; it is on top of that BOA's queue."""
    service.assign(session, actor, hit_id, body.boa_id, utcnow())
    return AssignmentOut.model_validate(
        queries.assigned_to(session, body.boa_id)[hit_id], from_attributes=True
    )


@router.delete("/hits/{hit_id}/assignment", status_code=204)
def unassign(hit_id: RowIdPath, session: SessionDep, actor: Coordinator) -> Response:
    service.unassign(session, actor, hit_id)
    return Response(status_code=204)


@router.get("/assigned", response_model=list[int])
def my_assigned(session: SessionDep, boa: Boa) -> list[int]:
    """The ids of the open hits assigned to the calling BOA, newest assignment first."""
    return list(queries.assigned_to(session, boa.id))


@router.put("/position", status_code=204)
def put_position(
    body: PositionIn, session: SessionDep, settings: SettingsDep, boa: Boa
) -> Response:
    """The BOA's position, stored only while they share it (see ``/position/sharing``)."""
    service.share_position(
        session, boa, lon=body.lon, lat=body.lat, accuracy_m=body.accuracy_m, now=utcnow(),
        max_age=max_age(settings),
    )  # fmt: skip
    return Response(status_code=204)


@router.put("/position/sharing", status_code=204)
def start_sharing(session: SessionDep, boa: Boa) -> Response:
    service.set_sharing(session, boa, on=True, now=utcnow())
    return Response(status_code=204)


@router.delete("/position/sharing", status_code=204)
def stop_sharing(session: SessionDep, boa: Boa) -> Response:
    service.set_sharing(session, boa, on=False, now=utcnow())
    return Response(status_code=204)
