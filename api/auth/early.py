"""Bearer tokens checked before a request body is read.

FastAPI reads and parses a JSON or form body before it runs a route's dependencies, and the
evidence upload reads its multipart body in the route. A caller with a token that cannot be
valid should cost neither: for every request with a body and a bearer token, this middleware
checks the token first (a user's JWT by signature and expiry; a device token by its shape and
then by its hash in the database) and answers 401 without reading a byte of the body. The
route's own guard still checks the caller in full (role, disabled, revoked).
"""

from __future__ import annotations

import logging

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from api.auth.security import hash_device_token
from api.auth.service import DEVICE_FOR_TOKEN, read_bearer
from api.errors import Unauthorized
from api.middleware import send_json_error
from api.settings import BackendSettings

log = logging.getLogger(__name__)
WITH_BODY = frozenset({"POST", "PUT", "PATCH", "DELETE"})
BEARER = {"WWW-Authenticate": "Bearer"}


def _bearer(scope: Scope) -> str | None:
    for key, value in scope.get("headers") or []:
        if key == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" and token.strip() else None
    return None


class EarlyAuthMiddleware:
    def __init__(self, app: ASGIApp, settings: BackendSettings, engine: Engine):
        self.app = app
        self.settings = settings
        self.engine = engine

    def _device_is_live(self, token: str) -> bool:
        with self.engine.connect() as conn:
            row = conn.execute(DEVICE_FOR_TOKEN, {"token_hash": hash_device_token(token)}).first()
        return row is not None and row.revoked_at is None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in WITH_BODY:
            await self.app(scope, receive, send)
            return
        token = _bearer(scope)
        if token is not None:
            try:
                claim = read_bearer(token, self.settings)
                live = claim.kind != "device" or await run_in_threadpool(
                    self._device_is_live, token
                )
            except Unauthorized as exc:
                await send_json_error(send, 401, exc.detail, exc.code, BEARER)
                return
            except SQLAlchemyError as exc:
                log.warning("database unavailable: %s", type(exc).__name__)
                await send_json_error(
                    send,
                    503,
                    "the database is unavailable; retry later",
                    "database_unavailable",
                    {"Retry-After": "5"},
                )
                return
            if not live:
                await send_json_error(
                    send, 401, "unknown or revoked device token", "not_authenticated", BEARER
                )
                return
        await self.app(scope, receive, send)
