"""The portal for residents and businesses (Mijn parkeren, /mijn/): log in through OpenID
Connect (or a demo password), apply for a permit one question per page with a check of the
answers before sending, follow the application, change the plate, end a permit, and register
visitors (bezoekersparkeren).

Every page calls the resident-scoped services (``api.permits.resident``), the same as
``/api/v1/me``; refusals become Dutch text through ``api.ui.messages``.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api.auth.db import UserRow
from api.auth.principal import Role
from api.auth.service import login_over_http
from api.db import utcnow
from api.deps import PUBLIC, RowId, SessionDep, SettingsDep, backend_of, client_of
from api.errors import Forbidden, NotFound
from api.permits import resident
from api.residents.accounts import resident_for_identity
from api.residents.oidc import OidcClient, OidcError
from api.ui.forms import FormState, empty_form, form_action, see_other
from api.ui.labels import euro
from api.ui.portal import apply as wizard
from api.ui.portal.session import (
    ResidentDep,
    end_resident_session,
    keep_login_state,
    start_resident_session,
    take_login_state,
)
from api.ui.routes import local_page
from api.ui.session import PageUser, checked_form
from api.ui.templating import NO_STORE, render
from permits.model import Permit, PermitStatus, PermitType
from permits.plates import format_plate

router = APIRouter(prefix="/mijn", include_in_schema=False)
LOCAL = ZoneInfo("Europe/Amsterdam")
PermitId = Annotated[str, Query(max_length=64)]


def _safe_next(url: str | None) -> str:
    return url if url and local_page(url, "/mijn/") else "/mijn/"


def _oidc(request: Request) -> OidcClient | None:
    return backend_of(request).oidc_client


def budget_text(minutes: int, unit: str, rate_cents_per_hour: int) -> str:
    """A visitor budget as the permit type shows it: '12 uur 30 min' or '€ 18,75'."""
    hours, rest = divmod(max(0, minutes), 60)
    text = f"{hours} uur" + (f" {rest} min" if rest else "")
    if unit == "euros":
        return f"{euro(round(minutes * rate_cents_per_hour / 60))} ({text})"
    return text


def _render(
    request: Request, session: Session, name: str, ctx: dict[str, Any], status: int = 200
) -> HTMLResponse:
    """``render`` with the portal's helpers: the visitor budget as the settings show it, and
    an area's name (its zone's) instead of its code."""
    settings = backend_of(request).settings

    def budget(minutes: int) -> str:
        return budget_text(
            minutes, settings.visitor_budget_unit, settings.visitor_rate_cents_per_hour
        )

    zones = backend_of(request).zone_catalog.current(session).index.zones
    names = {z.area_code: z.name for z in zones}

    def area_name(code: str) -> str:
        return names.get(code, code)

    return render(request, name, {"budget": budget, "area_name": area_name, **ctx}, status)


# --------------------------------------------------------------------------- login
def _login_page(
    request: Request, form: FormState, nxt: str, status: int = 200, **extra: Any
) -> HTMLResponse:
    settings = backend_of(request).settings
    ctx = {
        "form": form,
        "next": nxt,
        "oidc_label": settings.oidc_login_label if _oidc(request) else None,
        "password_login": settings.portal_password_login,
        **extra,
    }
    return render(request, "portal/login.html", ctx, status)


@router.get("/inloggen", response_class=HTMLResponse, dependencies=[PUBLIC])
def login_page(request: Request, next: str | None = None, uitgelogd: int = 0) -> HTMLResponse:
    return _login_page(request, empty_form(), _safe_next(next), logged_out=bool(uitgelogd))


class PasswordLogin(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    next: str | None = Field(default=None, max_length=512)


@router.post("/inloggen", response_class=HTMLResponse, dependencies=[PUBLIC])
async def password_login(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """The demo residents' password login (off unless SCANCAR_PORTAL_PASSWORD_LOGIN)."""
    if not settings.portal_password_login:
        raise NotFound("the password login is off; log in through OpenID Connect")

    async def do(f: PasswordLogin) -> UserRow:
        result = await login_over_http(
            session, settings, username=f.username, password=f.password, client=client_of(request)
        )
        if result.user.role != Role.RESIDENT.value:
            raise Forbidden("not a resident's account", code="no_page_access")
        return result.user

    outcome = await form_action(request, None, do, schema=PasswordLogin, session=session)
    nxt = _safe_next(outcome.form.value("next"))
    if not outcome.ok or outcome.result is None:
        outcome.form.values.pop("password", None)
        return _login_page(request, outcome.form, nxt, outcome.status)
    response = see_other(nxt)
    await run_in_threadpool(start_resident_session, response, request, session, outcome.result)
    return response


