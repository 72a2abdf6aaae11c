"""The zone pages under /ui/zones (admin): the current zone set on a map and as a list, upload
a GeoJSON or RD New file (its problems listed in Dutch with where they are: feature, field,
place; the texts in ``api.ui.zoneproblems``, the lines ``scancar zones check`` prints folded
away beside them), a preview on the map with the changes before it becomes the new version,
the versions with who and when and what each changed, and rolling back to an earlier version
(a new version). All through ``api.zones.versions`` and ``api.zones.service`` (the CLI's and
the API's functions); the maps read GeoJSON from the routes here (``/static/map.js``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from api.db import utcnow
from api.deps import SessionDep, SettingsDep
from api.errors import Unprocessable
from api.settings import BackendSettings
from api.ui.backoffice.guards import AdminPage
from api.ui.flash import set_flash
from api.ui.forms import FormState, Outcome, empty_form, form_action, see_other
from api.ui.session import PageUser
from api.ui.templating import NO_STORE, render
from api.ui.zoneproblems import FIXABLE, notice_text, problem_place, problem_text, where
from api.zones import service, uploads, versions
from zones.crs import RD_NEW, WGS84
from zones.errors import Notice, Problem, ProblemCode, ZoneFileError
from zones.geojson import load_feature_collection

router = APIRouter()
Version = Annotated[int, PathParam(ge=1, le=2**31 - 1)]
Token = Annotated[str, PathParam(max_length=64)]  # checked by api.zones.uploads
CRS_OPTIONS = (
    ("", "Zoals in het bestand (anders WGS84)"),
    (WGS84, "WGS84 (lengte- en breedtegraden)"),
    (RD_NEW, "RD New (EPSG:28992, meters)"),
)


class NoZoneFile(Unprocessable):
    code = "zone_file_missing"

    def __init__(self) -> None:
        super().__init__("choose a zone file to upload")


@dataclass(frozen=True, slots=True)
class ProblemLine:
    """One problem of a refused file (or a repair or warning of an accepted one): where
    (feature, field, place) and what, in Dutch."""

    feature: str
    field: str
    message: str  # Dutch (api.ui.zoneproblems)
    place: str | None  # "52,00500 N, 4,35500 O" when the problem names a point
    is_fixable: bool  # "Ongeldige vormen herstellen" repairs it
    cli: str  # the line ``scancar zones check`` prints (English)


NOT_JSON = "the file is not valid JSON: a GeoJSON file starts with '{'"


def problem_lines(problems: list[Problem]) -> list[ProblemLine]:
    return [
        ProblemLine(
            where(p.feature_index, p.feature_id),
            p.field,
            problem_text(p),
            problem_place(p),
            p.code in FIXABLE,
            str(p),
        )
        for p in problems
    ]


def notice_lines(notices: tuple[Notice, ...]) -> list[ProblemLine]:
    return [
        ProblemLine(
            where(n.feature_index, n.feature_id),
            n.field,
            notice_text(n),
            problem_place(n),
            False,
            str(n),
        )
        for n in notices
    ]


def map_settings(s: BackendSettings) -> dict[str, str]:
    return {"tiles": s.map_tile_url, "attribution": s.map_tile_attribution}


def _zone_rows(doc: dict[str, Any]) -> list[dict[str, Any]]:
    rows = [
        {"id": str(f.get("id")), **(f.get("properties") or {})} for f in doc.get("features", [])
    ]
    return sorted(rows, key=lambda r: (str(r.get("name") or ""), r["id"]))


def _names(*docs: dict[str, Any]) -> dict[str, str]:
    """Zone id -> name over several zone sets (the later ones win)."""
    return {
        str(f.get("id")): str((f.get("properties") or {}).get("name") or f.get("id"))
        for doc in docs
        for f in doc.get("features", [])
    }


def _page_ctx(
    settings: BackendSettings,
    session: SessionDep,
    user: PageUser,
    form: FormState | None = None,
    problems: list[ProblemLine] | None = None,
) -> dict[str, Any]:
    current, doc = service.version_geojson(session, None)
    return {
        "user": user,
        "map": map_settings(settings),
        "current": current,
        "zones": _zone_rows(doc),
        "versions": versions.list_zone_versions(session),
        "form": form or empty_form("upload"),
        "crs_options": CRS_OPTIONS,
        "problems": problems or [],
        "needs_fix": any(p.is_fixable for p in problems or []),
    }


@router.get("/zones", response_class=HTMLResponse)
def zones_page(
    request: Request, session: SessionDep, settings: SettingsDep, user: AdminPage
) -> HTMLResponse:
    return render(request, "backoffice/zones.html", _page_ctx(settings, session, user))


@router.get("/zones/versies/{version}.geojson")
def version_geojson(version: Version, session: SessionDep, user: AdminPage) -> Response:  # noqa: ARG001
    _, doc = service.version_geojson(session, version)
    return JSONResponse(doc, headers=NO_STORE)


async def _read_upload(form: FormData) -> tuple[str, bytes]:
    file = form.get("bestand")
    if not isinstance(file, UploadFile):
        raise NoZoneFile
    try:
        if not file.filename:
            raise NoZoneFile
        return file.filename, await file.read()
    finally:
        await file.close()


@router.post("/zones/upload")
async def upload(
    request: Request, session: SessionDep, settings: SettingsDep, user: AdminPage
) -> Response:
    """Check the file; refused: its problems on the zone page (422); accepted: kept aside and
    shown as a preview, not yet a version."""
    folder = uploads.folder_of(settings.data_dir)

    async def do(form: FormData) -> uploads.PendingUpload | ZoneFileError:
        name, data = await _read_upload(form)
        crs = str(form.get("crs") or "") or None
        text = data.decode("utf-8-sig", errors="replace").strip() or "{}"
        if not text.startswith(("{", "[")):  # read_json takes any other text for a file path
            not_json = Problem(None, None, "file", NOT_JSON, code=ProblemCode.FILE_NOT_JSON)
            return ZoneFileError([not_json])
        try:  # shapely's checks take a while for a big file: off the event loop
            imported = await run_in_threadpool(
                load_feature_collection, text, crs, form.get("fix") == "1"
            )
        except ZoneFileError as exc:
            return exc  # listed on the page, problem by problem
        return uploads.save_pending(
            folder,
            imported,
            user_id=user.principal.id,
            filename=name,
            note=str(form.get("note") or "").strip(),
            now=utcnow(),
        )

    outcome: Outcome[uploads.PendingUpload | ZoneFileError] = await form_action(
        request, user, do, session=session, key="upload"
    )
    if not outcome.ok or outcome.result is None:
        ctx = _page_ctx(settings, session, user, outcome.form)
        return render(request, "backoffice/zones.html", ctx, outcome.status)
    if isinstance(outcome.result, ZoneFileError):
        problems = outcome.result.problems
        form = outcome.form
        form.add(
            f"Het bestand is niet ingelezen: {len(problems)} "
            f"{'probleem' if len(problems) == 1 else 'problemen'}. Zie de lijst hieronder.",
            "bestand",
        )
        ctx = _page_ctx(settings, session, user, form, problem_lines(problems))
        return render(request, "backoffice/zones.html", ctx, 422)
    return see_other(f"/ui/zones/voorstel/{outcome.result.token}")


def _pending(settings: BackendSettings, user: PageUser, token: str) -> uploads.PendingUpload:
    folder = uploads.folder_of(settings.data_dir)
    return uploads.load_pending(folder, token, user.principal.id, utcnow())


@router.get("/zones/voorstel/{token}.geojson")
def preview_geojson(token: Token, settings: SettingsDep, user: AdminPage) -> Response:
    return JSONResponse(_pending(settings, user, token).doc, headers=NO_STORE)


@router.get("/zones/voorstel/{token}", response_class=HTMLResponse)
def preview(
    token: Token, request: Request, session: SessionDep, settings: SettingsDep, user: AdminPage
) -> HTMLResponse:
    pending = _pending(settings, user, token)
    change = versions.import_zone_set(session, pending.as_import(), user.principal, dry_run=True)
    session.rollback()
    ctx = {
        "user": user,
        "map": map_settings(settings),
        "pending": pending,
        "notices": notice_lines(pending.notices),
        "change": change,
        "zones": _zone_rows(pending.doc),
        "names": _names(service.version_geojson(session, None)[1], pending.doc),
        "same": bool(change.previous_version) and change.diff.is_empty,
    }
    return render(request, "backoffice/zone_preview.html", ctx)


@router.post("/zones/voorstel/{token}")
async def save(
    token: Token, request: Request, session: SessionDep, settings: SettingsDep, user: AdminPage
) -> Response:
    folder = uploads.folder_of(settings.data_dir)

    def do(_: FormData) -> versions.ZoneSetChange:
        pending = _pending(settings, user, token)
        note = f"{pending.note} ({pending.filename})" if pending.note else pending.filename
        change = versions.import_zone_set(session, pending.as_import(), user.principal, note=note)
        session.commit()
        uploads.drop_pending(folder, token)
        return change

    outcome = await form_action(request, user, do, session=session, key="save")
    if not outcome.ok or outcome.result is None:
        return render(
            request, "backoffice/zones.html", _page_ctx(settings, session, user, outcome.form),
            outcome.status,
        )  # fmt: skip
    change = outcome.result
    response = see_other("/ui/zones")
    text = (
        f"Versie {change.version} is opgeslagen en nu in gebruik ({change.zone_count} zones)."
        if change.is_created
        else f"Niets opgeslagen: het bestand is gelijk aan versie {change.version}."
    )
    set_flash(response, request, text, "ok" if change.is_created else "info")
    return response


@router.get("/zones/versies/{version}", response_class=HTMLResponse)
def version_page(
    version: Version, request: Request, session: SessionDep, settings: SettingsDep, user: AdminPage
) -> HTMLResponse:
    number, doc = service.version_geojson(session, version)
    info = next(v for v in versions.list_zone_versions(session) if v.version == number)
    before = service.version_geojson(session, version - 1)[1] if version > 1 else {}
    rollback = versions.rollback_zone_set(session, version, user.principal, dry_run=True)
    session.rollback()
    ctx = {
        "user": user,
        "map": map_settings(settings),
        "info": info,
        "zones": _zone_rows(doc),
        "made": versions.diff_zone_sets(before, doc),
        "names": _names(service.version_geojson(session, None)[1], before, doc),
        "rollback": rollback,
    }
    return render(request, "backoffice/zone_version.html", ctx)


@router.post("/zones/versies/{version}/terugzetten")
async def roll_back(
    version: Version, request: Request, session: SessionDep, settings: SettingsDep, user: AdminPage
) -> Response:
    def do(_: FormData) -> versions.ZoneSetChange:
        change = versions.rollback_zone_set(session, version, user.principal)
        session.commit()
        return change

    outcome = await form_action(request, user, do, session=session, key="rollback")
    if not outcome.ok or outcome.result is None:
        ctx = _page_ctx(settings, session, user, outcome.form)
        return render(request, "backoffice/zones.html", ctx, outcome.status)
    change = outcome.result
    response = see_other("/ui/zones")
    text = (
        f"De zones van versie {version} zijn teruggezet als nieuwe versie {change.version}."
        if change.is_created
        else f"Versie {version} is al de zones die nu gelden; er is niets veranderd."
    )
    set_flash(response, request, text, "ok" if change.is_created else "info")
    return response
