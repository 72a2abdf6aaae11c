"""The permit desk (vergunningenbalie, /ui/vergunningen) for the back office's permit clerks:
the inbox of applications, an application with the rules that apply and the decision (grant,
refuse with a reason, or onto the waiting list when the area is full), the waiting lists per
area, the permit search and a permit's page with its history and actions, CSV import and
export, and the decision letter.

Reads go through ``api.permits.desk``; every change through ``api.permits.service``, the same
functions the JSON API calls, recorded with the clerk and the time.
"""

from __future__ import annotations

import io
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from pydantic import BaseModel, Field
from sqlmodel import Session

from api.auth.principal import Role
from api.db import utcnow
from api.deps import RowId, SessionDep
from api.permits import desk, service
from api.residents.addresses import format_address
from api.ui.forms import FormState, empty_form, form_action, see_other
from api.ui.permitdesk import imports
from api.ui.session import PageGuard, PageUser
from api.ui.templating import render
from api.ui.zonenames import area_labeller
from permits.lifecycle import PermitAction, allowed_actions
from permits.model import PermitStatus, PermitType
from permits.plates import format_plate

router = APIRouter(prefix="/ui/vergunningen", include_in_schema=False)
ClerkDep = Annotated[PageUser, Depends(PageGuard((Role.BACKOFFICE,)))]
LOCAL = ZoneInfo("Europe/Amsterdam")
RENEWAL = timedelta(days=365)
Group = Literal["open", "waitlisted", "granted", "refused"]


