"""ASGI middleware: request ids + access log, security headers, allowed hosts, body limits.

The stack, outermost first (``install_middleware``): trusted proxies (the client address and
scheme from ``X-Forwarded-*`` only when the peer is a trusted proxy), request context and
headers, allowed hosts, body limits (size and slow clients), early authentication (a bad
bearer token is refused before the body is read), NUL characters refused (api/textguard.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import uuid
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.context import request_id_var
from api.docs_csp import DOCS_PATHS, docs_csp

if TYPE_CHECKING:
    from fastapi import FastAPI
    from sqlalchemy.engine import Engine

    from api.settings import BackendSettings

log = logging.getLogger("api.access")
_RID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"permissions-policy", b"geolocation=(self), camera=(self)"),
]


def page_csp(img_origin: str | None = None) -> bytes:
    """The pages' CSP; ``img_origin`` (the base map's tile server) may serve images too."""
    img = f"'self' data: blob:{' ' + img_origin if img_origin else ''}"
    return (
        f"default-src 'self'; img-src {img}; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
    ).encode("latin-1")


PAGE_CSP = page_csp()
API_CSP = b"default-src 'none'; frame-ancestors 'none'"
# answers hold plates, positions, names: no browser or proxy keeps a copy (a route that
# sets its own Cache-Control keeps it; static files are left alone)
NO_STORE = b"no-store"
HSTS = b"max-age=31536000; includeSubDomains"


async def send_json_error(
    send: Send, status: int, detail: str, code: str, headers: dict[str, str] | None = None
) -> None:
    """Answer with the usual ``{detail, code}`` body and close the connection."""
    body = json.dumps({"detail": detail, "code": code}).encode()
    raw = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    raw.extend(
        (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()
    )
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers") or []:
        if key == name:
            return str(value.decode("latin-1"))
    return ""


def response_headers(
    scope: Scope, headers: list[tuple[bytes, bytes]], page_policy: bytes = PAGE_CSP
) -> None:
    """Add the security headers an answer to ``scope`` needs (in place)."""
    path: str = scope.get("path", "")
    names = {k.lower() for k, _ in headers}
    headers.extend(SECURITY_HEADERS)
    if path in DOCS_PATHS:
        pass  # the docs middleware sets a CSP made for the page it serves
    elif path.startswith(("/ui", "/mijn")):  # the staff pages and the residents' portal
        headers.append((b"content-security-policy", page_policy))
    else:
        headers.append((b"content-security-policy", API_CSP))
    if b"cache-control" not in names and not path.startswith("/static"):
        headers.append((b"cache-control", NO_STORE))
    if scope.get("scheme") == "https":
        headers.append((b"strict-transport-security", HSTS))


def relative_location(scope: Scope, headers: list[tuple[bytes, bytes]]) -> None:
    """A redirect to this very server never names its host: the Host header may be foreign
    (Starlette builds absolute URLs from it, e.g. for the trailing-slash redirect)."""
    host = _header(scope, b"host").lower()
    for i, (key, value) in enumerate(headers):
        if key.lower() != b"location":
            continue
        url = urlsplit(value.decode("latin-1"))
        if url.netloc and url.netloc.lower() == host:
            relative = url.path or "/"
            if url.query:
                relative += "?" + url.query
            headers[i] = (key, relative.encode("latin-1"))


class RequestContextMiddleware:
    """Gives every request an id (``X-Request-ID``), logs one line per request, and adds the
    security headers (CSP, no-store, HSTS over https) and relative redirects."""

    def __init__(self, app: ASGIApp, page_policy: bytes = PAGE_CSP):
        self.app = app
        self.page_policy = page_policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, b"x-request-id")
        rid = incoming if _RID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(rid)
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", rid.encode()))
                response_headers(scope, headers, self.page_policy)
                if 300 <= status < 400:
                    relative_location(scope, headers)
                message["headers"] = headers
            await send(message)

        app = docs_csp(self.app) if scope.get("path") in DOCS_PATHS else self.app
        try:
            await app(scope, receive, send_wrapper)
        finally:
            log.info(
                "%s %s %s",
                scope.get("method"),
                scope.get("path"),
                status,
                extra={
                    "method": scope.get("method"),
                    "path": scope.get("path"),
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            request_id_var.reset(token)


class AllowedHostsMiddleware:
    """Answers 400 ``bad_host`` for a Host header not in ``allowed_hosts`` (``*.example.nl``
    allows the subdomains)."""

    def __init__(self, app: ASGIApp, allowed_hosts: list[str]):
        self.app = app
        self.exact = {h.lower() for h in allowed_hosts if not h.startswith("*.")}
        self.suffixes = tuple(h[1:].lower() for h in allowed_hosts if h.startswith("*."))

    def is_allowed(self, host: str) -> bool:
        name = host.lower()
        name = name.rsplit("]", 1)[0] + "]" if name.startswith("[") else name.split(":", 1)[0]
        return name in self.exact or (bool(self.suffixes) and name.endswith(self.suffixes))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self.is_allowed(_header(scope, b"host")):
            await send_json_error(
                send, 400, "this server does not answer to that host name", "bad_host"
            )
            return
        await self.app(scope, receive, send)


class BodyLimitError(HTTPException):
    """A request body over a limit. An ``HTTPException``, so FastAPI's body reading passes it
    on instead of calling it a parse error; the error handler answers with ``code``."""

    code = "bad_request"

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(status_code, detail, headers={"Connection": "close"})


class BodyTooLarge(BodyLimitError):
    code = "payload_too_large"

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"the request body is larger than {max_bytes} bytes")


class BodyTooSlow(BodyLimitError):
    code = "request_timeout"

    def __init__(self, read_timeout_s: float, min_bytes_per_s: float) -> None:
        super().__init__(
            408,
            f"the request body came too slowly (more than {read_timeout_s:g} s without data, "
            f"or under {min_bytes_per_s:g} bytes/s)",
        )


class BodyLimitsMiddleware:
    """Refuses request bodies over ``max_bytes`` with 413 (by header and while streaming),
    and closes a connection whose body comes too slowly with 408: each piece must arrive
    within ``read_timeout_s``, and the body as a whole at ``min_bytes_per_s`` on average
    after the first ``read_timeout_s`` (a client trickling a byte now and then is cut off)."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        read_timeout_s: float = 30.0,
        min_bytes_per_s: float = 1024.0,
    ):
        self.app = app
        self.max_bytes = max_bytes
        self.read_timeout_s = read_timeout_s
        self.min_bytes_per_s = min_bytes_per_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = _header(scope, b"content-length")
        if length.isdigit() and int(length) > self.max_bytes:
            too_large = BodyTooLarge(self.max_bytes)
            await send_json_error(send, 413, too_large.detail, too_large.code)
            return
        received = 0
        started_at = time.monotonic()
        response_started = False
        body_done = False

        async def guarded_receive() -> Message:
            nonlocal received, body_done
            if body_done:  # the body is in: what comes now (a disconnect) may take its time,
                return await receive()  # e.g. while a long export streams out
            allowed = started_at + self.read_timeout_s + received / self.min_bytes_per_s
            wait = min(self.read_timeout_s, allowed - time.monotonic())
            try:
                message = await asyncio.wait_for(receive(), timeout=max(wait, 0.001))
            except TimeoutError:
                log.info("request body too slow: cut off after %s bytes", received)
                raise BodyTooSlow(self.read_timeout_s, self.min_bytes_per_s) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
                body_done = not message.get("more_body", False)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, guarded_receive, tracking_send)
        except BodyLimitError as exc:  # raised where no handler turned it into an answer
            if not response_started:
                await send_json_error(send, exc.status_code, exc.detail, exc.code)


def install_middleware(app: FastAPI, settings: BackendSettings, engine: Engine) -> None:
    """The app's middleware stack (``add_middleware`` wraps: the last added runs first)."""
    from api.auth.early import EarlyAuthMiddleware
    from api.textguard import NulGuardMiddleware

    app.add_middleware(NulGuardMiddleware)
    app.add_middleware(EarlyAuthMiddleware, settings=settings, engine=engine)
    app.add_middleware(
        BodyLimitsMiddleware,
        max_bytes=settings.max_request_bytes,
        read_timeout_s=settings.body_read_timeout_s,
        min_bytes_per_s=settings.body_min_bytes_per_s,
    )
    if "*" not in settings.allowed_hosts:
        app.add_middleware(AllowedHostsMiddleware, allowed_hosts=settings.allowed_hosts)
    app.add_middleware(RequestContextMiddleware, page_policy=page_csp(settings.map_tile_origin))
    if settings.trusted_proxies:
        from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
