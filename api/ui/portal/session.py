"""The resident's login on the portal (/mijn/): a session cookie of its own (path /mijn), the
OpenID Connect login state kept between the redirect out and the way back, and the guard that
lets only residents in.

The session cookie is a signed JWT (user id, role, CSRF token, expiry) like the staff pages'
cookie, but SameSite=Lax: the provider sends the browser back to us with a cross-site
redirect, and a Strict cookie set there would not be sent on the next page. Forms still carry
the CSRF token and the Origin is checked, so Lax opens no cross-site POST.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import quote

import jwt
from fastapi import Depends, Request, Response
from fastapi.responses import RedirectResponse

from api.auth.db import UserRow
from api.auth.principal import Principal, Role
from api.auth.security import JWT_ALGORITHM
from api.deps import SessionDep, SettingsDep
from api.settings import BackendSettings
from api.ui.session import LoginRequired, PageGuard, PageUser

COOKIE = "scancar_portal"
STATE_COOKIE = "scancar_portal_login"
PATH = "/mijn"
STATE_MINUTES = 10


def _encode(payload: dict[str, Any], settings: BackendSettings, seconds: int) -> str:
    now = datetime.now(UTC)
    payload = {**payload, "iat": int(now.timestamp())}
    payload["exp"] = int((now + timedelta(seconds=seconds)).timestamp())
    return jwt.encode(payload, settings.secret_key, algorithm=JWT_ALGORITHM)


def _decode(raw: str | None, settings: BackendSettings, typ: str) -> dict[str, Any] | None:
    if not raw:
        return None
    try:
        claims = jwt.decode(raw, settings.secret_key, algorithms=[JWT_ALGORITHM])
    except jwt.InvalidTokenError:
        return None
    return claims if claims.get("typ") == typ else None


def _set(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path=PATH,
    )


def start_session(response: Response, request: Request, user: UserRow) -> None:
    settings: BackendSettings = request.app.state.settings
    max_age = settings.session_cookie_minutes * 60
    claims = {"sub": str(user.id), "role": user.role, "csrf": secrets.token_urlsafe(24)}
    _set(
        response, request, COOKIE, _encode({**claims, "typ": "portal"}, settings, max_age), max_age
    )


def end_session(response: Response) -> None:
    response.delete_cookie(COOKIE, path=PATH)


def keep_login_state(response: Response, request: Request, state: dict[str, str]) -> None:
    """The OpenID login's state, nonce and PKCE verifier until the provider sends the browser
    back (signed; 10 minutes)."""
    settings: BackendSettings = request.app.state.settings
    value = _encode({**state, "typ": "portal-login"}, settings, STATE_MINUTES * 60)
    _set(response, request, STATE_COOKIE, value, STATE_MINUTES * 60)


def take_login_state(request: Request, response: Response) -> dict[str, Any] | None:
    response.delete_cookie(STATE_COOKIE, path=PATH)
    return _decode(request.cookies.get(STATE_COOKIE), request.app.state.settings, "portal-login")


def read_resident(request: Request, session: Any, settings: BackendSettings) -> PageUser | None:
    claims = _decode(request.cookies.get(COOKIE), settings, "portal")
    if claims is None:
        return None
    user = session.get(UserRow, int(claims["sub"]))
    if user is None or not user.is_active or user.role != Role.RESIDENT.value:
        return None
    principal = Principal("user", user.id or 0, user.username, Role.RESIDENT)
    return PageUser(principal, str(claims["csrf"]), user.full_name or "bewoner")


class ResidentGuard(PageGuard):
    """Only a logged-in resident sees the portal's pages; anyone else goes to its login (the
    portal's cookie, not the staff pages')."""

    def __init__(self) -> None:
        super().__init__((Role.RESIDENT,))

    def __call__(self, request: Request, session: SessionDep, settings: SettingsDep) -> PageUser:
        user = read_resident(request, session, settings)
        if user is None:
            raise LoginRequired(request.url.path)
        return user


ResidentDep = Annotated[PageUser, Depends(ResidentGuard())]


def portal_login_redirect(next_url: str) -> RedirectResponse:
    return RedirectResponse(f"{PATH}/inloggen?next={quote(next_url)}", status_code=303)
