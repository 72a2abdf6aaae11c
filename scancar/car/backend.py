"""The car's calls to the backend that decide whether it can start: the plate key (which also
proves the device token) and the zone set.

Two kinds of failure are kept apart: the backend *refused* (401/403: the token; 404: the URL is
not a scancar backend), which no retry can fix, and the backend is *unreachable* (network,
timeout, 5xx), after which the car starts offline with what it saved.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from permits.feed import key_fingerprint

FEED_KEY_PATH = "/api/v1/rights/feed-key"
ZONES_PATH = "/api/v1/zones"


class BackendUnreachableError(Exception):
    """Network error, timeout or a 5xx answer: try again later."""


class BackendRefusalError(Exception):
    """The backend answered but refuses (bad token, revoked device, wrong URL)."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class PlateKey:
    """The deployment's current plate key: kept in memory only, never written to disk."""

    key: bytes = field(repr=False)  # never printed
    key_id: str
    rotates_at: datetime | None = None


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:120].strip()
    if isinstance(body, dict):
        return str(body.get("detail") or body.get("code") or "")[:200]
    return ""


class BackendLink:
    """GETs with the device token; classifies every failure (see the module docstring)."""

    def __init__(self, client: httpx.Client, base_url: str, token: str, token_source: str) -> None:
        self.client = client
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.token_source = token_source

    def get_json(self, path: str) -> Any:
        url = self.base_url + path
        try:
            response = self.client.get(url, headers={"Authorization": f"Bearer {self.token}"})
        except httpx.HTTPError as exc:
            raise BackendUnreachableError(f"{self.base_url}: {type(exc).__name__}") from None
        status = response.status_code
        if status in (401, 403):
            raise BackendRefusalError(
                status,
                f"the backend {self.base_url} refused the device token from "
                f"{self.token_source} (HTTP {status}: {_detail(response)}); "
                "check the token or whether the device was revoked",
            )
        if status == 404:
            raise BackendRefusalError(
                status,
                f"{url} answered 404: backend.url does not point at a scancar backend",
            )
        if status >= 500 or status in (408, 429):
            raise BackendUnreachableError(f"{self.base_url}: HTTP {status}")
        if status != 200:
            raise BackendRefusalError(status, f"{url} answered HTTP {status}: {_detail(response)}")
        try:
            return response.json()
        except ValueError:
            raise BackendRefusalError(
                status, f"{url} did not answer JSON: backend.url is not a scancar backend"
            ) from None

    def plate_key(self) -> PlateKey:
        body = self.get_json(FEED_KEY_PATH)
        try:
            key = bytes.fromhex(str(body["key_hex"]))
            key_id = str(body["key_id"])
            rotates = body.get("rotates_at")
            rotates_at = datetime.fromisoformat(rotates) if rotates else None
        except (KeyError, TypeError, ValueError) as exc:
            raise BackendRefusalError(200, f"the feed key answer does not parse: {exc}") from None
        if key_fingerprint(key) != key_id:
            raise BackendRefusalError(
                200, f"the feed key does not match its key id {key_id!r}; refusing it"
            )
        return PlateKey(key, key_id, rotates_at)

    def zones(self) -> tuple[dict[str, Any], int | None]:
        doc = self.get_json(ZONES_PATH)
        if not isinstance(doc, dict):
            raise BackendRefusalError(200, f"{self.base_url}{ZONES_PATH} is not a JSON object")
        version = doc.pop("version", None)
        return doc, version if isinstance(version, int) else None
