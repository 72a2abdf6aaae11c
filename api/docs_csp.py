"""A Content-Security-Policy for the API documentation pages (``/docs``, ``/redoc``).

The pages are generated HTML with an inline start-up script and the Swagger UI / ReDoc
assets (vendored under /static, or from a CDN). Rather than allow every inline script, the
policy is made for the page being served: each inline script by its SHA-256, the origins the
page loads scripts, styles and images from, and nothing else (no frames, no plugins, no
form posts elsewhere, no ``<base>``). Styles may be inline: both UIs set styles at run time.
"""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

DOCS_PATHS = frozenset({"/docs", "/redoc", "/docs/oauth2-redirect"})
_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)
_SRC = re.compile(r"<(script|link|img)\b[^>]*?\b(?:src|href)=[\"']([^\"']+)[\"']", re.I)


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return None


def csp_for_page(html: str) -> str:
    """The policy for one generated docs page."""
    hashes = []
    for body in _INLINE_SCRIPT.findall(html):
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        hashes.append(f"'sha256-{digest}'")
    origins: dict[str, set[str]] = {"script": set(), "link": set(), "img": set()}
    for tag, url in _SRC.findall(html):
        origin = _origin(url)
        if origin:
            origins[tag.lower()].add(origin)
    scripts = " ".join(["'self'", *sorted(origins["script"]), *hashes])
    styles = " ".join(["'self'", "'unsafe-inline'", *sorted(origins["link"])])
    images = " ".join(["'self'", "data:", *sorted(origins["img"] | origins["link"])])
    return (
        f"default-src 'self'; script-src {scripts}; style-src {styles}; img-src {images}; "
        "font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
    )


def docs_csp(app: ASGIApp) -> ASGIApp:
    """``app`` with the docs page's answer held back until its policy is known (a few KB)."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        start: Message | None = None
        chunks: list[bytes] = []

        async def hold(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            headers = [
                (k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"
            ]
            headers.append((b"content-length", str(len(body)).encode()))
            if any(k.lower() == b"content-type" and b"text/html" in v for k, v in headers):
                policy = csp_for_page(body.decode("utf-8", "replace"))
                headers.append((b"content-security-policy", policy.encode()))
            else:
                headers.append((b"content-security-policy", b"default-src 'none'"))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await app(scope, receive, hold)

    return wrapped
