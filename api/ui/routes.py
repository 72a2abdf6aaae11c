"""The BOA tablet pages under /ui: login, the queue, a hit, and the decisions.

Server-rendered (Jinja2), one small static script, no inline scripts (strict CSP). Pages that
show evidence are never cached. The pages call the same review services as the JSON API.
"""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from PIL import Image
from sqlmodel import col, select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from api.auth.principal import Role
from api.auth.routes import client_of
from api.auth.service import login_over_http
from api.deps import PUBLIC, SessionDep, SettingsDep
from api.errors import ApiError, Forbidden, NotFound, TooManyRequests, Unauthorized
from api.evidence.images import InvalidImage
from api.evidence.store import EvidenceMissing, EvidenceTampered
from api.hits.db import EvidenceRow, HitEventRow, HitRightsCheckRow, HitRow
from api.hits.model import HitStatus
from api.review import service
from api.review.photos import add_on_site_photo
from api.review.rules import DecisionMode, ReviewError, distance_m
from api.ui import labels
from api.ui.session import (
    PageUser,
    PageUserDep,
    check_origin,
    checked_form,
    end_page_session,
    start_page_session,
)
from permits.errors import PermitsError

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.globals["labels"] = labels
LOCAL = ZoneInfo("Europe/Amsterdam")
NO_STORE = {"Cache-Control": "no-store, private", "Pragma": "no-cache"}
THUMB_SIDE = 360

router = APIRouter(prefix="/ui", include_in_schema=False)
HitId = Annotated[int, PathParam(ge=1, le=2**62)]


def local(t: datetime | None) -> str:
    return t.astimezone(LOCAL).strftime("%d-%m-%Y %H:%M") if t else "-"


templates.env.filters["local"] = local


def render(request: Request, name: str, ctx: dict[str, Any], status: int = 200) -> HTMLResponse:
    return templates.TemplateResponse(request, name, ctx, status_code=status, headers=NO_STORE)


def _safe_next(url: str | None) -> str:
    if url and url.startswith("/ui/") and not url.startswith("//") and "\\" not in url:
        return url
    return "/ui/queue"


# --------------------------------------------------------------------------- login
@router.get("/login", response_class=HTMLResponse, dependencies=[PUBLIC])
def login_page(request: Request, next: str | None = None) -> HTMLResponse:
    return render(request, "login.html", {"next": _safe_next(next), "error": None})


