"""The car's HTTP adapters for the backend's rights endpoints (httpx).

- ``HttpRightsFeedClient``: ``RightsFeedClient`` over ``GET /api/v1/rights/snapshot`` (NDJSON,
  one ``RightsSnapshotPage`` per line) and ``GET /api/v1/rights/changes?since=``; a 410 answer
  raises ``FeedError`` so ``sync_cache`` takes a new snapshot.
- ``HttpOnlineRightsCheck``: ``OnlineRightsCheck`` over ``GET /api/v1/rights/check``; network
  errors, timeouts and 5xx answers raise ``RightsUnavailableError``.
- ``fetch_feed_key``: the deployment's plate key from ``GET /api/v1/rights/feed-key`` (checked
  against its key id), for enrolment.

The caller owns the ``httpx.Client`` (timeouts, TLS, proxies); this module never imports ``api``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import httpx
from pydantic import BaseModel, ValidationError

from permits.errors import FeedError
from permits.feed import RightsChangesPage, RightsSnapshotPage, key_fingerprint
from permits.model import Decision, DecisionReason
from scancar.rights.errors import RightsCacheError, RightsUnavailableError
from scancar.rights.ports import RightsQuery

SNAPSHOT_PATH = "/api/v1/rights/snapshot"
CHANGES_PATH = "/api/v1/rights/changes"
CHECK_PATH = "/api/v1/rights/check"
FEED_KEY_PATH = "/api/v1/rights/feed-key"


class FeedTransportError(RightsCacheError):
    """The feed could not be fetched or parsed (network, HTTP status, truncated stream)."""

    code = "feed_transport"


def _headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _url(base_url: str, path: str) -> str:
    return base_url.rstrip("/") + path


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        return f"{body.get('code', '?')}: {body.get('detail', '')}"
    return str(body)[:200]


class HttpRightsFeedClient:
    """``scancar.rights.ports.RightsFeedClient`` over the backend's HTTP feed."""

    def __init__(
        self, client: httpx.Client, base_url: str, token: str, *, changes_limit: int = 1000
    ) -> None:
        self._client = client
        self._base_url = base_url
        self._token = token
        self._changes_limit = changes_limit

    def snapshot(self, at: datetime | None = None) -> Iterator[RightsSnapshotPage]:
        """The snapshot pages as they arrive (a page at a time in memory), for the window
        around ``at`` (the car's clock). A stream that ends before the page flagged
        ``is_last`` raises ``FeedTransportError``; the cache then rolls the whole snapshot
        back."""
        params = {} if at is None else {"at": at.isoformat()}
        try:
            with self._client.stream(
                "GET",
                _url(self._base_url, SNAPSHOT_PATH),
                headers=_headers(self._token),
                params=params,
            ) as response:
                if response.status_code != 200:
                    response.read()
                    raise FeedTransportError(
                        f"snapshot: HTTP {response.status_code} ({_detail(response)})"
                    )
                last_seen = False
                for line in response.iter_lines():
                    if not line.strip():
                        continue
                    if last_seen:
                        raise FeedTransportError("snapshot: data after the last page")
                    page = RightsSnapshotPage.model_validate_json(line)
                    last_seen = page.is_last
                    yield page
                if not last_seen:
                    raise FeedTransportError("snapshot: the stream ended before the last page")
        except httpx.HTTPError as exc:
            raise FeedTransportError(f"snapshot: {type(exc).__name__}: {exc}") from exc
        except ValidationError as exc:
            raise FeedTransportError(f"snapshot: a page does not parse: {exc}") from exc

    def changes(self, since: str) -> RightsChangesPage:
        """Changes after ``since``; ``FeedError`` when the backend no longer knows it (410)."""
        try:
            response = self._client.get(
                _url(self._base_url, CHANGES_PATH),
                params={"since": since, "limit": self._changes_limit},
                headers=_headers(self._token),
            )
        except httpx.HTTPError as exc:
            raise FeedTransportError(f"changes: {type(exc).__name__}: {exc}") from exc
        if response.status_code == 410:
            raise FeedError(f"the backend refused cursor {since!r}: {_detail(response)}")
        if response.status_code != 200:
            raise FeedTransportError(f"changes: HTTP {response.status_code} ({_detail(response)})")
        try:
            return RightsChangesPage.model_validate_json(response.content)
        except ValidationError as exc:
            raise FeedTransportError(f"changes: the page does not parse: {exc}") from exc


class _CheckBody(BaseModel):
    allowed: bool
    reason: DecisionReason
    right_id: str | None = None
    valid_until: datetime | None = None


class HttpOnlineRightsCheck:
    """``scancar.rights.ports.OnlineRightsCheck`` over ``GET /api/v1/rights/check``.

    The backend locates the zone itself from ``query.lon``/``query.lat`` (required) and uses
    its own grace period and permit types.
    """

    def __init__(self, client: httpx.Client, base_url: str, token: str) -> None:
        self._client = client
        self._base_url = base_url
        self._token = token

    def __call__(self, query: RightsQuery) -> Decision:
        if query.lon is None or query.lat is None:
            raise RightsUnavailableError("the online rights check needs the position (lon, lat)")
        try:
            response = self._client.get(
                _url(self._base_url, CHECK_PATH),
                params={
                    "plate": query.plate,
                    "lon": query.lon,
                    "lat": query.lat,
                    "at": query.at.isoformat(),
                },
                headers=_headers(self._token),
            )
        except httpx.HTTPError as exc:
            raise RightsUnavailableError(
                f"online rights check failed: {type(exc).__name__}: {exc}"
            ) from exc
        if response.status_code != 200:
            raise RightsUnavailableError(
                f"online rights check: HTTP {response.status_code} ({_detail(response)})"
            )
        try:
            body = _CheckBody.model_validate_json(response.content)
        except ValidationError as exc:
            raise RightsUnavailableError(f"online rights check: bad answer: {exc}") from exc
        return Decision(body.allowed, body.reason, body.right_id, body.valid_until)


@dataclass(frozen=True, slots=True)
class FeedKey:
    key: bytes
    key_id: str


def fetch_feed_key(client: httpx.Client, base_url: str, token: str) -> FeedKey:
    """The deployment's plate key (at enrolment). Store it like a credential; the cache is
    opened with it (``SqliteRightsCache(path, key)``)."""
    try:
        response = client.get(_url(base_url, FEED_KEY_PATH), headers=_headers(token))
    except httpx.HTTPError as exc:
        raise FeedTransportError(f"feed key: {type(exc).__name__}: {exc}") from exc
    if response.status_code != 200:
        raise FeedTransportError(f"feed key: HTTP {response.status_code} ({_detail(response)})")
    body = response.json()
    key = bytes.fromhex(str(body["key_hex"]))
    key_id = str(body["key_id"])
    if key_fingerprint(key) != key_id:
        raise FeedTransportError(
            f"feed key: the key does not match its key id {key_id!r}; refusing it"
        )
    return FeedKey(key, key_id)