# --------------------------------------------------------------------------- inbox
@router.get("", response_class=HTMLResponse)
def inbox(
    request: Request,
    session: SessionDep,
    user: ClerkDep,
    groep: Group = "open",
    gebied: Annotated[str | None, Query(max_length=64)] = None,
    soort: PermitType | None = None,
    vanaf: date | None = None,
    tot: date | None = None,
    start: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> HTMLResponse:
    f = desk.InboxFilter(groep, gebied or None, soort, vanaf, tot, start)
    result = desk.inbox(session, f)
    area_label = area_labeller(request, session)
    filters = {
        "gebied": gebied or "",
        "soort": soort.value if soort else "",
        "vanaf": vanaf.isoformat() if vanaf else "",
        "tot": tot.isoformat() if tot else "",
    }
    return render(
        request,
        "permitdesk/inbox.html",
        {
            "user": user,
            "inbox": result,
            "area_options": [(a, area_label(a)) for a in result.areas],
            "area_label": area_label,
            "group": groep,
            "form": FormState(values=filters),
            "filter_qs": "&".join(f"{k}={v}" for k, v in filters.items() if v),
            "page_size": desk.PAGE_SIZE,
            "offset": start,
        },
    )


# --------------------------------------------------------------------------- an application
def _application_ctx(
    request: Request,
    session: Session,
    user: PageUser,
    application_id: int,
    forms: dict[str, FormState],
) -> dict[str, Any]:
    view = desk.application_view(session, application_id)
    return {
        "user": user,
        "view": view,
        "address": format_address(view.address) if view.address else None,
        "area_label": area_labeller(request, session),
        "forms": {"grant": empty_form("grant"), "refuse": empty_form("refuse")} | forms,
    }


@router.get("/aanvragen/{application_id}", response_class=HTMLResponse)
def application_page(
    request: Request, session: SessionDep, user: ClerkDep, application_id: RowId
) -> HTMLResponse:
    ctx = _application_ctx(request, session, user, application_id, {})
    return render(request, "permitdesk/application.html", ctx)


class Decision(BaseModel):
    decision: Literal["grant", "refuse"]
    reason: str = Field(min_length=1, max_length=500)


@router.post("/aanvragen/{application_id}/besluit", response_class=HTMLResponse)
async def decide(
    request: Request, session: SessionDep, user: ClerkDep, application_id: RowId
) -> Response:
    """Grant (active, or onto the waiting list when the area is full) or refuse with the
    reason that goes into the letter; recorded with the clerk and the time."""
    posted = (await request.form(max_files=0, max_fields=10)).get("decision", "")
    key = "refuse" if posted == "refuse" else "grant"

    def do(d: Decision) -> None:
        service.decide_application(session, application_id, d.decision, d.reason, user.principal)
        session.commit()

    outcome = await form_action(request, user, do, schema=Decision, session=session, key=key)
    if outcome.ok:
        return see_other(f"/ui/vergunningen/aanvragen/{application_id}?besluit=1")
    ctx = _application_ctx(request, session, user, application_id, {key: outcome.form})
    return render(request, "permitdesk/application.html", ctx, outcome.status)


@router.get("/aanvragen/{application_id}/brief", response_class=HTMLResponse)
def letter(
    request: Request, session: SessionDep, user: ClerkDep, application_id: RowId
) -> HTMLResponse:
    """The decision letter (besluit) in Dutch, to print or save as PDF from the browser."""
    view = desk.application_view(session, application_id)
    return render(
        request,
        "permitdesk/letter.html",
        {
            "user": user,
            "view": view,
            "address": format_address(view.address) if view.address else None,
            "today": utcnow(),
            "area_label": area_labeller(request, session),
        },
    )


# --------------------------------------------------------------------------- waiting lists
@router.get("/wachtlijsten", response_class=HTMLResponse)
def waiting_lists(request: Request, session: SessionDep, user: ClerkDep) -> HTMLResponse:
    return render(
        request,
        "permitdesk/waiting.html",
        {
            "user": user,
            "areas": desk.waiting_lists(session),
            "area_label": area_labeller(request, session),
        },
    )


# --------------------------------------------------------------------------- search
@router.get("/zoeken", response_class=HTMLResponse)
def search(
    request: Request,
    session: SessionDep,
    user: ClerkDep,
    q: Annotated[str, Query(max_length=128)] = "",
    gebied: Annotated[str | None, Query(max_length=64)] = None,
    status: PermitStatus | None = None,
    start: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> HTMLResponse:
    searched = bool(q or gebied or status)
    found, total = (
        desk.search_permits(session, desk.PermitSearch(q, gebied or None, status, start))
        if searched
        else ([], 0)
    )
    values = {"q": q, "gebied": gebied or "", "status": status.value if status else ""}
    area_label = area_labeller(request, session)
    return render(
        request,
        "permitdesk/search.html",
        {
            "user": user,
            "form": FormState(values=values),
            "found": found,
            "total": total,
            "searched": searched,
            "area_options": [(a, area_label(a)) for a in desk.known_areas(session)],
            "area_label": area_label,
        },
    )


# --------------------------------------------------------------------------- a permit
ACTIONS = {
    "suspend": PermitAction.SUSPEND,
    "reinstate": PermitAction.REINSTATE,
    "revoke": PermitAction.REVOKE,
    "expire": PermitAction.EXPIRE,
}


def _permit_ctx(
    request: Request,
    session: Session,
    user: PageUser,
    permit_id: str,
    forms: dict[str, FormState],
) -> dict[str, Any]:
    permit = service.load_permit(session, permit_id)
    app = service.application_of(session, permit_id)
    row = service.get_permit_row(session, permit_id)
    visits = (
        service.visitor_sessions(session, permit_id) if permit.type is PermitType.VISITOR else []
    )
    remaining = None
    if permit.type is PermitType.VISITOR:
        remaining = max(0, (row.visitor_budget_minutes or 0) - row.visitor_used_minutes)
    plates = sorted(permit.open_plates)
    today = utcnow().astimezone(LOCAL).date().isoformat()
    return {
        "user": user,
        "permit": permit,
        "application": app,
        "holder_name": desk.applicant_name(app, "") if app else "",
        "events": service.events(session, permit_id),
        "actions": [a.value for a in allowed_actions(permit.status)],
        "visits": list(reversed(visits))[:50],
        "remaining": remaining,
        "plates": plates,
        "plate_options": [(p, format_plate(p)) for p in plates],
        "area_label": area_labeller(request, session),
        "forms": {
            "action": empty_form("action"),
            "plate": empty_form("plate", old_plate=plates[0] if plates else "", date=today),
        }
        | forms,
    }


@router.get("/vergunning/{permit_id}", response_class=HTMLResponse)
def permit_page(
    request: Request, session: SessionDep, user: ClerkDep, permit_id: str
) -> HTMLResponse:
    return render(
        request, "permitdesk/permit.html", _permit_ctx(request, session, user, permit_id, {})
    )


class PermitActionIn(BaseModel):
    action: Literal["suspend", "reinstate", "revoke", "expire", "renew"]
    reason: str = Field(min_length=1, max_length=500)


@router.post("/vergunning/{permit_id}/actie", response_class=HTMLResponse)
async def permit_action(
    request: Request, session: SessionDep, user: ClerkDep, permit_id: str
) -> Response:
    """Suspend, reinstate, revoke, end (expire) or renew (a year more) with a reason."""

    def do(a: PermitActionIn) -> None:
        if a.action == "renew":
            permit = service.load_permit(session, permit_id)
            base = max(permit.valid_to or utcnow(), utcnow())
            changes = service.PermitChanges(valid_to=base + RENEWAL)
            service.update_permit(session, permit_id, changes, a.reason, user.principal)
        else:
            service.apply_action(session, permit_id, ACTIONS[a.action], a.reason, user.principal)
        session.commit()

    outcome = await form_action(
        request, user, do, schema=PermitActionIn, session=session, key="action"
    )
    if outcome.ok:
        return see_other(f"/ui/vergunningen/vergunning/{permit_id}?gedaan=1")
    ctx = _permit_ctx(request, session, user, permit_id, {"action": outcome.form})
    return render(request, "permitdesk/permit.html", ctx, outcome.status)


class PlateChangeIn(BaseModel):
    old_plate: str = Field(min_length=1, max_length=20)
    new_plate: str = Field(min_length=1, max_length=20)
    date: date
    reason: str = Field(min_length=1, max_length=500)


def _effective(day: date) -> datetime:
    """A plate change on a day takes effect at that moment today, or at the start of a later
    day (local time)."""
    now = utcnow()
    if day <= now.astimezone(LOCAL).date():
        return now
    return datetime.combine(day, time.min, tzinfo=LOCAL)


@router.post("/vergunning/{permit_id}/kenteken", response_class=HTMLResponse)
async def change_plate(
    request: Request, session: SessionDep, user: ClerkDep, permit_id: str
) -> Response:
    def do(p: PlateChangeIn) -> None:
        service.change_plate(
            session,
            permit_id,
            p.old_plate,
            p.new_plate,
            p.reason,
            user.principal,
            _effective(p.date),
        )
        session.commit()

    outcome = await form_action(
        request, user, do, schema=PlateChangeIn, session=session, key="plate"
    )
    if outcome.ok:
        return see_other(f"/ui/vergunningen/vergunning/{permit_id}?gedaan=1")
    ctx = _permit_ctx(request, session, user, permit_id, {"plate": outcome.form})
    return render(request, "permitdesk/permit.html", ctx, outcome.status)


# --------------------------------------------------------------------------- CSV
@router.get("/import", response_class=HTMLResponse)
def import_page(request: Request, user: ClerkDep) -> HTMLResponse:
    return render(request, "permitdesk/import.html", imports.page_ctx(user, empty_form()))


@router.post("/import", response_class=HTMLResponse)
async def import_upload(request: Request, session: SessionDep, user: ClerkDep) -> Response:
    return await imports.upload(request, session, user)


@router.get("/export.csv")
def export(session: SessionDep, user: ClerkDep) -> Response:  # noqa: ARG001 - the guard
    from permits.csvio import write_permits_csv

    out = io.StringIO()
    out.write("\ufeff")  # a byte-order mark: spreadsheet programs then read it as UTF-8
    write_permits_csv(service.iter_permits(session), out)
    name = f"vergunningen-{utcnow().astimezone(LOCAL):%Y%m%d-%H%M}.csv"
    return StreamingResponse(
        iter([out.getvalue()]),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )
