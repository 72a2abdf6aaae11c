"""NUL characters refused in every request's text, before any route sees it.

PostgreSQL cannot store a NUL (``\\x00``) in text or JSON; a request that carries one in a
query parameter, the path or a JSON or form body would get as far as the database and end as
a 500. This middleware answers 422 ``nul_character`` instead: the query string and path at
once, a JSON or URL-encoded body as it is read (the route reads it whole anyway; bodies are
bounded by the body limits). Multipart bodies hold binary files, where a zero byte is normal:
their text parts are checked by the schema that parses them (the scan car's metadata).
"""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.middleware import BodyLimitError, send_json_error

# ``\u0000`` escaped by an odd number of backslashes (``\\u0000`` is a backslash and text)
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
NUL_DETAIL = "text must not contain a NUL character (\\u0000 or %00)"


class NulInBody(BodyLimitError):
    code = "nul_character"

    def __init__(self) -> None:
        super().__init__(422, f"the request body: {NUL_DETAIL}")


def _content_type(scope: Scope) -> str:
    for key, value in scope.get("headers") or []:
        if key == b"content-type":
            return str(value.decode("latin-1")).split(";")[0].strip().lower()
    return ""


def _body_has_nul(kind: str, body: bytes) -> bool:
    if b"\x00" in body:
        return True
    if kind == "form":
        return b"%00" in body
    return _JSON_NUL.search(body) is not None


def _body_kind(ctype: str) -> str | None:
    if ctype == "application/x-www-form-urlencoded":
        return "form"
    if ctype == "application/json" or ctype.endswith("+json"):
        return "json"
    return None


class NulGuardMiddleware:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw_path = scope.get("raw_path") or b""
        if (
            b"%00" in scope.get("query_string", b"")
            or "\x00" in scope.get("path", "")
            or b"%00" in raw_path
        ):
            await send_json_error(
                send, 422, f"the address: {NUL_DETAIL}", "nul_character", {"Connection": "close"}
            )
            return
        kind = _body_kind(_content_type(scope))
        if kind is None:
            await self.app(scope, receive, send)
            return
        seen = bytearray()

        async def checked_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                seen.extend(message.get("body", b""))
                if not message.get("more_body", False) and _body_has_nul(kind, bytes(seen)):
                    raise NulInBody
            return message

        await self.app(scope, checked_receive, send)