@router.post("/login", response_class=HTMLResponse, dependencies=[PUBLIC])
async def login_submit(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    check_origin(request)
    form = await request.form(max_files=0, max_fields=5)
    username = str(form.get("username") or "")
    password = str(form.get("password") or "")
    nxt = _safe_next(str(form.get("next") or ""))
    try:
        result = await login_over_http(
            session, settings, username=username, password=password, client=client_of(request)
        )
    except TooManyRequests as exc:
        wait = (exc.headers or {}).get("Retry-After", "?")
        msg = f"Te veel mislukte pogingen. Probeer het over {wait} seconden opnieuw."
        return render(request, "login.html", {"next": nxt, "error": msg}, 429)
    except Unauthorized:
        msg = "Gebruikersnaam of wachtwoord onjuist."
        return render(request, "login.html", {"next": nxt, "error": msg}, 401)
    if Role(result.user.role) not in (Role.BOA, Role.BACKOFFICE, Role.ADMIN):
        msg = "Dit account heeft geen toegang tot de beoordelingsapp."
        return render(request, "login.html", {"next": nxt, "error": msg}, 403)
    response = RedirectResponse(nxt, status_code=303, headers=NO_STORE)
    await run_in_threadpool(start_page_session, response, request, session, settings, result.user)
    return response


@router.post("/logout")
async def logout(request: Request, session: SessionDep, user: PageUserDep) -> Response:
    await checked_form(request, user)
    response = RedirectResponse("/ui/login", status_code=303, headers=NO_STORE)
    await run_in_threadpool(end_page_session, response, request, session)
    return response


@router.get("/", dependencies=[PUBLIC])
def root() -> RedirectResponse:
    return RedirectResponse("/ui/queue", status_code=303)


# --------------------------------------------------------------------------- queue
@router.get("/queue", response_class=HTMLResponse)
def queue(
    request: Request,
    session: SessionDep,
    user: PageUserDep,
    zone: Annotated[str | None, Query(max_length=128)] = None,
    reason: Annotated[str | None, Query(max_length=32)] = None,
    lon: Annotated[float | None, Query(ge=-180, le=180)] = None,
    lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
) -> HTMLResponse:
    stmt = select(HitRow).where(
        col(HitRow.status).in_([HitStatus.AWAITING_REVIEW.value, HitStatus.CLAIMED.value])
    )
    if zone:
        stmt = stmt.where(HitRow.zone_id == zone)
    if reason:
        stmt = stmt.where(HitRow.reason == reason)
    hits = session.exec(stmt.order_by(col(HitRow.captured_at)).limit(500)).all()
    rows = []
    for h in hits:
        d = distance_m(lon, lat, h.lon, h.lat) if lon is not None and lat is not None else None
        rows.append(
            {
                "hit": h,
                "distance": d,
                "mine": h.claimed_by == user.principal.id and h.status == "claimed",
            }
        )
    if lon is not None and lat is not None:
        rows.sort(key=lambda r: r["distance"])
    zones = sorted({z for (z,) in session.execute(select(HitRow.zone_id).distinct()) if z})
    return render(
        request,
        "queue.html",
        {
            "user": user,
            "rows": rows,
            "zones": zones,
            "zone": zone,
            "reason": reason,
            "located": lon is not None,
            "filter_qs": urlencode({k: v for k, v in (("zone", zone), ("reason", reason)) if v}),
        },
    )


# --------------------------------------------------------------------------- a hit
def _hit_context(
    request: Request, session: SessionDep, user: PageUser, hit: HitRow
) -> dict[str, Any]:
    evidence = session.exec(
        select(EvidenceRow).where(EvidenceRow.hit_id == hit.id).order_by(col(EvidenceRow.id))
    ).all()
    check = session.exec(
        select(HitRightsCheckRow)
        .where(HitRightsCheckRow.hit_id == hit.id)
        .order_by(col(HitRightsCheckRow.id).desc())
        .limit(1)
    ).first()
    history = session.exec(
        select(HitEventRow).where(HitEventRow.hit_id == hit.id).order_by(col(HitEventRow.id))
    ).all()
    rules = request.app.state.zone_rules.rules_for(session, hit.zone_id)
    plate_ev = [e for e in evidence if e.kind == "plate"]
    other_ev = [e for e in evidence if e.kind != "plate"]
    return {
        "user": user,
        "hit": hit,
        "plate_evidence": plate_ev,
        "other_evidence": other_ev,
        "check": check,
        "history": history,
        "zone": rules,
        "remote_allowed": bool(rules and rules.remote_enforcement_allowed),
        "mine": hit.status == "claimed" and hit.claimed_by == user.principal.id,
        "can_decide": user.principal.role == Role.BOA,
        "reject_reasons": labels.REJECT_REASON,
        "error": None,
    }


@router.get("/hits/{hit_id}", response_class=HTMLResponse)
def hit_page(
    hit_id: HitId, request: Request, session: SessionDep, user: PageUserDep
) -> HTMLResponse:
    hit = service.get_hit(session, hit_id)
    return render(request, "hit.html", _hit_context(request, session, user, hit))


def _evidence_row(session: SessionDep, hit_id: int, name: str) -> EvidenceRow:
    ev = session.exec(
        select(EvidenceRow).where(EvidenceRow.hit_id == hit_id, EvidenceRow.name == name)
    ).first()
    if ev is None:
        raise NotFound(f"geen bewijs {name!r} bij melding {hit_id}")
    return ev


@router.get("/hits/{hit_id}/evidence/{name}")
def evidence(
    hit_id: HitId,
    name: Annotated[str, PathParam(max_length=64)],
    request: Request,
    session: SessionDep,
    user: PageUserDep,  # noqa: ARG001 - the guard is the point
    size: Annotated[str, Query(pattern="^(thumb|full)$")] = "thumb",
) -> Response:
    ev = _evidence_row(session, hit_id, name)
    try:
        data = request.app.state.evidence_store.read(ev.sha256)
    except (EvidenceMissing, EvidenceTampered) as exc:
        raise NotFound(str(exc), code="evidence_unavailable") from None
    media = ev.content_type
    if size == "thumb" and max(ev.width, ev.height) > THUMB_SIDE:
        with Image.open(io.BytesIO(data)) as img:
            img.thumbnail((THUMB_SIDE, THUMB_SIDE))
            buf = io.BytesIO()
            img.convert("RGB").save(buf, format="JPEG", quality=70)
        data, media = buf.getvalue(), "image/jpeg"
    return Response(data, media_type=media, headers=NO_STORE)


async def _act(
    request: Request, session: SessionDep, user: PageUser, hit_id: int, action
) -> Response:  # type: ignore[no-untyped-def]
    """Run a decision; on a refusal, show the hit page again with the reason."""
    form = await checked_form(request, user)
    if user.principal.role != Role.BOA:
        raise Forbidden("alleen een BOA kan meldingen beoordelen")
    try:
        await action(form)
    except (ApiError, ReviewError, PermitsError, InvalidImage) as exc:
        session.rollback()
        hit = service.get_hit(session, hit_id)
        ctx = _hit_context(request, session, user, hit)
        ctx["error"] = getattr(exc, "detail", None) or str(exc)
        status = getattr(exc, "status_code", 409 if isinstance(exc, ReviewError) else 422)
        return render(request, "hit.html", ctx, status)
    return RedirectResponse(f"/ui/hits/{hit_id}", status_code=303, headers=NO_STORE)


@router.post("/hits/{hit_id}/claim")
async def claim(
    hit_id: HitId, request: Request, session: SessionDep, settings: SettingsDep, user: PageUserDep
) -> Response:
    async def do(_: Any) -> None:
        service.claim(session, hit_id, user.principal, settings)

    return await _act(request, session, user, hit_id, do)


@router.post("/hits/{hit_id}/release")
async def release(
    hit_id: HitId, request: Request, session: SessionDep, user: PageUserDep
) -> Response:
    async def do(_: Any) -> None:
        service.release(session, hit_id, user.principal)

    response = await _act(request, session, user, hit_id, do)
    if response.status_code == 303:
        return RedirectResponse("/ui/queue", status_code=303, headers=NO_STORE)
    return response


def _float(value: Any) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


@router.post("/hits/{hit_id}/confirm")
async def confirm(
    hit_id: HitId, request: Request, session: SessionDep, settings: SettingsDep, user: PageUserDep
) -> Response:
    async def do(form: Any) -> None:
        mode = DecisionMode(str(form.get("mode") or "remote"))
        service.confirm(
            session,
            hit_id,
            user.principal,
            mode=mode,
            lon=_float(form.get("lon")),
            lat=_float(form.get("lat")),
            note=str(form.get("note") or "") or None,
            rights=request.app.state.rights_checker,
            zones=request.app.state.zone_rules,
            settings=settings,
            drafts=request.app.state.fine_drafts,
        )

    return await _act(request, session, user, hit_id, do)


@router.post("/hits/{hit_id}/reject")
async def reject(
    hit_id: HitId, request: Request, session: SessionDep, user: PageUserDep
) -> Response:
    async def do(form: Any) -> None:
        service.reject(
            session,
            hit_id,
            user.principal,
            reason=str(form.get("reason") or ""),
            note=str(form.get("note") or "") or None,
        )

    return await _act(request, session, user, hit_id, do)


@router.post("/hits/{hit_id}/correct-plate")
async def correct_plate(
    hit_id: HitId, request: Request, session: SessionDep, settings: SettingsDep, user: PageUserDep
) -> Response:
    async def do(form: Any) -> None:
        service.correct_plate(
            session,
            hit_id,
            user.principal,
            plate=str(form.get("plate") or ""),
            rights=request.app.state.rights_checker,
            zones=request.app.state.zone_rules,
            settings=settings,
        )

    return await _act(request, session, user, hit_id, do)


@router.post("/hits/{hit_id}/photo")
async def photo(
    hit_id: HitId, request: Request, session: SessionDep, settings: SettingsDep, user: PageUserDep
) -> Response:
    async def do(form: Any) -> None:
        upload = form.get("photo")
        if not isinstance(upload, UploadFile):
            raise InvalidImage("kies eerst een foto")
        data = await upload.read(settings.max_image_bytes + 1)
        if len(data) > settings.max_image_bytes:
            raise InvalidImage(f"de foto is groter dan {settings.max_image_bytes} bytes")
        await run_in_threadpool(  # the image check may wait for a free slot
            add_on_site_photo,
            session,
            request.app.state.evidence_store,
            hit_id,
            user.principal,
            data,
            images=request.app.state.image_checker,
        )

    return await _act(request, session, user, hit_id, do)


def login_redirect(next_url: str) -> RedirectResponse:
    return RedirectResponse(f"/ui/login?next={quote(next_url)}", status_code=303)
