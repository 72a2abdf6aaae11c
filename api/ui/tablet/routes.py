"""The BOA tablet pages under /ui: the queue, a hit, its evidence and the decisions.

Server-rendered, one small static script, no inline scripts (strict CSP). The pages call the
same review services as the JSON API; forms go through ``api.ui.forms.form_action``.
"""

from __future__ import annotations

import io
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, Response
from PIL import Image
from sqlmodel import col, select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from api.auth.principal import Role
from api.deps import SessionDep, SettingsDep
from api.errors import Forbidden, NotFound, PayloadTooLarge, Unprocessable
from api.evidence.store import EvidenceMissing, EvidenceTampered
from api.hits.db import EvidenceRow, HitEventRow, HitRightsCheckRow, HitRow
from api.hits.model import HitStatus
from api.review import service
from api.review.photos import add_on_site_photo
from api.review.routes import ConfirmIn, CorrectPlateIn, RejectIn
from api.review.rules import distance_m
from api.ui.forms import FormState, Outcome, empty_form, form_action, see_other
from api.ui.session import PageUser, PageUserDep
from api.ui.templating import NO_STORE, render

THUMB_SIDE = 360

router = APIRouter(prefix="/ui", include_in_schema=False)


class PhotoTooLarge(PayloadTooLarge):
    code = "photo_too_large"

    def __init__(self, max_bytes: int):
        self.maximum = f"{max_bytes / (1024 * 1024):.0f} MB"
        super().__init__(f"the photo is over {max_bytes} bytes")


HitId = Annotated[int, PathParam(ge=1, le=2**62)]


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
    zone_options = [(z, z) for z in zones]
    filters = empty_form(zone=zone or "", reason=reason or "")
    return render(
        request,
        "tablet/queue.html",
        {
            "user": user,
            "rows": rows,
            "zones": zone_options,
            "filters": filters,
            "located": lon is not None,
            "filter_qs": urlencode({k: v for k, v in (("zone", zone), ("reason", reason)) if v}),
        },
    )


