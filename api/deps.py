"""FastAPI dependencies: settings, database session, the caller and role rules.

Every route declares who may call it with ``allow(...)`` (or ``public``); a test walks the route
table and fails for a route without a rule.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from api.auth.principal import Principal, Role
from api.auth.service import authenticate_bearer
from api.errors import Forbidden, Unauthorized
from api.settings import BackendSettings

_bearer = HTTPBearer(auto_error=False, description="a user's JWT or a device token")


async def get_settings(request: Request) -> BackendSettings:
    settings: BackendSettings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        yield session


# A database row id in a URL: bounded so a huge number is a 422, not an integer overflow.
RowId = Annotated[int, Path(ge=1, le=2**62)]

SettingsDep = Annotated[BackendSettings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]


def get_principal(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    token = creds.credentials if creds else None
    if token is None:
        raise Unauthorized(
            "authentication required: send 'Authorization: Bearer <token>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    principal = authenticate_bearer(session, token, settings)
    request.state.principal = principal
    return principal


class RoleGuard:
    """A dependency that lets only the given roles through (403 for the others)."""

    def __init__(self, roles: tuple[Role, ...]):
        self.roles = roles

    async def __call__(self, principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if principal.role not in self.roles:
            allowed = ", ".join(r.value for r in self.roles)
            raise Forbidden(f"role '{principal.role.value}' may not do this; allowed: {allowed}")
        return principal


def allow(*roles: Role | str) -> object:
    return Depends(RoleGuard(tuple(Role(r) for r in roles)))


def public() -> None:
    """Marks a route as callable without authentication."""


PUBLIC = Depends(public)
