"""Cookie sessions for the pages under /ui, with CSRF tokens.

The cookie holds a random session token (``api.auth.sessions``: a server-side session row,
ended at logout, by disabling the user or changing the role, after the idle timeout):
HttpOnly, SameSite=Strict, Secure when served over https. Every form carries the session's
CSRF token; a POST without the right token, or from another origin, is refused.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Response
from sqlmodel import Session
from starlette.datastructures import FormData

from api.auth.db import UserRow
from api.auth.principal import Principal, Role
from api.auth.sessions import end_session, find_session, start_session
from api.deps import SessionDep, SettingsDep
from api.settings import BackendSettings

COOKIE = "scancar_session"


class LoginRequired(Exception):
    """Raised by page guards; answered with a redirect to the login page."""

    def __init__(self, next_url: str):
        self.next_url = next_url


class PageForbidden(Exception):
    def __init__(self, role: Role, allowed: tuple[Role, ...]):
        self.role, self.allowed = role, allowed


class CsrfFailed(Exception):
    pass


@dataclass(frozen=True, slots=True)
class PageUser:
    principal: Principal
    csrf: str
    full_name: str


def start_page_session(
    response: Response, request: Request, session: Session, settings: BackendSettings, user: UserRow
) -> None:
    """Begin a server-side session for ``user`` (committed) and set its cookie."""
    new = start_session(session, settings, user)
    session.commit()
    response.set_cookie(
        COOKIE,
        new.token,
        max_age=new.max_age_s,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/ui",
    )


def end_page_session(response: Response, request: Request, session: Session) -> None:
    """End the request's session on the server (committed) and clear its cookie."""
    token = request.cookies.get(COOKIE)
    if token:
        end_session(session, token)
        session.commit()
    response.delete_cookie(COOKIE, path="/ui")
    response.headers["Clear-Site-Data"] = '"cache", "cookies", "storage"'


def read_session(request: Request, session: Session, settings: BackendSettings) -> PageUser | None:
    """The signed-in user of the request's cookie, or ``None`` (no, ended or idle session)."""
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    active = find_session(session, settings, token)
    if active is None:
        return None
    return PageUser(active.principal, active.csrf, active.full_name)


class PageGuard:
    """Lets only the given roles see a page; others get a redirect to login or a 403 page."""

    def __init__(self, roles: tuple[Role, ...]):
        self.roles = roles

    def __call__(self, request: Request, session: SessionDep, settings: SettingsDep) -> PageUser:
        user = read_session(request, session, settings)
        if user is None:
            raise LoginRequired(request.url.path)
        if user.principal.role not in self.roles:
            raise PageForbidden(user.principal.role, self.roles)
        if request.method == "POST":
            request.state.page_user = user
        return user


def page(*roles: Role) -> object:
    return Depends(PageGuard(tuple(roles)))


def check_origin(request: Request) -> None:
    origin = request.headers.get("origin")
    if origin and origin != f"{request.url.scheme}://{request.url.netloc}":
        raise CsrfFailed


async def checked_form(request: Request, user: PageUser, max_files: int = 1) -> FormData:
    """Read the posted form and verify its CSRF token and the Origin."""
    check_origin(request)
    form = await request.form(max_files=max_files, max_fields=40)
    token = form.get("csrf")
    if not isinstance(token, str) or not secrets.compare_digest(token, user.csrf):
        raise CsrfFailed
    return form


# A page's reader: ``Annotated[PageUser, Depends(PageGuard((Role.X, ...)))]``.
PageUserDep = Annotated[PageUser, Depends(PageGuard((Role.BOA, Role.BACKOFFICE)))]
AnyPageUserDep = Annotated[PageUser, Depends(PageGuard((Role.BOA, Role.BACKOFFICE, Role.ADMIN)))]
