"""FastAPI dependencies: settings, database session, the caller and role rules.

Every route declares who may call it with ``allow(...)`` (or ``public``); a test walks the route
table and fails for a route without a rule.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api.auth.principal import Principal, Role
from api.auth.service import (
    BearerClaim,
    CallerRow,
    SessionCallers,
    confirm_claim,
    principal_from_row,
    read_bearer,
)
from api.errors import Forbidden, Unauthorized
from api.limits import ROW_ID_MAX
from api.settings import BackendSettings

_bearer = HTTPBearer(auto_error=False, description="a user's JWT or a device token")


async def get_settings(request: Request) -> BackendSettings:
    settings: BackendSettings = request.app.state.settings
    return settings


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A session per request. Making one does no I/O, so it happens on the event loop; closing
    it goes to a worker thread only while it still holds a connection (a route that committed
    has already given its connection back to the pool)."""
    session = Session(request.app.state.engine, expire_on_commit=False)
    try:
        yield session
    finally:
        if session.in_transaction():
            await run_in_threadpool(session.close)
        else:
            session.close()


# A database row id in a URL: bounded so a huge number is a 422, not an integer overflow.
RowId = Annotated[int, Path(ge=1, le=ROW_ID_MAX)]

SettingsDep = Annotated[BackendSettings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]


async def get_bearer_claim(
    request: Request,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> BearerClaim:
    """The caller's token checked without the database (presence, shape, JWT signature and
    expiry): 401 at once for a token that cannot be valid."""
    token = creds.credentials if creds else None
    if token is None:
        raise Unauthorized(
            "authentication required: send 'Authorization: Bearer <token>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return read_bearer(token, request.app.state.settings)


BearerClaimDep = Annotated[BearerClaim, Depends(get_bearer_claim)]


def _refuse_role(role: Role, roles: tuple[Role, ...]) -> Forbidden:
    allowed = ", ".join(r.value for r in roles)
    return Forbidden(f"role '{role.value}' may not do this; allowed: {allowed}")


class RoleGuard:
    """A dependency that lets only the given roles through (403 for the others); the caller is
    confirmed against the database before the route runs."""

    def __init__(self, roles: tuple[Role, ...]):
        self.roles = roles

    async def __call__(
        self, request: Request, session: SessionDep, claim: BearerClaimDep
    ) -> Principal:
        pending = PendingPrincipal(request, claim, self.roles)
        return await run_in_threadpool(pending.resolve, session)


class PendingPrincipal:
    """A caller whose token passed the database-free checks; ``resolve`` finishes the check in
    the route's own database work (one worker-thread hop for both, on the busiest routes)."""

    def __init__(self, request: Request, claim: BearerClaim, roles: tuple[Role, ...]) -> None:
        self._request = request
        self._claim = claim
        self._roles = roles

    def resolve(self, session: Session) -> Principal:
        """The principal from the database: 401 for an unknown, disabled or revoked caller,
        403 when its role (the database's) is not allowed."""
        return self._admit(confirm_claim(SessionCallers(session), self._claim))

    def resolve_row(self, row: CallerRow | None) -> Principal:
        """``resolve`` with the caller's row already read (``None``: unknown caller)."""
        return self._admit(principal_from_row(self._claim, row))

    @property
    def claim(self) -> BearerClaim:
        return self._claim

    def _admit(self, principal: Principal) -> Principal:
        if principal.role not in self._roles:
            raise _refuse_role(principal.role, self._roles)
        self._request.state.principal = principal
        return principal


class DeferredRoleGuard(RoleGuard):
    """Like ``RoleGuard``, but the database half of authentication is left to the route, which
    must call ``PendingPrincipal.resolve`` (or ``resolve_row`` with the caller's row it read)
    before it answers or writes anything. A token that cannot be valid gets its 401, and a
    role the token claims that is not allowed its 403, before the parameters are looked at."""

    async def __call__(  # type: ignore[override]
        self, request: Request, claim: BearerClaimDep
    ) -> PendingPrincipal:
        if claim.claimed_role not in self.roles:
            raise _refuse_role(claim.claimed_role, self.roles)
        return PendingPrincipal(request, claim, self.roles)


def allow(*roles: Role | str) -> object:
    return Depends(RoleGuard(tuple(Role(r) for r in roles)))


def allow_deferred(*roles: Role | str) -> object:
    """``allow`` for a route that confirms the caller inside its own database work."""
    return Depends(DeferredRoleGuard(tuple(Role(r) for r in roles)))


def public() -> None:
    """Marks a route as callable without authentication."""


PUBLIC = Depends(public)
