"""The administrator's users pages under /ui/gebruikers: the list, a new user with a role, and
one user with a password reset, a role change and disable/enable (their sessions end at once).
Everything goes through ``api.auth.users``; refusals come back through ``api.ui.forms``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from api.auth import users
from api.auth.principal import Role
from api.deps import SessionDep
from api.limits import ROW_ID_MAX
from api.ui import labels
from api.ui.backoffice.guards import AdminPage
from api.ui.flash import set_flash
from api.ui.forms import FormState, empty_form, form_action, see_other
from api.ui.session import PageUser
from api.ui.templating import render

router = APIRouter()
UserId = Annotated[int, PathParam(ge=1, le=ROW_ID_MAX)]
ROLE_HINTS = {
    Role.BOA.value: "Beoordeelt meldingen op de tablet, ter plaatse of op afstand.",
    Role.BACKOFFICE.value: "Boetes, exports, meldingen zoeken, vergunningen, audit-log.",
    Role.COORDINATOR.value: "Meldkamer: kaart met auto's en handhavers, meldingen toewijzen.",
    Role.ADMIN.value: "Zones, gebruikers, scanauto's en de staat van het systeem.",
    Role.PROVIDER.value: "Alleen de API: parkeerdienstaanbieders melden betaalde sessies.",
}
USER_FORMS = ("password", "role", "active")


def _role_options() -> list[tuple[str, str]]:
    return [(r.value, labels.label(labels.ROLE, r.value)) for r in users.STAFF_ROLES]


@router.get("/gebruikers", response_class=HTMLResponse)
def user_list(
    request: Request,
    session: SessionDep,
    user: AdminPage,
    rol: Annotated[str | None, Query(max_length=16)] = None,
    uitgeschakeld: Annotated[str | None, Query(max_length=3)] = None,
) -> HTMLResponse:
    roles = tuple(r for r in users.STAFF_ROLES if r.value == rol) or users.STAFF_ROLES
    rows = users.list_users(session, roles=roles, active_only=uitgeschakeld != "1")
    ctx = {
        "user": user,
        "rows": rows,
        "filters": empty_form(rol=rol or "", uitgeschakeld="1" if uitgeschakeld == "1" else ""),
        "role_options": _role_options(),
    }
    return render(request, "backoffice/users.html", ctx)


@router.get("/gebruikers/nieuw", response_class=HTMLResponse)
def new_user_form(request: Request, user: AdminPage) -> HTMLResponse:
    return _new_page(request, user, empty_form("new", role=Role.BOA.value))


def _new_page(request: Request, user: PageUser, form: FormState, status: int = 200) -> HTMLResponse:
    ctx = {"user": user, "form": form, "role_options": _role_options(), "role_hints": ROLE_HINTS}
    return render(request, "backoffice/user_new.html", ctx, status)


@router.post("/gebruikers/nieuw")
async def create_user(request: Request, session: SessionDep, user: AdminPage) -> Response:
    def do(form: FormData) -> tuple[int, str]:
        row = users.add_user(
            session,
            user.principal,
            username=str(form.get("username") or ""),
            password=str(form.get("password") or ""),
            role=str(form.get("role") or ""),
            full_name=str(form.get("full_name") or ""),
            badge_number=str(form.get("badge_number") or ""),
        )
        session.commit()
        return row.id or 0, row.username

    outcome = await form_action(request, user, do, session=session, key="new")
    if not outcome.ok or outcome.result is None:
        outcome.form.values.pop("password", None)
        return _new_page(request, user, outcome.form, outcome.status)
    user_id, name = outcome.result
    response = see_other(f"/ui/gebruikers/{user_id}")
    set_flash(response, request, f"Gebruiker {name} is aangemaakt en kan nu inloggen.")
    return response


def _user_ctx(
    session: SessionDep, user: PageUser, user_id: int, form: FormState | None = None
) -> dict[str, Any]:
    shown = users.get_user(session, user_id)
    forms = {k: (form if form and form.key == k else empty_form(k)) for k in USER_FORMS}
    if not (form and form.key == "role"):
        forms["role"] = empty_form("role", role=shown.role.value)
    return {
        "user": user,
        "shown": shown,
        "is_self": shown.id == user.principal.id,
        "forms": forms,
        "failed": form.key if form else None,
        "role_options": _role_options(),
    }


@router.get("/gebruikers/{user_id}", response_class=HTMLResponse)
def user_page(
    user_id: UserId, request: Request, session: SessionDep, user: AdminPage
) -> HTMLResponse:
    return render(request, "backoffice/user.html", _user_ctx(session, user, user_id))


async def _act(
    request: Request,
    session: SessionDep,
    user: PageUser,
    user_id: int,
    key: str,
    action: Any,
    done: str,
) -> Response:
    outcome = await form_action(request, user, action, session=session, key=key)
    if not outcome.ok:
        outcome.form.values.pop("password", None)
        ctx = _user_ctx(session, user, user_id, outcome.form)
        return render(request, "backoffice/user.html", ctx, outcome.status)
    response = see_other(f"/ui/gebruikers/{user_id}")
    set_flash(response, request, done)
    return response


@router.post("/gebruikers/{user_id}/wachtwoord")
async def reset_password(
    user_id: UserId, request: Request, session: SessionDep, user: AdminPage
) -> Response:
    def do(form: FormData) -> None:
        users.reset_password(session, user.principal, user_id, str(form.get("password") or ""))
        session.commit()

    done = "Het wachtwoord is opnieuw ingesteld; de gebruiker is overal uitgelogd."
    return await _act(request, session, user, user_id, "password", do, done)


@router.post("/gebruikers/{user_id}/rol")
async def change_role(
    user_id: UserId, request: Request, session: SessionDep, user: AdminPage
) -> Response:
    def do(form: FormData) -> None:
        users.change_role(session, user.principal, user_id, str(form.get("role") or ""))
        session.commit()

    done = "De rol is gewijzigd; de gebruiker logt opnieuw in en ziet wat bij de nieuwe rol hoort."
    return await _act(request, session, user, user_id, "role", do, done)


@router.post("/gebruikers/{user_id}/uitschakelen")
async def disable(
    user_id: UserId, request: Request, session: SessionDep, user: AdminPage
) -> Response:
    def do(_: FormData) -> None:
        users.set_active(session, user.principal, user_id, active=False)
        session.commit()

    done = "De gebruiker is uitgeschakeld en meteen overal uitgelogd."
    return await _act(request, session, user, user_id, "active", do, done)


@router.post("/gebruikers/{user_id}/inschakelen")
async def enable(
    user_id: UserId, request: Request, session: SessionDep, user: AdminPage
) -> Response:
    def do(_: FormData) -> None:
        users.set_active(session, user.principal, user_id, active=True)
        session.commit()

    return await _act(
        request, session, user, user_id, "active", do, "De gebruiker kan weer inloggen."
    )
