"""The BOA tablet pages under /ui: the queue, a hit, the photo viewer and the decisions.

Server-rendered, one small static script, no inline scripts (strict CSP). The pages call the
same review service as the JSON API (``api.review.service.Review``); forms go through
``api.ui.forms.form_action``; what they read comes from the hits' read side
(``api.hits.queries``). After a decision the BOA goes straight on to the
next hit (nearest first when the tablet knows where it is) with a confirmation line.
"""

from __future__ import annotations

import io
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, Response
from PIL import Image
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from api.auth.principal import Role
from api.controlroom import queries as controlroom
from api.db import utcnow
from api.deps import (
    EvidenceStoreDep,
    ReviewDep,
    SessionDep,
    SettingsDep,
    ZoneRulesDep,
    backend_of,
)
from api.errors import Forbidden, NotFound, PayloadTooLarge, Unprocessable
from api.evidence.store import EvidenceMissing, EvidenceTampered
from api.hits import queries
from api.hits.db import HitRow
from api.limits import ROW_ID_MAX
from api.review.rules import distance_m
from api.review.schemas import ConfirmIn, CorrectPlateIn, RejectIn
from api.review.service import PlateCorrection
from api.ui import labels
from api.ui.flash import set_flash
from api.ui.forms import FormState, Outcome, empty_form, form_action, see_other
from api.ui.session import PageUser, PageUserDep
from api.ui.tablet.context import (
    THUMB_SIDE,
    ZoneNames,
    hit_context,
    photos_of,
    queue_rows_view,
)
from api.ui.templating import NO_STORE, render

router = APIRouter(prefix="/ui", include_in_schema=False)
HitId = Annotated[int, PathParam(ge=1, le=ROW_ID_MAX)]


class PhotoTooLarge(PayloadTooLarge):
    code = "photo_too_large"

    def __init__(self, max_bytes: int):
        self.maximum = f"{max_bytes / (1024 * 1024):.0f} MB"
        super().__init__(f"the photo is over {max_bytes} bytes")


# --------------------------------------------------------------------------- queue
@router.get("/queue", response_class=HTMLResponse)
def queue(
    request: Request,
    session: SessionDep,
    zones: ZoneRulesDep,
    user: PageUserDep,
    zone: Annotated[str | None, Query(max_length=128)] = None,
    reason: Annotated[str | None, Query(max_length=32)] = None,
    lon: Annotated[float | None, Query(ge=-180, le=180)] = None,
    lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
) -> HTMLResponse:
    near = (lon, lat) if lon is not None and lat is not None else None
    rows = queries.open_queue(session, zone=zone or None, reason=reason or None, near=near)
    # hits the control room assigned to this BOA come first, newest assignment first
    assigned = controlroom.assigned_to(session, user.principal.id)
    if assigned:
        first = [
            queries.HitRowAt(h, distance_m(near[0], near[1], h.lon, h.lat) if near else None)
            for h in controlroom.assigned_hits(session, user.principal.id)
        ]
        rows = first + [r for r in rows if r.hit.id not in assigned]
    view = queue_rows_view(session, zones, user, rows, utcnow())
    for row in view:
        row["assignment"] = assigned.get(row["hit"].id)
    zone_name = ZoneNames(session, zones)
    zone_options = sorted(
        ((z, zone_name(z)) for z in queries.queue_zones(session, also=zone or None)),
        key=lambda o: o[1],
    )
    filters = empty_form(
        zone=zone or "",
        reason=reason or "",
        lon=f"{lon:.6f}" if near else "",
        lat=f"{lat:.6f}" if near else "",
    )
    return render(
        request,
        "tablet/queue.html",
        {
            "user": user,
            "rows": view,
            "zones": zone_options,
            "filters": filters,
            "located": near is not None,
            "filter_qs": urlencode({k: v for k, v in (("zone", zone), ("reason", reason)) if v}),
            "can_share": user.principal.role == Role.BOA,
            "sharing": controlroom.is_sharing(session, user.principal.id),
        },
    )