def _callback_url(request: Request) -> str:
    return str(request.url_for("portal_oidc_callback"))


@router.get("/inloggen/oidc", dependencies=[PUBLIC])
def oidc_start(request: Request, next: str | None = None) -> Response:
    """Send the browser to the OpenID provider (authorization code flow with PKCE)."""
    client = _oidc(request)
    if client is None:
        raise NotFound("no OpenID provider is configured")
    try:
        start = client.start(_callback_url(request))
    except OidcError:
        form = empty_form()
        form.add("Inloggen bij DigiD lukt nu niet. Probeer het later opnieuw.")
        return _login_page(request, form, _safe_next(next), 503)
    response = RedirectResponse(start.url, status_code=303, headers=NO_STORE)
    state = {"state": start.state, "nonce": start.nonce, "verifier": start.code_verifier}
    keep_login_state(response, request, {**state, "next": _safe_next(next)})
    return response


@router.get("/inloggen/terug", name="portal_oidc_callback", dependencies=[PUBLIC])
def oidc_callback(
    request: Request,
    session: SessionDep,
    code: Annotated[str | None, Query(max_length=2048)] = None,
    state: Annotated[str | None, Query(max_length=512)] = None,
    error: Annotated[str | None, Query(max_length=128)] = None,
) -> Response:
    """The provider sends the browser back here with a code; exchange it, check the ID token
    and log the resident in (the account is made on the first login)."""
    client = _oidc(request)
    if client is None:
        raise NotFound("no OpenID provider is configured")
    probe = Response()
    kept = take_login_state(request, probe)
    form = empty_form()
    if error or kept is None or not code or state != kept.get("state"):
        form.add(
            "Het inloggen is afgebroken of verlopen. Probeer het opnieuw."
            if error or kept is None
            else "Het inloggen kon niet worden gecontroleerd. Probeer het opnieuw."
        )
        response: Response = _login_page(request, form, "/mijn/", 400)
    else:
        try:
            identity = client.finish(
                _callback_url(request),
                code=code,
                nonce=str(kept["nonce"]),
                code_verifier=str(kept["verifier"]),
            )
            user = resident_for_identity(session, identity)
            session.commit()
        except OidcError:
            form.add("Inloggen bij DigiD is niet gelukt. Probeer het opnieuw.")
            return _with_cookies(_login_page(request, form, "/mijn/", 502), probe)
        response = see_other(_safe_next(str(kept.get("next") or "")))
        start_resident_session(response, request, session, user)
    return _with_cookies(response, probe)


def _with_cookies(response: Response, source: Response) -> Response:
    for value in source.headers.getlist("set-cookie"):
        response.headers.append("set-cookie", value)
    return response


@router.post("/uitloggen")
async def logout(request: Request, session: SessionDep, user: ResidentDep) -> Response:
    await checked_form(request, user)
    response = see_other("/mijn/inloggen?uitgelogd=1")
    await run_in_threadpool(end_resident_session, response, request, session)
    return response


# --------------------------------------------------------------------------- overview
@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: SessionDep, user: ResidentDep) -> HTMLResponse:
    mine = resident.own_permits(session, user.principal)
    visitor = next(
        (
            p
            for p in mine
            if p.permit.type is PermitType.VISITOR and p.permit.status is PermitStatus.ACTIVE
        ),
        None,
    )
    return _render(
        request, session, "portal/home.html", {"user": user, "mine": mine, "visitor": visitor}
    )


@router.get("/vergunningen/{permit_id}", response_class=HTMLResponse)
def permit_page(
    request: Request, session: SessionDep, user: ResidentDep, permit_id: str
) -> HTMLResponse:
    own = resident.describe(session, resident.own_permit(session, user.principal, permit_id))
    return _render(
        request,
        session,
        "portal/permit.html",
        {"user": user, "own": own, "received": request.query_params.get("ontvangen") == "1"},
    )


