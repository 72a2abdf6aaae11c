"""API errors and the one place that maps errors to HTTP answers.

Every error body is ``{"detail": "...", "code": "..."}``. Routes raise; they do not catch domain
errors one by one: domain error classes are mapped to status codes in ``DOMAIN_STATUS``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from api.evidence.images import ImageChecksBusy, InvalidImage
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
    InvalidImage: 422,
}
# Domain error classes whose API code differs from their own ``code``.
DOMAIN_CODE: dict[type[Exception], str] = {
    FeedError: "feed_cursor_expired",  # the car takes a new snapshot
    InvalidImage: "invalid_image",
}


# PostgreSQL's statement_timeout (query_canceled) and lock_timeout (lock_not_available)
BUSY_SQLSTATES = frozenset({"57014", "55P03"})


@dataclass(frozen=True, slots=True)
class ErrorAnswer:
    """How the API answers an error: status, code and the (English) detail."""

    status: int
    code: str
    detail: Any
    headers: dict[str, str] | None = None


def _domain_status(exc: Exception) -> int | None:
    for cls in type(exc).__mro__:  # the nearest mapped class wins, as the handlers do
        if cls in DOMAIN_STATUS:
            return DOMAIN_STATUS[cls]
    return None


def _framework_answer(exc: Exception) -> ErrorAnswer | None:
    if isinstance(exc, ApiError):
        return ErrorAnswer(exc.status_code, exc.code, exc.detail, exc.headers)
    if isinstance(exc, RequestValidationError):
        return ErrorAnswer(422, "validation_error", _format_validation(exc))
    if isinstance(exc, StarletteHTTPException):
        code = getattr(exc, "code", None) or {
            404: "not_found",
            405: "method_not_allowed",
            401: "not_authenticated",
        }.get(exc.status_code, "http_error")
        return ErrorAnswer(exc.status_code, code, str(exc.detail), getattr(exc, "headers", None))
    if isinstance(exc, OverflowError):
        return ErrorAnswer(422, "out_of_range", f"a number is out of range: {exc}")
    if isinstance(exc, ImageChecksBusy):
        detail = "the server is checking other images; retry in a moment"
        return ErrorAnswer(503, "busy", detail, {"Retry-After": "5"})
    return None


def answer_for(exc: Exception) -> ErrorAnswer | None:
    """The status and code the API gives ``exc``; None for an error it does not map (a bug:
    500). The pages use this too, so a page refuses with the same status as the API."""
    answer = _framework_answer(exc)
    if answer is not None:
        return answer
    status = _domain_status(exc)
    if status is None:
        return None
    code = DOMAIN_CODE.get(type(exc)) or getattr(exc, "code", None) or "domain_error"
    return ErrorAnswer(status, str(code), str(exc))


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
    async def _answer(_: Request, exc: Exception) -> JSONResponse:
        a = answer_for(exc)
        if a is None:  # registered only for mapped types
            raise exc
        return JSONResponse(error_body(a.detail, a.code), status_code=a.status, headers=a.headers)

    for mapped in (ApiError, RequestValidationError, StarletteHTTPException, OverflowError):
        app.add_exception_handler(mapped, _answer)

    @app.exception_handler(ImageChecksBusy)
    async def _images_busy(request: Request, exc: ImageChecksBusy) -> JSONResponse:
        log.warning("image checks busy: %s", exc)
        return await _answer(request, exc)

    @app.exception_handler(ClientDisconnect)
    async def _gone(_: Request, __: ClientDisconnect) -> JSONResponse:
        # the client closed the connection in the middle of its body: nobody reads this
        # answer, and it is not a server fault (one line, no traceback)
        log.info("the client went away before its request body was complete")
        return JSONResponse(error_body("the request body was cut short", "client_gone"), 400)

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

    for exc_type in DOMAIN_STATUS:
        app.add_exception_handler(exc_type, _answer)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, __: Exception) -> JSONResponse:
        # a bug: still the usual body, never a plain-text 500 (the server logs the traceback
        # through the product's formatters, which keep SQL parameters out)
        return JSONResponse(error_body("internal server error", "internal_error"), 500)
