"""API errors and the one place that maps errors to HTTP answers.

Every error body is ``{"detail": "...", "code": "..."}``. Routes raise; they do not catch domain
errors one by one: domain error classes are mapped to status codes in ``DOMAIN_STATUS``.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from api.evidence.images import ImageChecksBusy
from api.fines.rules import FineError, InvalidObjection, InvalidPayment, Overpayment
from api.review.rules import ClaimError, DecisionRefused, InvalidTransition, ReviewError
from permits.errors import (
    AreaQuotaFullError,
    CsvImportError,
    FeedError,
    InvalidPermitError,
    InvalidTransitionError,
    NaiveDatetimeError,
    PermitsError,
    QuotaError,
    VisitorBudgetExceededError,
)
from zones.errors import ZoneFileError, ZonesError

log = logging.getLogger(__name__)


class ApiError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(
        self, detail: str, *, code: str | None = None, headers: dict[str, str] | None = None
    ):
        super().__init__(detail)
        self.detail = detail
        if code:
            self.code = code
        self.headers = headers


class Unauthorized(ApiError):
    status_code = 401
    code = "not_authenticated"


class Forbidden(ApiError):
    status_code = 403
    code = "forbidden"


class NotFound(ApiError):
    status_code = 404
    code = "not_found"


class Conflict(ApiError):
    status_code = 409
    code = "conflict"


class PayloadTooLarge(ApiError):
    status_code = 413
    code = "payload_too_large"


class Unprocessable(ApiError):
    status_code = 422
    code = "invalid"


class TooManyRequests(ApiError):
    status_code = 429
    code = "too_many_requests"


class ServiceUnavailable(ApiError):
    status_code = 503
    code = "unavailable"


class InsufficientStorage(ApiError):
    status_code = 507
    code = "insufficient_storage"


class IntegrityFailure(ApiError):
    """Stored data no longer matches its record (e.g. an evidence file changed on disk)."""

    status_code = 500
    code = "integrity_failure"


# Domain error base classes -> HTTP status. Subclasses carry their own ``code``.
DOMAIN_STATUS: dict[type[Exception], int] = {
    PermitsError: 422,
    FeedError: 410,
    InvalidTransitionError: 409,
    QuotaError: 409,
    AreaQuotaFullError: 409,
    VisitorBudgetExceededError: 409,
    InvalidPermitError: 422,
    NaiveDatetimeError: 422,
    CsvImportError: 422,
    ZonesError: 422,
    ReviewError: 409,
    InvalidTransition: 409,
    ClaimError: 409,
    DecisionRefused: 422,
    FineError: 409,
    Overpayment: 422,
    InvalidPayment: 422,
    InvalidObjection: 422,
}
# Domain error classes whose API code differs from their own ``code``.
DOMAIN_CODE: dict[type[Exception], str] = {
    FeedError: "feed_cursor_expired",  # the car takes a new snapshot
}


# PostgreSQL's statement_timeout (query_canceled) and lock_timeout (lock_not_available)
BUSY_SQLSTATES = frozenset({"57014", "55P03"})


def error_body(detail: Any, code: str) -> dict[str, Any]:
    return {"detail": detail, "code": code}


def _format_validation(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body",)]
        where = ".".join(loc) or "request"
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def register_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(
            error_body(exc.detail, exc.code), status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(error_body(_format_validation(exc), "validation_error"), 422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = getattr(exc, "code", None) or {
            404: "not_found",
            405: "method_not_allowed",
            401: "not_authenticated",
        }.get(exc.status_code, "http_error")
        return JSONResponse(
            error_body(str(exc.detail), code),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(ImageChecksBusy)
    async def _images_busy(_: Request, exc: ImageChecksBusy) -> JSONResponse:
        log.warning("image checks busy: %s", exc)
        return JSONResponse(
            error_body("the server is checking other images; retry in a moment", "busy"),
            status_code=503,
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(ClientDisconnect)
    async def _gone(_: Request, __: ClientDisconnect) -> JSONResponse:
        # the client closed the connection in the middle of its body: nobody reads this
        # answer, and it is not a server fault (one line, no traceback)
        log.info("the client went away before its request body was complete")
        return JSONResponse(error_body("the request body was cut short", "client_gone"), 400)

    @app.exception_handler(OverflowError)
    async def _overflow(_: Request, exc: OverflowError) -> JSONResponse:
        return JSONResponse(error_body(f"a number is out of range: {exc}", "out_of_range"), 422)

    @app.exception_handler(OperationalError)
    async def _db_down(_: Request, exc: OperationalError) -> JSONResponse:
        why = type(exc.orig).__name__ if exc.orig else type(exc).__name__
        if getattr(exc.orig, "sqlstate", None) in BUSY_SQLSTATES:
            log.warning("database busy: %s", why)
            body = error_body(
                "the database did not answer in time (busy or locked); retry later",
                "database_busy",
            )
        else:
            log.warning("database unavailable: %s", why)
            body = error_body("the database is unavailable; retry later", "database_unavailable")
        return JSONResponse(body, status_code=503, headers={"Retry-After": "5"})

    @app.exception_handler(DBAPIError)
    async def _db_error(_: Request, exc: DBAPIError) -> JSONResponse:
        if exc.connection_invalidated:
            return JSONResponse(
                error_body("the database connection was lost; retry", "database_unavailable"),
                status_code=503,
                headers={"Retry-After": "5"},
            )
        log.exception("database error")
        return JSONResponse(error_body("internal database error", "database_error"), 500)

    @app.exception_handler(ZoneFileError)
    async def _zone_file(_: Request, exc: ZoneFileError) -> JSONResponse:
        problems = [str(p) for p in exc.problems]
        body = error_body(f"{len(problems)} problem(s) in the zone file: {problems[0]}", exc.code)
        body["problems"] = problems
        return JSONResponse(body, status_code=422)

    for exc_type, status in DOMAIN_STATUS.items():

        async def _domain(_: Request, exc: Exception, status: int = status) -> JSONResponse:
            code = DOMAIN_CODE.get(type(exc)) or getattr(exc, "code", "domain_error")
            return JSONResponse(error_body(str(exc), code), status_code=status)

        app.add_exception_handler(exc_type, _domain)
