"""A one-time message shown on the page a form redirects to ("Melding GZ-123-T bevestigd").

Kept in a short-lived cookie (path /ui, HttpOnly, SameSite=Strict) signed with the secret key,
so a page never shows text it did not write; ``render`` shows it once and clears it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Literal

from fastapi import Request
from fastapi.responses import Response

from api.deps import backend_of

FLASH_COOKIE = "scancar_flash"
Kind = Literal["ok", "info", "warning"]
_KINDS: tuple[Kind, ...] = ("ok", "info", "warning")


def _sign(secret: str, payload: bytes) -> str:
    return hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()[:32]


def set_flash(response: Response, request: Request, text: str, kind: Kind = "ok") -> None:
    secret = backend_of(request).settings.secret_key
    payload = base64.urlsafe_b64encode(f"{kind}|{text[:300]}".encode()).decode()
    response.set_cookie(
        FLASH_COOKIE,
        f"{payload}.{_sign(secret, payload.encode())}",
        max_age=120,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/ui",
    )


def read_flash(request: Request) -> tuple[Kind, str] | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw or "." not in raw:
        return None
    payload, sig = raw.rsplit(".", 1)
    secret = backend_of(request).settings.secret_key
    if not hmac.compare_digest(sig, _sign(secret, payload.encode())):
        return None
    try:
        kind, text = base64.urlsafe_b64decode(payload.encode()).decode().split("|", 1)
    except (ValueError, UnicodeDecodeError):
        return None
    return (kind if kind in _KINDS else "info", text)


def clear_flash(response: Response) -> None:
    response.delete_cookie(FLASH_COOKIE, path="/ui")