# --------------------------------------------------------------------------- a hit
def _page(
    request: Request,
    session: SessionDep,
    user: PageUser,
    hit: HitRow,
    forms: dict[str, FormState] | None = None,
    status: int = 200,
) -> HTMLResponse:
    backend = backend_of(request)
    ctx = hit_context(
        session,
        backend.zone_rules,
        user,
        hit,
        utcnow(),
        backend.settings.on_site_max_distance_m,
        forms,
    )
    return render(request, "tablet/hit.html", ctx, status)


@router.get("/hits/{hit_id}", response_class=HTMLResponse)
def hit_page(
    hit_id: HitId, request: Request, session: SessionDep, user: PageUserDep
) -> HTMLResponse:
    return _page(request, session, user, queries.get_hit(session, hit_id))


@router.get("/hits/{hit_id}/photos/{index}", response_class=HTMLResponse)
def photo_viewer(
    hit_id: HitId,
    index: Annotated[int, PathParam(ge=1, le=100)],
    request: Request,
    session: SessionDep,
    user: PageUserDep,
) -> HTMLResponse:
    """One photo full screen, inside the app: zoom, previous/next, back to the hit."""
    hit = queries.get_hit(session, hit_id)
    photos = photos_of(queries.hit_detail(session, hit).photos)
    if index > len(photos):
        raise NotFound(f"hit {hit_id} has {len(photos)} photos", code="evidence_unavailable")
    base = f"/ui/hits/{hit_id}/photos/"
    ctx = {
        "user": user,
        "hit": hit,
        "photos": photos,
        "photo": photos[index - 1],
        "index": index,
        "prev_url": f"{base}{index - 1}" if index > 1 else None,
        "next_url": f"{base}{index + 1}" if index < len(photos) else None,
    }
    return render(request, "tablet/photo.html", ctx)


@router.get("/hits/{hit_id}/evidence/{name}")
def evidence(
    hit_id: HitId,
    name: Annotated[str, PathParam(max_length=64)],
    session: SessionDep,
    store: EvidenceStoreDep,
    user: PageUserDep,  # noqa: ARG001 - the guard is the point
    size: Annotated[str, Query(pattern="^(thumb|full)$")] = "thumb",
) -> Response:
    """An image as stored ("full": the resolution the car sent) or a thumbnail."""
    ev = queries.evidence_of(session, hit_id, name)
    if ev is None:
        raise NotFound(f"no evidence {name!r} for hit {hit_id}", code="evidence_unavailable")
    try:
        data = store.read(ev.sha256)
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


def _near(form: FormState) -> tuple[float, float] | None:
    try:
        lon, lat = float(form.value("near_lon")), float(form.value("near_lat"))
    except ValueError:
        return None
    return (lon, lat) if -180 <= lon <= 180 and -90 <= lat <= 90 else None


def _refused(
    request: Request, session: SessionDep, user: PageUser, hit_id: int, outcome: Outcome[Any]
) -> HTMLResponse:
    """The hit page again with the typed values and the Dutch reason, in the API's status."""
    hit = queries.get_hit(session, hit_id)
    return _page(request, session, user, hit, {outcome.form.key: outcome.form}, outcome.status)


async def _submit(
    request: Request,
    session: SessionDep,
    user: PageUser,
    hit_id: int,
    key: str,
    do: Any,
    schema: Any = None,
) -> Outcome[Any] | HTMLResponse:
    """A BOA's form on a hit: the outcome of a success, or the page refusing it."""
    _require_boa(user)
    outcome = await form_action(request, user, do, schema=schema, session=session, key=key)
    if not outcome.ok or outcome.result is None:
        return _refused(request, session, user, hit_id, outcome)
    return outcome


def _decided(
    request: Request, session: SessionDep, user: PageUser, hit: HitRow, outcome: Outcome[Any]
) -> Response:
    """On to the next hit (nearest first when the position came along), saying what was done."""
    done = "bevestigd" if hit.status == "confirmed" else "afgewezen"
    nxt = queries.next_hit(
        session, user.principal.id, near=_near(outcome.form), after=hit.id or 0, now=utcnow()
    )
    text = f"Melding {labels.plate(hit.plate)} {done}."
    if nxt is None:
        text += " Er zijn geen meldingen meer te beoordelen."
    response = see_other(f"/ui/hits/{nxt.id}" if nxt else "/ui/queue")
    set_flash(response, request, text)
    return response


@router.post("/hits/{hit_id}/claim")
async def claim(
    hit_id: HitId, request: Request, session: SessionDep, review: ReviewDep, user: PageUserDep
) -> Response:
    """Take the hit, or extend one's own claim (the page's "Verlengen")."""

    def do(_: FormData) -> HitRow:
        return review.claim(session, hit_id, user.principal)

    outcome = await _submit(request, session, user, hit_id, "claim", do)
    if isinstance(outcome, Response):
        return outcome
    return see_other(f"/ui/hits/{hit_id}")


@router.post("/hits/{hit_id}/release")
async def release(
    hit_id: HitId, request: Request, session: SessionDep, review: ReviewDep, user: PageUserDep
) -> Response:
    def do(_: FormData) -> HitRow:
        return review.release(session, hit_id, user.principal)

    outcome = await _submit(request, session, user, hit_id, "release", do)
    if isinstance(outcome, Response):
        return outcome
    response = see_other("/ui/queue")
    set_flash(response, request, f"Melding {labels.plate(outcome.value.plate)} teruggegeven.")
    return response


@router.post("/hits/{hit_id}/confirm")
async def confirm(
    hit_id: HitId, request: Request, session: SessionDep, review: ReviewDep, user: PageUserDep
) -> Response:
    def do(f: ConfirmIn) -> HitRow:
        return review.confirm(
            session, hit_id, user.principal, mode=f.mode, lon=f.lon, lat=f.lat, note=f.note
        )

    outcome = await _submit(request, session, user, hit_id, "confirm", do, ConfirmIn)
    if isinstance(outcome, Response):
        return outcome
    return _decided(request, session, user, outcome.value, outcome)


@router.post("/hits/{hit_id}/reject")
async def reject(
    hit_id: HitId, request: Request, session: SessionDep, review: ReviewDep, user: PageUserDep
) -> Response:
    def do(f: RejectIn) -> HitRow:
        return review.reject(session, hit_id, user.principal, reason=f.reason, note=f.note)

    outcome = await _submit(request, session, user, hit_id, "reject", do, RejectIn)
    if isinstance(outcome, Response):
        return outcome
    return _decided(request, session, user, outcome.value, outcome)


@router.post("/hits/{hit_id}/correct-plate")
async def correct_plate(
    hit_id: HitId, request: Request, session: SessionDep, review: ReviewDep, user: PageUserDep
) -> Response:
    def do(f: CorrectPlateIn) -> PlateCorrection:
        return review.correct_plate(
            session,
            hit_id,
            user.principal,
            plate=f.plate,
            reason=f.reason,
            confirmed_different=f.confirm_different,
        )

    outcome = await _submit(request, session, user, hit_id, "plate", do, CorrectPlateIn)
    if isinstance(outcome, Response):
        return outcome
    response = see_other(f"/ui/hits/{hit_id}")
    plate = labels.plate(outcome.value.hit.plate)
    set_flash(response, request, f"Kenteken gecorrigeerd naar {plate}.")
    return response


@router.post("/hits/{hit_id}/photo")
async def photo(
    hit_id: HitId,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    review: ReviewDep,
    user: PageUserDep,
) -> Response:
    async def do(form: FormData) -> HitRow:
        upload = form.get("photo")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise Unprocessable("choose a photo first", code="photo_missing")
        data = await upload.read(settings.max_image_bytes + 1)
        if len(data) > settings.max_image_bytes:
            raise PhotoTooLarge(settings.max_image_bytes)
        # the image check may wait for a free slot
        return await run_in_threadpool(review.add_photo, session, hit_id, user.principal, data)

    outcome = await _submit(request, session, user, hit_id, "photo", do)
    if isinstance(outcome, Response):
        return outcome
    response = see_other(f"/ui/hits/{hit_id}")
    set_flash(response, request, "Foto toegevoegd.")
    return response


# sharing the location with the control room (its own module, on this router)
from api.ui.tablet import location  # noqa: E402 - after the router it joins

router.include_router(location.router)