# --------------------------------------------------------------------------- plate change
class PlateChange(BaseModel):
    old_plate: str = Field(min_length=1, max_length=20)
    new_plate: str = Field(min_length=1, max_length=20)


def _plate_ctx(user: PageUser, permit: Permit, form: FormState) -> dict[str, Any]:
    plates = sorted(permit.open_plates)
    return {
        "user": user,
        "permit": permit,
        "form": form,
        "plates": plates,
        "plate_options": [(p, format_plate(p)) for p in plates],
    }


@router.get("/vergunningen/{permit_id}/kenteken", response_class=HTMLResponse)
def plate_page(
    request: Request, session: SessionDep, user: ResidentDep, permit_id: str
) -> HTMLResponse:
    permit = resident.own_permit(session, user.principal, permit_id)
    plates = sorted(permit.open_plates)
    form = empty_form(old_plate=plates[0] if plates else "")
    return render(request, "portal/plate.html", _plate_ctx(user, permit, form))


@router.post("/vergunningen/{permit_id}/kenteken", response_class=HTMLResponse)
async def plate_submit(
    request: Request, session: SessionDep, user: ResidentDep, permit_id: str
) -> Response:
    def do(f: PlateChange) -> None:
        resident.change_plate(session, user.principal, permit_id, f.old_plate, f.new_plate)
        session.commit()

    outcome = await form_action(request, user, do, schema=PlateChange, session=session)
    if outcome.ok:
        return see_other(f"/mijn/vergunningen/{permit_id}?kenteken=1")
    permit = resident.own_permit(session, user.principal, permit_id)
    return render(
        request, "portal/plate.html", _plate_ctx(user, permit, outcome.form), outcome.status
    )


# --------------------------------------------------------------------------- end a permit
@router.get("/vergunningen/{permit_id}/beeindigen", response_class=HTMLResponse)
def end_page(
    request: Request, session: SessionDep, user: ResidentDep, permit_id: str
) -> HTMLResponse:
    permit = resident.own_permit(session, user.principal, permit_id)
    return render(
        request, "portal/end.html", {"user": user, "permit": permit, "form": empty_form()}
    )


@router.post("/vergunningen/{permit_id}/beeindigen", response_class=HTMLResponse)
async def end_submit(
    request: Request, session: SessionDep, user: ResidentDep, permit_id: str
) -> Response:
    def do(_: Any) -> None:
        resident.end_permit(session, user.principal, permit_id)
        session.commit()

    outcome = await form_action(request, user, do, session=session)
    if outcome.ok:
        return see_other(f"/mijn/vergunningen/{permit_id}?beeindigd=1")
    permit = resident.own_permit(session, user.principal, permit_id)
    ctx = {"user": user, "permit": permit, "form": outcome.form}
    return render(request, "portal/end.html", ctx, outcome.status)


# --------------------------------------------------------------------------- applying
@router.get("/aanvragen", response_class=HTMLResponse)
def apply_start(request: Request, user: ResidentDep) -> HTMLResponse:
    return wizard.page(request, user, wizard.State(), "type", empty_form())


@router.post("/aanvragen", response_class=HTMLResponse)
async def apply_step(
    request: Request, session: SessionDep, settings: SettingsDep, user: ResidentDep
) -> Response:
    form = await checked_form(request, user)
    return wizard.step(request, session, settings, user, form)


@router.get("/aanvragen/ontvangen/{permit_id}", response_class=HTMLResponse)
def apply_done(
    request: Request, session: SessionDep, user: ResidentDep, permit_id: str
) -> HTMLResponse:
    own = resident.describe(session, resident.own_permit(session, user.principal, permit_id))
    return _render(request, session, "portal/received.html", {"user": user, "own": own})


# --------------------------------------------------------------------------- visitors
def _visitor_permit(session: SessionDep, user: PageUser) -> resident.OwnPermit | None:
    for own in resident.own_permits(session, user.principal):
        if own.permit.type is PermitType.VISITOR and own.permit.status is PermitStatus.ACTIVE:
            return own
    return None


