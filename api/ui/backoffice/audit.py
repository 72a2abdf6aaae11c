"""The audit log page under /ui/audit (backoffice, admin): filter by who, object, action and
local dates; each row in Dutch (``api.ui.auditlabels``) with a link to the object's page. Reads
``api.audit.queries``, the same read side as ``GET /api/v1/audit``."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from api.audit.queries import AuditFilter, audit_entries
from api.deps import SessionDep
from api.ui import auditlabels
from api.ui.backoffice.guards import ReaderPage
from api.ui.forms import FormState, empty_form
from api.ui.labels import LOCAL
from api.ui.paging import count_text, page_links
from api.ui.templating import render

router = APIRouter()
PAGE_SIZE = 100
FAMILY_OPTIONS = (
    ("hit.*", "Meldingen: alle acties"),
    ("fine.*", "Boetes: alle acties"),
    ("permit.*", "Vergunningen: alle acties"),
    ("user.*", "Gebruikers: alle acties"),
    ("zones.*", "Zones: alle acties"),
    ("device.*", "Scanauto's: alle acties"),
)


def action_options() -> list[tuple[str, str]]:
    """The action filter's choices: whole families first, then every action by its text."""
    named = dict(auditlabels.ACTION)
    for prefix, (table, _) in auditlabels.FAMILIES.items():
        kind = auditlabels.OBJECT[prefix.rstrip(".")]
        for name, text in table.items():
            named.setdefault(prefix + name, f"{kind}: {text[0].lower()}{text[1:]}")
    return list(FAMILY_OPTIONS) + sorted(named.items(), key=lambda kv: (kv[1], kv[0]))


def _local_day(form: FormState, name: str, value: str) -> datetime | None:
    """The start of a local day (Europe/Amsterdam) as an aware time, or None; a bad date
    adds a Dutch error to the filter form."""
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        form.add("Vul een geldige datum in, bijvoorbeeld 2026-03-07.", name)
        return None
    return datetime.combine(day, time(0), tzinfo=LOCAL)


def _page_url(query: dict[str, str], number: int) -> str:
    return f"/ui/audit?{urlencode({**query, 'pagina': number})}"


@router.get("/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    session: SessionDep,
    user: ReaderPage,
    actor: Annotated[str | None, Query(max_length=64)] = None,
    object: Annotated[str | None, Query(max_length=32)] = None,
    id: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    van: Annotated[str | None, Query(max_length=10)] = None,
    tot: Annotated[str | None, Query(max_length=10)] = None,
    pagina: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    values = {
        "actor": actor or "",
        "object": object or "",
        "id": id or "",
        "action": action or "",
        "van": van or "",
        "tot": tot or "",
    }
    form = empty_form("audit", **values)
    since = _local_day(form, "van", values["van"])
    until_day = _local_day(form, "tot", values["tot"])
    until = until_day + timedelta(days=1) if until_day else None
    if since and until and until <= since:
        form.add("De datum 'tot en met' ligt vóór de datum 'van'.", "tot")
    flt = AuditFilter(
        actor=actor or None,
        target_type=object if object in auditlabels.OBJECT else None,
        target_id=id or None,
        action=action or None,
        since=since,
        until=until,
    )
    page = (
        audit_entries(session, flt, limit=PAGE_SIZE, offset=(pagina - 1) * PAGE_SIZE)
        if not form.has_errors
        else None
    )
    query = {k: v for k, v in values.items() if v}
    ctx = {
        "user": user,
        "form": form,
        "rows": [(e, auditlabels.audit_line(e)) for e in (page.entries if page else ())],
        "count": count_text(page.count, page.count_exact) if page else 0,
        **page_links(
            "/ui/audit",
            query,
            pagina,
            shown=len(page.entries) if page else 0,
            page_size=PAGE_SIZE,
            count=page.count if page else 0,
            exact=page.count_exact if page else True,
        ),
        "object_options": list(auditlabels.OBJECT.items()),
        "action_options": action_options(),
        "is_filtered": bool(query),
    }
    return render(request, "backoffice/audit.html", ctx, 422 if form.has_errors else 200)
