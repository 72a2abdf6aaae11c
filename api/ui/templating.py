"""The one Jinja environment of all pages, and ``render``.

Templates are found by name:
- ``base.html``, ``error.html``, ``login.html``, ``macros/forms.html``... in ``api/ui/templates``
  (the shared layer);
- ``<audience>/<name>.html`` in ``api/ui/<audience>/templates/<name>.html`` for each audience
  package listed in ``AUDIENCES`` (e.g. ``tablet/queue.html``).

Filters every template has: ``local`` (dd-mm-jjjj uu:mm), ``time``, ``date``, ``euro``,
``metres``, ``plate``, ``iso_local``, ``calc_label``, ``fine_status``, ``hit_event``.
Globals: ``labels`` (the labels table), ``nav`` (navigation per role; see ``api.ui.nav``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PrefixLoader, select_autoescape

from api.ui import labels, nav
from api.ui.flash import FLASH_COOKIE, clear_flash, read_flash

UI = Path(__file__).parent
# Audience packages: api/ui/<name>/ with routes.py (a ``router``) and templates/.
AUDIENCES = ("tablet", "backoffice", "permitdesk", "portal", "controlroom")
NO_STORE = {"Cache-Control": "no-store, private", "Pragma": "no-cache"}


def _environment() -> Environment:
    audience_loaders = {
        name: FileSystemLoader(str(UI / name / "templates"))
        for name in AUDIENCES
        if (UI / name / "templates").is_dir()
    }
    env = Environment(
        loader=ChoiceLoader(
            [FileSystemLoader(str(UI / "templates")), PrefixLoader(audience_loaders)]
        ),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        local=labels.local_datetime,
        time=labels.local_time,
        date=labels.local_date,
        euro=labels.euro,
        metres=labels.metres,
        duration=labels.duration,
        plate=labels.plate,
        iso_local=labels.iso_local,
        calc_label=labels.calculation_line,
        fine_status=lambda code: labels.label(labels.FINE_STATUS, code),
        hit_event=labels.hit_event,
        permit_reason=labels.permit_reason,
        actor=labels.actor,
    )
    env.globals.update(labels=labels, nav=nav)
    return env


templates = Jinja2Templates(env=_environment())


def render(
    request: Request,
    name: str,
    ctx: dict[str, Any],
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """Render a page; pages are never cached (they show evidence and personal data). A flash
    message waiting in its cookie is shown once (``flash``) and cleared."""
    flash = read_flash(request) if status < 400 else None
    ctx = {"theme_class": theme_class(request), "flash": flash, **ctx}
    response = templates.TemplateResponse(
        request, name, ctx, status_code=status, headers={**NO_STORE, **(headers or {})}
    )
    if FLASH_COOKIE in request.cookies and status < 400:
        clear_flash(response)
    return response


def theme_class(request: Request) -> str:
    backend = getattr(request.app.state, "backend", None)  # None: an app without a backend
    return getattr(getattr(backend, "settings", None), "ui_theme_class", None) or "voorbeeld-theme"
