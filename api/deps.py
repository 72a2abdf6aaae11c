"""FastAPI dependencies: the backend's parts, database session, the caller and role rules.

The routes reach the composition root (``api.backend.Backend``, the app's only state
attribute) through the typed ``...Dep`` aliases here, or ``backend_of(request)`` outside a
route's parameters.

Every route declares who may call it with ``allow(...)`` (or ``public``); a test walks the route
table and fails for a route without a rule.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Engine
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
from api.backend import Backend
from api.errors import Forbidden, Unauthorized
from api.evidence.images import ImageChecker
from api.evidence.store import EvidenceStore
from api.limits import ROW_ID_MAX
from api.metrics import BackendMetrics
from api.review.ports import FineDrafts, RightsChecker, ZoneRulesSource
from api.review.service import Review
from api.settings import BackendSettings
from api.zones.service import ZoneCatalog

_bearer = HTTPBearer(auto_error=False, description="a user's JWT or a device token")


def backend_of(request: Request) -> Backend:
    """The app's ``Backend`` (for code that is not a route parameter, e.g. a page helper)."""
    backend: Backend = request.app.state.backend
    return backend


# async: a dependency without I/O stays on the event loop (no worker-thread hop)
async def get_backend(request: Request) -> Backend:
    return backend_of(request)


async def get_settings(request: Request) -> BackendSettings:
    return backend_of(request).settings


async def get_engine(request: Request) -> Engine:
    return backend_of(request).engine


async def get_evidence_store(request: Request) -> EvidenceStore:
    return backend_of(request).evidence_store


async def get_image_checker(request: Request) -> ImageChecker:
    return backend_of(request).image_checker


async def get_metrics(request: Request) -> BackendMetrics:
    return backend_of(request).metrics


async def get_zone_catalog(request: Request) -> ZoneCatalog:
    return backend_of(request).zone_catalog


async def get_zone_rules(request: Request) -> ZoneRulesSource:
    return backend_of(request).zone_rules


async def get_rights_checker(request: Request) -> RightsChecker:
    return backend_of(request).rights_checker


async def get_fine_drafts(request: Request) -> FineDrafts:
    return backend_of(request).fine_drafts


async def get_review(request: Request) -> Review:
    return backend_of(request).review()


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A session per request. Making one does no I/O, so it happens on the event loop; closing
    it goes to a worker thread only while it still holds a connection (a route that committed
    has already given its connection back to the pool)."""
    session = Session(backend_of(request).engine, expire_on_commit=False)
    try:
        yield session
    finally:
        if session.in_transaction():
            await run_in_threadpool(session.close)
        else:
            session.close()


def client_of(request: Request) -> str:
    """The client's address: the peer's, or the one a trusted proxy forwarded (the
    ``trusted_proxies`` setting; ``api.middleware.TrustedProxyMiddleware`` sets it)."""
    return request.client.host if request.client else "unknown"


# A database row id in a URL: bounded so a huge number is a 422, not an integer overflow.
RowId = Annotated[int, Path(ge=1, le=ROW_ID_MAX)]

BackendDep = Annotated[Backend, Depends(get_backend)]
SettingsDep = Annotated[BackendSettings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
EvidenceStoreDep = Annotated[EvidenceStore, Depends(get_evidence_store)]
ImageCheckerDep = Annotated[ImageChecker, Depends(get_image_checker)]
MetricsDep = Annotated[BackendMetrics, Depends(get_metrics)]
ZoneCatalogDep = Annotated[ZoneCatalog, Depends(get_zone_catalog)]
ZoneRulesDep = Annotated[ZoneRulesSource, Depends(get_zone_rules)]
RightsCheckerDep = Annotated[RightsChecker, Depends(get_rights_checker)]
FineDraftsDep = Annotated[FineDrafts, Depends(get_fine_drafts)]
ReviewDep = Annotated[Review, Depends(get_review)]
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
    return read_bearer(token, backend_of(request).settings)


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