def _until_choices(now: datetime) -> list[tuple[str, str]]:
    """End times a visitor session can run until: in whole hours from now, up to midnight."""
    local = now.astimezone(LOCAL)
    choices = []
    for hours in (1, 2, 3, 4, 8):
        end = local + timedelta(hours=hours)
        if end.date() == local.date():
            choices.append((str(hours), f"{hours} uur (tot {end:%H:%M})"))
    choices.append(("dag", "De rest van de dag (tot 23:59)"))
    return choices


def _until(choice: str, now: datetime) -> datetime:
    local = now.astimezone(LOCAL)
    if choice == "dag":
        return datetime.combine(local.date(), time(23, 59), tzinfo=LOCAL)
    return now + timedelta(hours=int(choice))


def _visitor_ctx(
    session: SessionDep, user: PageUser, forms: dict[str, FormState]
) -> dict[str, Any]:
    own = _visitor_permit(session, user)
    now = utcnow()
    recent = resident.recent_visits(session, user.principal, own.permit.id) if own else []
    return {
        "user": user,
        "own": own,
        "running": [v for v in recent if v.end > now and v.start <= now],
        "recent": recent,
        "favourites": resident.favourites(session, user.principal),
        "until_choices": _until_choices(now),
        "forms": {"start": empty_form("start", until="2"), "fav": empty_form("fav")} | forms,
    }


@router.get("/bezoek", response_class=HTMLResponse)
def visitors(request: Request, session: SessionDep, user: ResidentDep) -> HTMLResponse:
    return _render(request, session, "portal/visitors.html", _visitor_ctx(session, user, {}))


class VisitStart(BaseModel):
    plate: str = Field(min_length=1, max_length=20)
    until: str = Field(pattern=r"^(1|2|3|4|8|dag)$")
    buitenlands: bool = False  # the resident says the plate is foreign


@router.post("/bezoek/start", response_class=HTMLResponse)
async def visit_start(request: Request, session: SessionDep, user: ResidentDep) -> Response:
    own = _visitor_permit(session, user)
    if own is None:
        raise NotFound("no active visitor permit")

    def do(f: VisitStart) -> None:
        end = _until(f.until, utcnow())
        resident.start_visit(
            session, user.principal, own.permit.id, f.plate, end, foreign=f.buitenlands
        )
        session.commit()

    outcome = await form_action(request, user, do, schema=VisitStart, session=session, key="start")
    if outcome.ok:
        return see_other("/mijn/bezoek?gestart=1")
    ctx = _visitor_ctx(session, user, {"start": outcome.form})
    return _render(request, session, "portal/visitors.html", ctx, outcome.status)


@router.post("/bezoek/{session_id}/stop", response_class=HTMLResponse)
async def visit_stop(
    request: Request, session: SessionDep, user: ResidentDep, session_id: RowId
) -> Response:
    own = _visitor_permit(session, user)
    if own is None:
        raise NotFound("no active visitor permit")

    def do(_: Any) -> None:
        resident.stop_visit(session, user.principal, own.permit.id, session_id)
        session.commit()

    outcome = await form_action(request, user, do, session=session, key="start")
    if outcome.ok:
        return see_other("/mijn/bezoek?gestopt=1")
    ctx = _visitor_ctx(session, user, {"start": outcome.form})
    return _render(request, session, "portal/visitors.html", ctx, outcome.status)


class Favourite(BaseModel):
    plate: str = Field(min_length=1, max_length=20)
    label: str = Field(default="", max_length=40)
    buitenlands: bool = False


@router.post("/bezoek/favorieten", response_class=HTMLResponse)
async def favourite_add(request: Request, session: SessionDep, user: ResidentDep) -> Response:
    def do(f: Favourite) -> None:
        resident.add_favourite(session, user.principal, f.plate, f.label, foreign=f.buitenlands)
        session.commit()

    outcome = await form_action(request, user, do, schema=Favourite, session=session, key="fav")
    if outcome.ok:
        return see_other("/mijn/bezoek#favorieten")
    ctx = _visitor_ctx(session, user, {"fav": outcome.form})
    return _render(request, session, "portal/visitors.html", ctx, outcome.status)


@router.post("/bezoek/favorieten/{favourite_id}/verwijderen")
async def favourite_remove(
    request: Request, session: SessionDep, user: ResidentDep, favourite_id: RowId
) -> Response:
    await checked_form(request, user)
    resident.remove_favourite(session, user.principal, favourite_id)
    session.commit()
    return see_other("/mijn/bezoek#favorieten")
