"""The control room (meldkamer) under /ui/meldkamer (coordinator, backoffice): a live map of
the cars (their last heartbeat), the BOAs who share their location and the hits that wait for
an officer on site, with the same as lists (the text alternative to the map); assigning such a
hit to a BOA, who then finds it on top of the tablet queue. The map refreshes itself from
``/ui/meldkamer/live.json`` (``/static/map.js``) without reloading the page. Reads and acts
through ``api.controlroom`` (the same functions as ``/api/v1/controlroom``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field
from sqlmodel import Session

from api.controlroom import queries, service
from api.db import utcnow
from api.deps import SessionDep, SettingsDep, ZoneCatalogDep
from api.devices.queries import thresholds_of
from api.limits import ROW_ID_MAX
from api.settings import BackendSettings
from api.ui import labels
from api.ui.backoffice.guards import ControlRoomPage
from api.ui.backoffice.zones import map_settings
from api.ui.flash import set_flash
from api.ui.forms import FormState, form_action, see_other
from api.ui.session import PageUser
from api.ui.templating import NO_STORE, render
from api.zones.service import ZoneCatalog, version_geojson

router = APIRouter(prefix="/ui", include_in_schema=False)
HitId = Annotated[int, PathParam(ge=1, le=ROW_ID_MAX)]
REFRESH_S = 15


class AssignIn(BaseModel):
    boa_id: int = Field(ge=1, le=ROW_ID_MAX)


def _max_age(settings: BackendSettings) -> timedelta:
    return timedelta(minutes=settings.boa_position_max_age_minutes)


def _picture(
    session: Session, settings: BackendSettings, catalog: ZoneCatalog, now: datetime
) -> dict[str, Any]:
    zone_set = catalog.current(session)
    names = {z.id: z.name for z in zone_set.index.zones}
    waiting = queries.waiting_on_site(session, queries.on_site_zone_ids(zone_set.index.zones))
    return {
        "now": now,
        "zone_version": zone_set.version,
        "zone_names": names,
        "cars": queries.live_cars(session, now, thresholds_of(settings)),
        "boas": queries.live_boas(session, now, _max_age(settings)),
        "waiting": waiting,
        "ages": {w.id: labels.duration((now - w.captured_at).total_seconds()) for w in waiting},
    }


def _choices(
    hit: queries.WaitingHit, boas: list[queries.LiveBoa], everyone: list[tuple[int, str]]
) -> list[tuple[int, str]]:
    """Who a hit can go to: the BOAs sharing their location nearest first (with the distance),
    then the others by name."""
    near = [
        (b.id, f"{b.name} ({labels.metres(m)}, deelt locatie)")
        for b, m in queries.boas_by_distance(hit, boas)
    ]
    placed = {i for i, _ in near}
    return near + [(i, name) for i, name in everyone if i not in placed]


def _page(
    request: Request,
    session: Session,
    settings: BackendSettings,
    catalog: ZoneCatalog,
    user: PageUser,
    form: FormState | None = None,
    status: int = 200,
) -> HTMLResponse:
    picture = _picture(session, settings, catalog, utcnow())
    everyone = queries.boa_choices(session)
    ctx = {
        "user": user,
        **picture,
        "choices": {w.id: _choices(w, picture["boas"], everyone) for w in picture["waiting"]},
        "map": map_settings(settings),
        "refresh_s": REFRESH_S,
        "form": form,
    }
    return render(request, "controlroom/map.html", ctx, status)


@router.get("/meldkamer", response_class=HTMLResponse)
def control_room(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    catalog: ZoneCatalogDep,
    user: ControlRoomPage,
) -> HTMLResponse:
    return _page(request, session, settings, catalog, user)


@router.get("/meldkamer/zones.geojson")
def zones_geojson(
    session: SessionDep,
    user: ControlRoomPage,  # noqa: ARG001 - the guard is the point
) -> JSONResponse:
    """The current zones for the map."""
    _, doc = version_geojson(session, None)
    return JSONResponse(doc, headers=NO_STORE)


@router.get("/meldkamer/live.json")
def live_json(
    session: SessionDep,
    settings: SettingsDep,
    catalog: ZoneCatalogDep,
    user: ControlRoomPage,  # noqa: ARG001 - the guard is the point
) -> JSONResponse:
    """What the map draws, with Dutch texts ready to show (no plates)."""
    p = _picture(session, settings, catalog, utcnow())
    names = p["zone_names"]
    body = {
        "at_local": labels.local_time(p["now"]),
        "cars": [
            {"id": c.id, "name": c.name, "lon": c.lon, "lat": c.lat, "silent": c.silent}
            for c in p["cars"]
        ],
        "boas": [{"id": b.id, "name": b.name, "lon": b.lon, "lat": b.lat} for b in p["boas"]],
        "hits": [
            {
                "id": w.id,
                "zone": names.get(w.zone_id or "", w.zone_id or "-"),
                "lon": w.lon,
                "lat": w.lat,
                "age": p["ages"][w.id],
                "assigned_to": w.assignment.boa_name if w.assignment else None,
            }
            for w in p["waiting"]
        ],
    }
    return JSONResponse(body, headers=NO_STORE)


@router.post("/meldkamer/meldingen/{hit_id}/toewijzen")
async def assign(
    hit_id: HitId,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    catalog: ZoneCatalogDep,
    user: ControlRoomPage,
) -> Response:
    def do(f: AssignIn) -> str:
        service.assign(session, user.principal, hit_id, f.boa_id, utcnow())
        return queries.assigned_to(session, f.boa_id)[hit_id].boa_name

    outcome = await form_action(
        request, user, do, schema=AssignIn, session=session, key=f"assign-{hit_id}"
    )
    if not outcome.ok:
        return _page(request, session, settings, catalog, user, outcome.form, outcome.status)
    response = see_other("/ui/meldkamer")
    set_flash(response, request, f"Melding {hit_id} is toegewezen aan {outcome.result}.")
    return response


@router.post("/meldkamer/meldingen/{hit_id}/intrekken")
async def unassign(
    hit_id: HitId,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    catalog: ZoneCatalogDep,
    user: ControlRoomPage,
) -> Response:
    outcome = await form_action(
        request,
        user,
        lambda _: service.unassign(session, user.principal, hit_id),
        session=session,
        key=f"unassign-{hit_id}",
    )
    if not outcome.ok:
        return _page(request, session, settings, catalog, user, outcome.form, outcome.status)
    response = see_other("/ui/meldkamer")
    set_flash(response, request, f"De toewijzing van melding {hit_id} is ingetrokken.")
    return response
