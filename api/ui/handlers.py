"""How pages answer errors: HTML in Dutch with a way back, never the API's JSON.

``register_page_handlers`` runs after ``api.errors.register_error_handlers``: it wraps every
JSON error handler so that a request for a page (a path under ``PAGE_PREFIXES``) gets the
error page instead, with the same status the API would give (404 unknown hit, 422 bad
parameter, 409 conflict, 503 database down...). A missing login redirects to the login page;
a wrong role gets a 403 page that links only to the reader's own start page.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from api.deps import backend_of
from api.ui import nav
from api.ui.messages import bad_parameter_message, message_for
from api.ui.portal.session import portal_login_redirect, read_resident
from api.ui.routes import login_redirect
from api.ui.session import CsrfFailed, LoginRequired, PageForbidden, PageUser, read_session
from api.ui.templating import render

log = logging.getLogger(__name__)
PAGE_PREFIXES = ("/ui/", "/ui", "/mijn/", "/mijn")
Handler = Callable[[Request, Any], Awaitable[Response] | Response]

TITLES = {
    400: "Verzoek niet in orde",
    401: "Niet ingelogd",
    403: "Geen toegang",
    404: "Niet gevonden",
    405: "Niet mogelijk",
    409: "Niet meer mogelijk",
    410: "Niet meer beschikbaar",
    413: "Te groot",
    422: "Ongeldige waarde",
    429: "Te veel pogingen",
}
_PARENTS = (
    (re.compile(r"^/ui/hits/(\d+)/."), "/ui/hits/{}", "Terug naar de melding"),
    (re.compile(r"^/ui/fines/(\d+)/."), "/ui/fines/{}", "Terug naar de boete"),
)


def is_page(request: Request) -> bool:
    path = request.url.path
    return path in ("/ui", "/mijn") or path.startswith((PAGE_PREFIXES[0], PAGE_PREFIXES[2]))


def _reader(request: Request) -> PageUser | None:
    """The logged-in reader, for the navigation and the way back (None if unknown)."""
    try:
        with Session(backend_of(request).engine) as session:
            if request.url.path.startswith("/mijn"):
                return read_resident(request, session, backend_of(request).settings)
            return read_session(request, session, backend_of(request).settings)
    except Exception:  # the database may be the reason for the error page
        return None


def ways_back(path: str, user: PageUser | None) -> list[tuple[str, str]]:
    """Links out of an error page: the page it belongs to, and the reader's start page (which
    the reader's role may always see), or the login page."""
    out = []
    if path.startswith("/mijn"):
        return [("/mijn/", "Naar Mijn parkeren")] if user else [("/mijn/inloggen", "Naar inloggen")]
    for pattern, target, text in _PARENTS:
        m = pattern.match(path)
        if m and user is not None:
            out.append((target.format(m.group(1)), text))
    if user is None:
        out.append(("/ui/login", "Naar inloggen"))
    else:
        out.append((nav.start_page(user.principal.role), "Naar uw startpagina"))
    return out


def error_page(
    request: Request, status: int, code: str | None, message: str, user: PageUser | None = None
) -> HTMLResponse:
    user = user or _reader(request)
    title = TITLES.get(status, "Storing" if status >= 500 else "Niet gelukt")
    ctx = {
        "user": user,
        "title": title,
        "message": message,
        "status": status,
        "code": code,
        "ways_back": ways_back(request.url.path, user),
    }
    return render(request, "error.html", ctx, status)


def _bad_parameter(exc: RequestValidationError) -> str:
    return bad_parameter_message([str(e.get("loc", ("", "?"))[-1]) for e in exc.errors()])


def _as_page(json_handler: Handler) -> Handler:
    async def handler(request: Request, exc: Any) -> Response:
        response = json_handler(request, exc)
        if not isinstance(response, Response):
            response = await response
        if not is_page(request):
            return response
        try:
            code = json.loads(bytes(response.body)).get("code")
        except (ValueError, AttributeError):
            code = None
        if isinstance(exc, RequestValidationError):
            message = _bad_parameter(exc)
        else:
            message = message_for(code or "", exc).text
        return error_page(request, response.status_code, code, message)

    return handler


def return_to(request: Request, path: str) -> str:
    """Where to go after logging in again: the page itself, or for a form sent after the
    session ended, the page the form was on (a POST-only address cannot be opened)."""
    if request.method in ("GET", "HEAD"):
        return path
    referer = urlsplit(request.headers.get("referer", ""))
    same_site = referer.netloc in ("", request.url.netloc)
    if same_site and referer.path.startswith("/ui/") and referer.path != "/ui/login":
        return referer.path + (f"?{referer.query}" if referer.query else "")
    return "/ui/"


def register_page_handlers(app: FastAPI) -> None:
    for key, json_handler in list(app.exception_handlers.items()):
        if isinstance(key, type):
            app.exception_handlers[key] = _as_page(json_handler)

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        if exc.next_url.startswith("/mijn"):
            return portal_login_redirect(exc.next_url)
        return login_redirect(return_to(request, exc.next_url))

    @app.exception_handler(PageForbidden)
    async def _forbidden(request: Request, _: PageForbidden) -> HTMLResponse:
        msg = "Deze pagina is niet voor uw rol bedoeld. Ga naar uw startpagina."
        return error_page(request, 403, "forbidden", msg)

    @app.exception_handler(CsrfFailed)
    async def _csrf(request: Request, _: CsrfFailed) -> HTMLResponse:
        return error_page(request, 403, "csrf_failed", message_for("csrf_failed").text)
