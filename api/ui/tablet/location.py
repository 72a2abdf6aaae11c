"""A BOA sharing their location with the control room, from the queue page: switched on and
off with a form (``/ui/locatie``); while it is on, ``/static/app.js`` sends the tablet's
position to ``/ui/locatie/positie`` at most every 30 s. Stored by ``api.controlroom.service``
(the same as ``PUT /api/v1/controlroom/position``); positions older than
``boa_position_max_age_minutes`` are cleared and never shown."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.datastructures import FormData

from api.auth.principal import Role
from api.controlroom import service
from api.db import utcnow
from api.deps import SessionDep, SettingsDep
from api.ui.flash import set_flash
from api.ui.forms import form_action, see_other
from api.ui.session import PageGuard, PageUser

router = APIRouter()
BoaPage = Annotated[PageUser, Depends(PageGuard((Role.BOA,)))]


class PositionIn(BaseModel):
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    accuracy_m: float | None = Field(default=None, ge=0, le=100_000)


@router.post("/locatie")
async def sharing(request: Request, session: SessionDep, user: BoaPage) -> Response:
    def do(form: FormData) -> bool:
        on = form.get("delen") == "1"
        service.set_sharing(session, user.principal, on=on, now=utcnow())
        return on

    outcome = await form_action(request, user, do, session=session, key="share")
    response = see_other("/ui/queue")
    if outcome.ok:
        text = (
            "Uw locatie wordt gedeeld met de meldkamer zolang deze pagina open is."
            if outcome.result
            else "Uw locatie wordt niet meer gedeeld."
        )
        set_flash(response, request, text)
    return response


@router.post("/locatie/positie")
async def position(
    request: Request, session: SessionDep, settings: SettingsDep, user: BoaPage
) -> Response:
    def do(f: PositionIn) -> bool:
        return service.share_position(
            session,
            user.principal,
            lon=f.lon,
            lat=f.lat,
            accuracy_m=f.accuracy_m,
            now=utcnow(),
            max_age=timedelta(minutes=settings.boa_position_max_age_minutes),
        )

    outcome = await form_action(request, user, do, schema=PositionIn, session=session)
    if not outcome.ok:
        return Response(status_code=outcome.status)
    return Response(status_code=204 if outcome.result else 409)
