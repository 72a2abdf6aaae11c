"""Cookie sessions for the pages under /ui, with CSRF tokens.

The cookie holds a signed JWT (user id, role, CSRF token, expiry): HttpOnly, SameSite=Strict,
Secure when served over https. Every form carries the CSRF token; a POST without the right
token, or from another origin, is refused.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated

import jwt
from fastapi import Depends, Request
from sqlmodel import Session
from starlette.datastructures import FormData

from api.auth.db import UserRow
from api.auth.principal import Principal, Role
from api.auth.security import JWT_ALGORITHM
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


def make_session_cookie(user: UserRow, settings: BackendSettings) -> tuple[str, int]:
    now = datetime.now(UTC)
    max_age = settings.session_cookie_minutes * 60
    payload = {
        "sub": str(user.id),
        "role": user.role,
        "csrf": secrets.token_urlsafe(24),
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=max_age)).timestamp()),
        "typ": "ui",
    }
    return jwt.encode(payload, settings.secret_key, algorithm=JWT_ALGORITHM), max_age


def set_session_cookie(response, request: Request, value: str, max_age: int) -> None:  # type: ignore[no-untyped-def]
    response.set_cookie(
        COOKIE,
        value,
        max_age=max_age,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/ui",
    )


def read_session(request: Request, session: Session, settings: BackendSettings) -> PageUser | None:
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    try:
        claims = jwt.decode(raw, settings.secret_key, algorithms=[JWT_ALGORITHM])
    except jwt.InvalidTokenError:
        return None
    if claims.get("typ") != "ui":
        return None
    user = session.get(UserRow, int(claims["sub"]))
    if user is None or not user.is_active or user.role != claims.get("role"):
        return None
    principal = Principal("user", user.id or 0, user.username, Role(user.role))
    return PageUser(principal, str(claims["csrf"]), user.full_name or user.username)


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


async def checked_form(request: Request, user: PageUser) -> FormData:
    """Read the posted form and verify its CSRF token and the Origin."""
    check_origin(request)
    form = await request.form(max_files=1, max_fields=20)
    token = form.get("csrf")
    if not isinstance(token, str) or not secrets.compare_digest(token, user.csrf):
        raise CsrfFailed
    return form


PageUserDep = Annotated[PageUser, Depends(PageGuard((Role.BOA, Role.BACKOFFICE)))]
