"""Back-office pages under /ui: the dashboard (charts, zone map, alerts), the fine lists, a
fine with its actions, the evidence pack, and the admin start page. Same services as the JSON
API; cookie session with CSRF (``api.ui.session``); forms through ``api.ui.forms``; charts are
server-side SVG (strict CSP, offline).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from starlette.datastructures import FormData

from api.auth.principal import Role
from api.db import utcnow
from api.deps import SessionDep, SettingsDep, backend_of
from api.errors import Unprocessable
from api.fines import pack, service
from api.fines.rules import FineStatus, allowed_actions
from api.limits import ROW_ID_MAX
from api.pagination import Count
from api.reports import charts
from api.reports import service as reports
from api.ui import labels
from api.ui.backoffice import audit, devices, exports, hits, users, zones
from api.ui.backoffice.guards import AdminPage, BackOfficePage, ReaderPage
from api.ui.forms import FormState, empty_form, form_action, see_other
from api.ui.labels import FINE_STATUS, FINE_TRACK
from api.ui.messages import filter_choice_message
from api.ui.session import PageUser
from api.ui.templating import NO_STORE, render
from api.ui.zonenames import zone_names

router = APIRouter(prefix="/ui", include_in_schema=False)
FineId = Annotated[int, PathParam(ge=1, le=ROW_ID_MAX)]


def _ctx(user: PageUser, **kw: Any) -> dict[str, Any]:
    return {
        "user": user,
        "fine_status": labels.FINE_STATUS,
        "track_labels": labels.FINE_TRACK,
        "euro": labels.euro,
        **kw,
    }


# --------------------------------------------------------------------------- dashboard
@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: ReaderPage,
    days: Annotated[int, Query(ge=1, le=366)] = 30,
) -> HTMLResponse:
    now = utcnow()
    s = reports.summary(session, *reports.last_days(days, now))
    zone_set = backend_of(request).zone_catalog.current(session)
    zone_hits = {z.zone_id: z.hits for z in s.per_zone}
    zone_names = {z.id: z.name for z in zone_set.index.zones}
    fines_per_zone = [z for z in s.per_zone if z.fines]
    reasons = list(s.reject_reasons.items())
    svg = {
        "hours": charts.bar_chart(
            "Meldingen per uur van de dag", [f"{h:02d}" for h in range(24)], s.hits_per_hour
        ),
        "fines_zone": charts.hbar_chart(
            "Boetes per zone",
            [zone_names.get(z.zone_id, z.zone_id) for z in fines_per_zone],
            [z.fines for z in fines_per_zone],
        ),
        "reasons": charts.hbar_chart(
            "Redenen van afwijzing",
            [labels.REJECT_REASON.get(r, r) for r, _ in reasons],
            [n for _, n in reasons],
        ),
        "rate": charts.line_chart(
            "Bevestigingsgraad per dag",
            [d.day.strftime("%d-%m") for d in s.per_day],
            [d.confirmation_rate for d in s.per_day],
        ),
        "map": charts.zone_map("Meldingen per zone", zone_set.index.zones, zone_hits),
    }
    return render(
        request,
        "backoffice/dashboard.html",
        _ctx(
            user,
            s=s,
            days=days,
            charts={k: Markup(v.svg) for k, v in svg.items()},  # noqa: S704 - escaped in charts
            titles={k: v.title for k, v in svg.items()},
            alerts=service.alerts(session, settings, now),
            zone_legend=[(z.name, z.id, zone_hits.get(z.id, 0)) for z in zone_set.index.zones],
            can_act=user.principal.role == Role.BACKOFFICE,
            period=empty_form(days=str(days)),
            period_options=[(str(d), labels.days(d)) for d in (1, 7, 30, 91, 365)],
        ),
    )


@router.get("/dashboard/summary.csv")
def dashboard_csv(
    session: SessionDep,
    user: ReaderPage,  # noqa: ARG001 - the guard is the point
    days: Annotated[int, Query(ge=1, le=366)] = 30,
) -> Response:
    """The report of the dashboard's period as CSV (the same rows as the API's CSV)."""
    s = reports.summary(session, *reports.last_days(days, utcnow()))
    buf = io.StringIO()
    csv.writer(buf).writerows(reports.csv_rows(s))
    return Response(
        buf.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={
            **NO_STORE,
            "Content-Disposition": f'attachment; filename="rapport-{days}-dagen.csv"',
        },
    )


# --------------------------------------------------------------------------- fines
@router.get("/fines", response_class=HTMLResponse)
def fines_list(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: BackOfficePage,
    status: Annotated[str | None, Query(max_length=24)] = None,
    track: Annotated[str | None, Query(max_length=8)] = None,
    plate: Annotated[str | None, Query(max_length=16)] = None,
    approval: Annotated[str | None, Query(max_length=3)] = None,
    batch: Annotated[str | None, Query(max_length=36)] = None,
) -> HTMLResponse:
    filters = empty_form(
        status=status or "",
        track=track or "",
        plate=plate or "",
        approval="1" if approval == "1" else "",
    )
    for name, value, choices in (("status", status, FINE_STATUS), ("track", track, FINE_TRACK)):
        if value and value not in choices:
            filters.add(filter_choice_message(name), name)
    flt = service.FineFilter(
        status=status or None,
        track=track or None,
        plate=plate or None,
        needs_approval=approval == "1" or None,
        export_batch_id=batch or None,
    )
    rows, total = (
        ([], Count(0, True)) if filters.has_errors else service.list_fines(session, flt, limit=200)
    )
    return render(
        request,
        "backoffice/fines.html",
        _ctx(
            user,
            rows=rows,
            exports=service.export_marks(session, [f.id for f in rows if f.id is not None]),
            total=total,
            filters=filters,
            alerts=service.alerts(session, settings),
            zone_names=zone_names(request, session),
        ),
        422 if filters.has_errors else 200,
    )


def _fine_ctx(
    session: SessionDep, user: PageUser, fine_id: int, form: FormState | None = None
) -> dict[str, Any]:
    fine = service.get_fine(session, fine_id)
    actions = {a.value for a in allowed_actions(FineStatus(fine.status))}
    return _ctx(
        user,
        fine=fine,
        export=service.export_marks(session, [fine_id]).get(fine_id),
        calc=json.loads(fine.calculation_json or "{}"),
        evidence=json.loads(fine.evidence_json or "{}"),
        payments=service.payments(session, fine_id),
        history=service.history(session, fine_id),
        actions=actions,
        can_pay="pay" in actions,
        outstanding=fine.amount_cents - fine.paid_cents,
        now_local=utcnow().astimezone(reports.LOCAL).strftime("%Y-%m-%dT%H:%M"),
        forms={k: (form if form and form.key == k else empty_form(k)) for k in FINE_FORMS},
        failed=form.key if form else None,
    )


@router.get("/fines/{fine_id}", response_class=HTMLResponse)
def fine_page(
    fine_id: FineId, request: Request, session: SessionDep, user: BackOfficePage
) -> HTMLResponse:
    return render(request, "backoffice/fine.html", _fine_ctx(session, user, fine_id))


@router.get("/fines/{fine_id}/pack", response_class=HTMLResponse)
def fine_pack(
    fine_id: FineId,
    request: Request,
    session: SessionDep,
    user: BackOfficePage,  # noqa: ARG001 - the guard is the point
) -> HTMLResponse:
    p = pack.build_pack(session, backend_of(request).evidence_store, fine_id, utcnow())
    return render(request, "backoffice/pack.html", {"pack": p})


FINE_FORMS = ("approve", "issue", "payment", "objection", "decide", "collection", "annul")


async def _act(
    request: Request,
    session: SessionDep,
    user: PageUser,
    fine_id: int,
    key: str,
    action: Callable[[FormData], object],
) -> Response:
    """Run an action; on a refusal show the fine again with the reason (the API's status)."""
    outcome = await form_action(request, user, action, session=session, key=key)
    if not outcome.ok:
        ctx = _fine_ctx(session, user, fine_id, outcome.form)
        return render(request, "backoffice/fine.html", ctx, outcome.status)
    return see_other(f"/ui/fines/{fine_id}")


def _cents(value: Any) -> int:
    """'12,50' or '12.50' euros -> 1250 cents."""
    text = str(value or "").strip().replace("€", "").replace(" ", "")
    if "," in text:
        text = text.replace(".", "").replace(",", ".")
    try:
        euros = float(text)
    except ValueError:
        raise Unprocessable(f"{value!r} is not an amount in euros", code="invalid_amount") from None
    return round(euros * 100)


def _local_time(value: Any) -> datetime:
    try:
        t = datetime.fromisoformat(str(value or ""))
    except ValueError:
        raise Unprocessable(f"{value!r} is not a date and time", code="invalid_date") from None
    return t.replace(tzinfo=reports.LOCAL) if t.tzinfo is None else t


@router.post("/fines/{fine_id}/approve")
async def approve(
    fine_id: FineId, request: Request, session: SessionDep, user: BackOfficePage
) -> Response:
    return await _act(
        request,
        session,
        user,
        fine_id,
        "approve",
        lambda _: service.approve(session, fine_id, user.principal),
    )


@router.post("/fines/{fine_id}/issue")
async def issue(
    fine_id: FineId,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: BackOfficePage,
) -> Response:
    return await _act(
        request,
        session,
        user,
        fine_id,
        "issue",
        lambda _: service.issue(session, fine_id, user.principal, settings),
    )


@router.post("/fines/{fine_id}/payment")
async def payment(
    fine_id: FineId, request: Request, session: SessionDep, user: BackOfficePage
) -> Response:
    def do(form: FormData) -> None:
        service.register_payment(session, fine_id, user.principal, _cents(form.get("amount")))

    return await _act(request, session, user, fine_id, "payment", do)


@router.post("/fines/{fine_id}/objection")
async def objection(
    fine_id: FineId,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: BackOfficePage,
) -> Response:
    def do(form: FormData) -> None:
        service.register_objection(
            session,
            fine_id,
            user.principal,
            received_at=_local_time(form.get("received_at")),
            text=str(form.get("text") or ""),
            settings=settings,
        )

    return await _act(request, session, user, fine_id, "objection", do)


@router.post("/fines/{fine_id}/decide")
async def decide(
    fine_id: FineId, request: Request, session: SessionDep, user: BackOfficePage
) -> Response:
    def do(form: FormData) -> None:
        upheld = str(form.get("upheld") or "")
        if upheld not in ("1", "0"):
            raise Unprocessable("choose upheld or rejected", code="choice_required")
        service.decide_objection(
            session,
            fine_id,
            user.principal,
            upheld=upheld == "1",
            reason=str(form.get("reason") or ""),
        )

    return await _act(request, session, user, fine_id, "decide", do)


@router.post("/fines/{fine_id}/annul")
async def annul(
    fine_id: FineId, request: Request, session: SessionDep, user: BackOfficePage
) -> Response:
    def do(form: FormData) -> None:
        service.annul(session, fine_id, user.principal, reason=str(form.get("reason") or ""))

    return await _act(request, session, user, fine_id, "annul", do)


@router.post("/fines/{fine_id}/collection")
async def collection(
    fine_id: FineId, request: Request, session: SessionDep, user: BackOfficePage
) -> Response:
    return await _act(
        request,
        session,
        user,
        fine_id,
        "collection",
        lambda _: service.send_to_collection(session, fine_id, user.principal),
    )


# --------------------------------------------------------------------------- admin
@router.get("/admin", response_class=HTMLResponse)
async def admin_home(request: Request, user: AdminPage) -> HTMLResponse:
    """The administrator's start page: the system's state and the places to manage it."""
    from api.health import readiness

    checks = await readiness(backend_of(request))
    settings = backend_of(request).settings
    return render(
        request,
        "backoffice/admin.html",
        {
            "user": user,
            "checks": checks,
            "env": settings.env,
            "retention": {
                "rejected_evidence_hours": settings.retention_rejected_evidence_hours,
                "closed_hit_days": settings.retention_closed_hit_days,
                "closed_fine_days": settings.retention_closed_fine_days,
            },
        },
    )


# the pages in their own modules (each an APIRouter without prefix)
for _part in (users, audit, devices, exports, zones, hits):
    router.include_router(_part.router)
