"""The resident's login on the portal (/mijn/): a session cookie of its own (path /mijn), the
OpenID Connect login state kept between the redirect out and the way back, and the guard that
lets only residents in.

The session is a server-side session like the staff pages' (``api.auth.sessions``: a random
token in the cookie, a row in the database; logout, idle timeout and disabling the account end
it), with its own cookie, path /mijn, SameSite=Lax: the provider sends the browser back to us
with a cross-site redirect, and a Strict cookie set there would not be sent on the next page.
Forms still carry the session's CSRF token and the Origin is checked, so Lax opens no
cross-site POST. The login state (state, nonce, PKCE verifier) waits in a signed 10-minute
cookie; it opens no session by itself.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import quote

import jwt
from fastapi import Depends, Request, Response
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from api.auth.db import UserRow
from api.auth.principal import Role
from api.auth.security import JWT_ALGORITHM
from api.auth.sessions import end_session, find_session, start_session
from api.deps import SessionDep, SettingsDep, backend_of
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


def start_resident_session(
    response: Response, request: Request, session: Session, user: UserRow
) -> None:
    """Begin a server-side session for the resident (committed) and set the portal's cookie."""
    new = start_session(session, backend_of(request).settings, user)
    session.commit()
    _set(response, request, COOKIE, new.token, new.max_age_s)


def end_resident_session(response: Response, request: Request, session: Session) -> None:
    """End the request's portal session on the server (committed) and clear its cookie."""
    token = request.cookies.get(COOKIE)
    if token:
        end_session(session, token)
        session.commit()
    response.delete_cookie(COOKIE, path=PATH)
    response.headers["Clear-Site-Data"] = '"cache", "storage"'


def keep_login_state(response: Response, request: Request, state: dict[str, str]) -> None:
    """The OpenID login's state, nonce and PKCE verifier until the provider sends the browser
    back (signed; 10 minutes)."""
    settings: BackendSettings = backend_of(request).settings
    value = _encode({**state, "typ": "portal-login"}, settings, STATE_MINUTES * 60)
    _set(response, request, STATE_COOKIE, value, STATE_MINUTES * 60)


def take_login_state(request: Request, response: Response) -> dict[str, Any] | None:
    response.delete_cookie(STATE_COOKIE, path=PATH)
    return _decode(request.cookies.get(STATE_COOKIE), backend_of(request).settings, "portal-login")


def read_resident(request: Request, session: Session, settings: BackendSettings) -> PageUser | None:
    """The resident of the request's portal cookie, or ``None`` (no, ended or idle session,
    or not a resident: a staff account never gets into the portal)."""
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    active = find_session(session, settings, token)
    if active is None or active.principal.role is not Role.RESIDENT:
        return None
    return PageUser(active.principal, active.csrf, active.full_name)


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
