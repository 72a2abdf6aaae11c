"""The pages every audience shares: login, logout, "/ui/" (the role's start page), the theme
tokens file and the favicon. The audiences' own pages live in ``api/ui/<audience>/routes.py``.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.auth.principal import Role
from api.auth.service import LoginResult, login_over_http
from api.deps import PUBLIC, SessionDep, SettingsDep, client_of
from api.errors import Forbidden
from api.ui import nav
from api.ui.forms import empty_form, form_action, see_other
from api.ui.session import (
    AnyPageUserDep,
    checked_form,
    end_page_session,
    read_session,
    start_page_session,
)
from api.ui.templating import NO_STORE, UI, render

router = APIRouter(prefix="/ui", include_in_schema=False)
DEFAULT_THEME = UI / "static" / "nlds" / "voorbeeld-theme.css"
FAVICON = UI / "static" / "favicon.svg"


class LoginForm(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    next: str | None = Field(default=None, max_length=512)


def local_page(url: str | None, prefix: str) -> bool:
    """``url`` is a page under ``prefix`` (``/ui/``, ``/mijn/``) of this site: not another site
    (``//host``, a backslash) and no dot segment (``/ui/../api/...`` is the JSON API once the
    browser resolves it, ``%2e%2e`` too)."""
    if not url or not url.startswith(prefix) or url.startswith("//") or "\\" in url:
        return False
    path = url.split("?", 1)[0].split("#", 1)[0].lower().replace("%2e", ".")
    return not any(segment in (".", "..") for segment in path.split("/"))


def safe_next(url: str | None) -> str | None:
    """A local page to return to after login; anything else (another site, //host) is None."""
    return url if local_page(url, "/ui/") else None


@router.get("/login", response_class=HTMLResponse, dependencies=[PUBLIC])
def login_page(request: Request, next: str | None = None) -> HTMLResponse:
    return render(request, "login.html", {"next": safe_next(next) or "", "form": empty_form()})


@router.post("/login", response_class=HTMLResponse, dependencies=[PUBLIC])
async def login_submit(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    async def do(f: LoginForm) -> LoginResult:
        result = await login_over_http(
            session, settings, username=f.username, password=f.password, client=client_of(request)
        )
        if Role(result.user.role) not in nav.PAGE_ROLES:
            raise Forbidden("this account has no access to the pages", code="no_page_access")
        return result

    outcome = await form_action(request, None, do, schema=LoginForm, session=session)
    nxt = safe_next(outcome.form.value("next"))
    if outcome.result is None:
        ctx = {"next": nxt or "", "form": outcome.form}
        return render(request, "login.html", ctx, outcome.status)
    user = outcome.result.user
    response = see_other(nxt or nav.start_page(Role(user.role)))
    await run_in_threadpool(start_page_session, response, request, session, settings, user)
    return response


@router.post("/logout")
async def logout(request: Request, session: SessionDep, user: AnyPageUserDep) -> Response:
    await checked_form(request, user)
    response = RedirectResponse("/ui/login", status_code=303, headers=NO_STORE)
    await run_in_threadpool(end_page_session, response, request, session)
    return response


@router.get("/", dependencies=[PUBLIC])
def root(request: Request, session: SessionDep, settings: SettingsDep) -> RedirectResponse:
    """The start page of the logged-in user's role; the login page for everyone else."""
    user = read_session(request, session, settings)
    target = nav.start_page(user.principal.role) if user else "/ui/login"
    return RedirectResponse(target, status_code=303, headers=NO_STORE)


@router.get("/theme.css", dependencies=[PUBLIC])
def theme_css(settings: SettingsDep) -> FileResponse:
    """The NL Design System tokens: the municipality's own file (``SCANCAR_UI_THEME_CSS``) or
    the vendored neutral theme."""
    path: Path = settings.ui_theme_css or DEFAULT_THEME
    return FileResponse(path, media_type="text/css", headers={"Cache-Control": "max-age=3600"})


def login_redirect(next_url: str) -> RedirectResponse:
    return RedirectResponse(f"/ui/login?next={quote(next_url)}", status_code=303)


favicon_router = APIRouter(include_in_schema=False)


@favicon_router.get("/favicon.ico", dependencies=[PUBLIC])
def favicon() -> FileResponse:
    return FileResponse(
        FAVICON, media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"}
    )