# --------------------------------------------------------------------------- a hit
def _hit_context(
    request: Request,
    session: SessionDep,
    user: PageUser,
    hit: HitRow,
    forms: dict[str, FormState] | None = None,
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
    remote_allowed = bool(rules and rules.remote_enforcement_allowed)
    all_forms = {
        "confirm": empty_form("confirm", mode="remote" if remote_allowed else "on_site"),
        "reject": empty_form("reject"),
        "plate": empty_form("plate"),
        "photo": empty_form("photo"),
    }
    all_forms.update(forms or {})
    return {
        "user": user,
        "hit": hit,
        "plate_evidence": [e for e in evidence if e.kind == "plate"],
        "other_evidence": [e for e in evidence if e.kind != "plate"],
        "check": check,
        "history": history,
        "zone": rules,
        "remote_allowed": remote_allowed,
        "mine": hit.status == "claimed" and hit.claimed_by == user.principal.id,
        "can_decide": user.principal.role == Role.BOA,
        "forms": all_forms,
        "failed": next((k for k, f in (forms or {}).items() if f.has_errors), None),
    }


@router.get("/hits/{hit_id}", response_class=HTMLResponse)
def hit_page(
    hit_id: HitId, request: Request, session: SessionDep, user: PageUserDep
) -> HTMLResponse:
    hit = service.get_hit(session, hit_id)
    return render(request, "tablet/hit.html", _hit_context(request, session, user, hit))


def _evidence_row(session: SessionDep, hit_id: int, name: str) -> EvidenceRow:
    ev = session.exec(
        select(EvidenceRow).where(EvidenceRow.hit_id == hit_id, EvidenceRow.name == name)
    ).first()
    if ev is None:
        raise NotFound(f"no evidence {name!r} for hit {hit_id}", code="evidence_unavailable")
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


# --------------------------------------------------------------------------- decisions
def _require_boa(user: PageUser) -> None:
    if user.principal.role != Role.BOA:
        raise Forbidden("only a BOA can review hits")


async def _answer(
    request: Request,
    session: SessionDep,
    user: PageUser,
    hit_id: int,
    outcome: Outcome[Any],
    done: str | None = None,
) -> Response:
    """After a decision: the hit page again (with the typed values and the Dutch reason, in
    the API's status) on a refusal; otherwise on to ``done`` or the hit."""
    if not outcome.ok:
        hit = service.get_hit(session, hit_id)
        ctx = _hit_context(request, session, user, hit, {outcome.form.key: outcome.form})
        return render(request, "tablet/hit.html", ctx, outcome.status)
    return see_other(done or f"/ui/hits/{hit_id}")


@router.post("/hits/{hit_id}/claim")
async def claim(
    hit_id: HitId, request: Request, session: SessionDep, settings: SettingsDep, user: PageUserDep
) -> Response:
    _require_boa(user)

    def do(_: FormData) -> object:
        return service.claim(session, hit_id, user.principal, settings)

    outcome = await form_action(request, user, do, session=session, key="claim")
    return await _answer(request, session, user, hit_id, outcome)


@router.post("/hits/{hit_id}/release")
async def release(
    hit_id: HitId, request: Request, session: SessionDep, user: PageUserDep
) -> Response:
    _require_boa(user)

    def do(_: FormData) -> object:
        return service.release(session, hit_id, user.principal)

    outcome = await form_action(request, user, do, session=session, key="release")
    return await _answer(request, session, user, hit_id, outcome, done="/ui/queue")


@router.post("/hits/{hit_id}/confirm")
async def confirm(
    hit_id: HitId, request: Request, session: SessionDep, settings: SettingsDep, user: PageUserDep
) -> Response:
    _require_boa(user)

    def do(f: ConfirmIn) -> object:
        return service.confirm(
            session,
            hit_id,
            user.principal,
            mode=f.mode,
            lon=f.lon,
            lat=f.lat,
            note=f.note,
            rights=request.app.state.rights_checker,
            zones=request.app.state.zone_rules,
            settings=settings,
            drafts=request.app.state.fine_drafts,
        )

    outcome = await form_action(request, user, do, schema=ConfirmIn, session=session, key="confirm")
    return await _answer(request, session, user, hit_id, outcome)


@router.post("/hits/{hit_id}/reject")
async def reject(
    hit_id: HitId, request: Request, session: SessionDep, user: PageUserDep
) -> Response:
    _require_boa(user)

    def do(f: RejectIn) -> object:
        return service.reject(session, hit_id, user.principal, reason=f.reason.value, note=f.note)

    outcome = await form_action(request, user, do, schema=RejectIn, session=session, key="reject")
    return await _answer(request, session, user, hit_id, outcome)


@router.post("/hits/{hit_id}/correct-plate")
async def correct_plate(
    hit_id: HitId, request: Request, session: SessionDep, settings: SettingsDep, user: PageUserDep
) -> Response:
    _require_boa(user)

    def do(f: CorrectPlateIn) -> object:
        return service.correct_plate(
            session,
            hit_id,
            user.principal,
            plate=f.plate,
            rights=request.app.state.rights_checker,
            zones=request.app.state.zone_rules,
            settings=settings,
        )

    outcome = await form_action(
        request, user, do, schema=CorrectPlateIn, session=session, key="plate"
    )
    return await _answer(request, session, user, hit_id, outcome)


@router.post("/hits/{hit_id}/photo")
async def photo(
    hit_id: HitId, request: Request, session: SessionDep, settings: SettingsDep, user: PageUserDep
) -> Response:
    _require_boa(user)

    async def do(form: FormData) -> object:
        upload = form.get("photo")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise Unprocessable("choose a photo first", code="photo_missing")
        data = await upload.read(settings.max_image_bytes + 1)
        if len(data) > settings.max_image_bytes:
            raise PhotoTooLarge(settings.max_image_bytes)
        return await run_in_threadpool(  # the image check may wait for a free slot
            add_on_site_photo,
            session,
            request.app.state.evidence_store,
            hit_id,
            user.principal,
            data,
            images=request.app.state.image_checker,
        )

    outcome = await form_action(request, user, do, session=session, key="photo")
    return await _answer(request, session, user, hit_id, outcome)
