"""The hits for the back office under /ui/meldingen: search and history of every hit, decided
ones too (plate, zone, status, local dates, the BOA who decided), and a hit's read-only page
with its photos, decision, rights checks, history and links to its fine and evidence pack.
Reads ``api.hits.queries`` (the same read side as ``GET /api/v1/hits``), the fines through
``api.fines.service`` and who holds an assignment through ``api.controlroom.queries``."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse

from api.auth.principal import Role
from api.auth.users import list_users
from api.deps import SessionDep, ZoneCatalogDep
from api.fines import service as fines
from api.hits import queries
from api.hits.model import HitStatus
from api.limits import ROW_ID_MAX
from api.ui import labels
from api.ui.backoffice.guards import BackOfficePage
from api.ui.forms import FormState, empty_form
from api.ui.labels import LOCAL
from api.ui.messages import filter_choice_message, filter_date_message
from api.ui.paging import count_text, page_links
from api.ui.templating import render
from permits.plates import normalise_plate

router = APIRouter()
HitId = Annotated[int, PathParam(ge=1, le=ROW_ID_MAX)]
PAGE_SIZE = 50


def _day(form: FormState, name: str, value: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        form.add(filter_date_message(name), name)
        return None


def _filter(form: FormState, boas: dict[str, int]) -> queries.HitFilter:
    v = form.values
    first, last = _day(form, "van", v["van"]), _day(form, "tot", v["tot"])
    if first and last and last < first:
        form.add("De datum 'tot en met' ligt vóór de datum 'van'.", "tot")
    status = v["status"] if v["status"] in labels.STATUS else ""
    if v["status"] and not status:
        form.add(filter_choice_message("status"), "status")
    if v["boa"] and v["boa"] not in boas:
        form.add(filter_choice_message("boa"), "boa")
    return queries.HitFilter(
        statuses=(HitStatus(status),) if status else (),
        zone=v["zone"] or None,
        plate=normalise_plate(v["kenteken"]) if v["kenteken"] else None,
        since=datetime.combine(first, time(0), tzinfo=LOCAL) if first else None,
        until=datetime.combine(last + timedelta(days=1), time(0), tzinfo=LOCAL) if last else None,
        decided_by=boas.get(v["boa"]) if v["boa"] else None,
    )


@router.get("/meldingen", response_class=HTMLResponse)
def hits_page(
    request: Request,
    session: SessionDep,
    catalog: ZoneCatalogDep,
    user: BackOfficePage,
    kenteken: Annotated[str, Query(max_length=16)] = "",
    zone: Annotated[str, Query(max_length=128)] = "",
    status: Annotated[str, Query(max_length=24)] = "",
    boa: Annotated[str, Query(max_length=12)] = "",
    van: Annotated[str, Query(max_length=10)] = "",
    tot: Annotated[str, Query(max_length=10)] = "",
    pagina: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> HTMLResponse:
    values = {"kenteken": kenteken.strip(), "zone": zone, "status": status, "boa": boa,
              "van": van, "tot": tot}  # fmt: skip
    form = empty_form("zoek", **values)
    people = list_users(session, roles=(Role.BOA,))
    boa_ids = {str(p.id): p.id for p in people}
    flt = _filter(form, boa_ids)
    found = (
        None
        if form.has_errors
        else queries.find_hits(session, flt, limit=PAGE_SIZE, offset=(pagina - 1) * PAGE_SIZE)
    )
    rows = [r.hit for r in found.rows] if found else []
    names = {z.id: z.name for z in catalog.current(session).index.zones}
    query = {k: v for k, v in values.items() if v}
    ctx: dict[str, Any] = {
        "user": user,
        "form": form,
        "rows": rows,
        "count": count_text(found.count, found.count_exact) if found else 0,
        "fines": fines.fines_by_hit(session, [h.id or 0 for h in rows]),
        "people": queries.names_of(session, [h.decided_by for h in rows]),
        "zone_names": names,
        "zone_options": sorted(names.items(), key=lambda kv: kv[1]),
        "boa_options": [(str(p.id), p.display_name) for p in people],
        "is_filtered": bool(query),
        **page_links(
            "/ui/meldingen",
            query,
            pagina,
            shown=len(rows),
            page_size=PAGE_SIZE,
            count=found.count if found else 0,
            exact=found.count_exact if found else True,
        ),
    }
    return render(request, "backoffice/hits.html", ctx, 422 if form.has_errors else 200)


@router.get("/meldingen/{hit_id}", response_class=HTMLResponse)
def hit_page(
    hit_id: HitId,
    request: Request,
    session: SessionDep,
    catalog: ZoneCatalogDep,
    user: BackOfficePage,
) -> HTMLResponse:
    from api.controlroom.queries import assignment_of

    hit = queries.get_hit(session, hit_id)
    detail = queries.hit_detail(session, hit)
    zone = catalog.zone(session, hit.zone_id)
    people = queries.names_of(
        session, [hit.decided_by, hit.claimed_by, *(e.actor_id for e in detail.history)]
    )
    ctx = {
        "user": user,
        "hit": hit,
        "detail": detail,
        "zone_name": zone.name if zone else (hit.zone_id or "-"),
        "fine": fines.fines_by_hit(session, [hit_id]).get(hit_id),
        "people": people,
        "assignment": assignment_of(session, hit_id),
    }
    return render(request, "backoffice/hit.html", ctx)
