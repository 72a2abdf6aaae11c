"""The exports page under /ui/exports (backoffice): make an export batch per track (tax /
WAHV) for a period of local days, see earlier batches with their counts and totals, what
waits to be exported, and download a batch's CSV again. Calls ``api.fines.service`` (the same
``export_batch`` as ``GET /api/v1/fines/export``) and writes the CSV through
``api.fines.exportfile`` (the API's file, byte for byte)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from pydantic import BaseModel

from api.db import utcnow
from api.deps import SessionDep, SettingsDep, backend_of
from api.errors import Unprocessable
from api.fines import service
from api.fines.exportfile import batch_chunks, csv_filename, csv_pieces
from api.ui import labels
from api.ui.backoffice.guards import BackOfficePage
from api.ui.flash import set_flash
from api.ui.forms import FormState, empty_form, form_action, see_other
from api.ui.labels import LOCAL
from api.ui.paging import count_text, page_links
from api.ui.session import PageUser
from api.ui.templating import NO_STORE, render
from api.ui.zonenames import zone_names
from zones import FineTrack

router = APIRouter()
BatchId = Annotated[str, PathParam(min_length=1, max_length=36, pattern=r"^[0-9a-fA-F-]+$")]
PAGE_SIZE = 50
SHOWN_FINES = 100


class ExportIn(BaseModel):
    """The form: a track and a period of whole local days (``tot`` included)."""

    spoor: FineTrack
    van: date
    tot: date


class PeriodReversed(Unprocessable):
    code = "export_period_reversed"

    def __init__(self) -> None:
        super().__init__("the period ends before it starts")


def local_period(first: date, last: date) -> tuple[datetime, datetime]:
    """[first 00:00, the day after last 00:00) in Europe/Amsterdam, as aware times."""
    if last < first:
        raise PeriodReversed
    return (
        datetime.combine(first, time(0), tzinfo=LOCAL),
        datetime.combine(last + timedelta(days=1), time(0), tzinfo=LOCAL),
    )


def _default_form() -> FormState:
    today = utcnow().astimezone(LOCAL).date()
    return empty_form(
        "export", spoor="", van=today.replace(day=1).isoformat(), tot=today.isoformat()
    )


def _ctx(
    session: SessionDep, user: PageUser, track: str | None, page: int, form: FormState | None
) -> dict[str, Any]:
    batches, total = service.export_batches(
        session, track, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    return {
        "user": user,
        "form": form or _default_form(),
        "batches": batches,
        "count": count_text(total.value, total.exact),
        "waiting": {u.track: u for u in service.unexported(session)},
        "tracks": [(t.value, labels.label(labels.FINE_TRACK, t.value)) for t in FineTrack],
        "track": track or "",
        "filter": empty_form(spoor=track or ""),
        **page_links(
            "/ui/exports",
            {"spoor": track} if track else {},
            page,
            shown=len(batches),
            page_size=PAGE_SIZE,
            count=total.value,
            exact=total.exact,
        ),
    }


@router.get("/exports", response_class=HTMLResponse)
def exports_page(
    request: Request,
    session: SessionDep,
    user: BackOfficePage,
    spoor: Annotated[FineTrack | None, Query()] = None,
    pagina: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    track = spoor.value if spoor else None
    return render(request, "backoffice/exports.html", _ctx(session, user, track, pagina, None))


@router.post("/exports")
async def create_export(request: Request, session: SessionDep, user: BackOfficePage) -> Response:
    def do(f: ExportIn) -> service.ExportResult:
        period_from, period_to = local_period(f.van, f.tot)
        return service.export_batch(
            session, user.principal, track=f.spoor, period_from=period_from, period_to=period_to
        )

    outcome = await form_action(request, user, do, schema=ExportIn, session=session, key="export")
    if not outcome.ok or outcome.result is None:
        ctx = _ctx(session, user, None, 1, outcome.form)
        return render(request, "backoffice/exports.html", ctx, outcome.status)
    batch = outcome.result.batch
    if batch is None:
        response = see_other("/ui/exports")
        set_flash(
            response,
            request,
            "Er zijn geen opgelegde boetes in deze periode om te exporteren; er is geen "
            "exportbatch gemaakt.",
            "warning",
        )
        return response
    response = see_other(f"/ui/exports/{batch.id}")
    what = f"{batch.fine_count} {'boete' if batch.fine_count == 1 else 'boetes'}"
    text = (
        f"Exportbatch gemaakt: {what}, samen {labels.euro(batch.total_cents)}."
        if outcome.result.created
        else "Alle boetes van deze periode zaten al in deze exportbatch; er is niets nieuws "
        "geëxporteerd."
    )
    set_flash(response, request, text)
    return response


@router.get("/exports/{batch_id}", response_class=HTMLResponse)
def batch_page(
    batch_id: BatchId, request: Request, session: SessionDep, user: BackOfficePage
) -> HTMLResponse:
    batch = service.get_batch(session, batch_id).batch
    rows, total = service.list_fines(
        session, service.FineFilter(export_batch_id=batch_id), limit=SHOWN_FINES
    )
    ctx = {
        "user": user,
        "batch": batch,
        "rows": rows,
        "total": total,
        "shown": SHOWN_FINES,
        "zone_names": zone_names(request, session),
    }
    return render(request, "backoffice/export.html", ctx)


@router.get("/exports/{batch_id}/csv")
def batch_csv(
    batch_id: BatchId,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: BackOfficePage,  # noqa: ARG001 - the guard is the point
) -> Response:
    """The batch's CSV again, the same file as ``GET /api/v1/fines/export?batch_id=...``."""
    batch = service.get_batch(session, batch_id).batch  # NotFound for an unknown id
    track = batch.track if batch else None
    session.close()
    chunks = batch_chunks(backend_of(request).engine, batch_id, settings.chunk_size)
    name = csv_filename(track, batch_id)
    return StreamingResponse(
        csv_pieces(batch_id, chunks),
        media_type="text/csv; charset=utf-8",
        headers={**NO_STORE, "Content-Disposition": f'attachment; filename="{name}"'},
    )
