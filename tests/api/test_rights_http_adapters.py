"""The car's HTTP adapters against a fake backend (``httpx.MockTransport``): broken streams,
error statuses and a key that does not match its id."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from permits.errors import FeedError
from permits.feed import RightsSnapshotPage, key_fingerprint
from scancar.rights.errors import RightsUnavailableError
from scancar.rights.http import (
    FeedTransportError,
    HttpOnlineRightsCheck,
    HttpRightsFeedClient,
    fetch_feed_key,
)
from scancar.rights.ports import RightsQuery

KEY = bytes(range(32))
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def _page(page: int, is_last: bool) -> str:
    return RightsSnapshotPage(
        key_id=key_fingerprint(KEY),
        snapshot_id="s1",
        generated_at=NOW,
        window_start=NOW,
        window_end=NOW,
        cursor="log.0",
        page=page,
        is_last=is_last,
        rights=[],
    ).model_dump_json()


def _client(handler) -> httpx.Client:  # type: ignore[no-untyped-def]
    return httpx.Client(transport=httpx.MockTransport(handler))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (_page(0, False) + "\n" + _page(1, False) + "\n", "ended before the last page"),
        (_page(0, True) + "\n" + _page(1, True) + "\n", "data after the last page"),
        ('{"feed_version": 1}\n', "does not parse"),
    ],
)
def test_rights_http_feed_snapshot_refuses_broken_streams(body: str, message: str) -> None:
    client = _client(lambda _: httpx.Response(200, text=body))
    feed = HttpRightsFeedClient(client, "http://backend", "scd_x")
    with pytest.raises(FeedTransportError, match=message):
        list(feed.snapshot())


def test_rights_http_feed_snapshot_yields_pages_and_sends_the_token() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["authorization"])
        return httpx.Response(200, text=_page(0, False) + "\n\n" + _page(1, True) + "\n")

    feed = HttpRightsFeedClient(_client(handler), "http://backend/", "scd_x")
    assert [(p.page, p.is_last) for p in feed.snapshot()] == [(0, False), (1, True)]
    assert seen == ["Bearer scd_x"]


@pytest.mark.parametrize(
    ("status", "error"), [(410, FeedError), (500, FeedTransportError), (401, FeedTransportError)]
)
def test_rights_http_feed_changes_maps_statuses(status: int, error: type[Exception]) -> None:
    body = {"detail": "gone", "code": "feed_cursor_expired"}
    client = _client(lambda _: httpx.Response(status, json=body))
    with pytest.raises(error):
        HttpRightsFeedClient(client, "http://backend", "scd_x").changes("log.3")


@pytest.mark.parametrize("status", [500, 503, 403])
def test_rights_http_online_check_raises_unavailable_on_errors(status: int) -> None:
    client = _client(lambda _: httpx.Response(status, json={"detail": "x", "code": "y"}))
    query = RightsQuery("GZ123T", "A1", NOW, lon=4.0, lat=52.0)
    with pytest.raises(RightsUnavailableError, match=f"HTTP {status}"):
        HttpOnlineRightsCheck(client, "http://backend", "scd_x")(query)


def test_rights_http_online_check_needs_a_position_and_parses_the_answer() -> None:
    answer = {
        "allowed": True,
        "reason": "paid",
        "right_id": "paid:u1:2",
        "valid_until": "2026-03-02T13:00:00Z",
        "zone": None,
    }
    client = _client(lambda _: httpx.Response(200, json=answer))
    check = HttpOnlineRightsCheck(client, "http://backend", "scd_x")
    with pytest.raises(RightsUnavailableError, match="position"):
        check(RightsQuery("GZ123T", "A1", NOW))
    decision = check(RightsQuery("GZ123T", "A1", NOW, lon=4.0, lat=52.0))
    assert (decision.allowed, decision.reason.value, decision.right_id) == (
        True,
        "paid",
        "paid:u1:2",
    )
    assert decision.valid_until == datetime(2026, 3, 2, 13, 0, tzinfo=UTC)


def test_rights_http_feed_key_is_checked_against_its_id() -> None:
    good = {"key_hex": KEY.hex(), "key_id": key_fingerprint(KEY)}
    key = fetch_feed_key(_client(lambda _: httpx.Response(200, json=good)), "http://b", "t")
    assert key.key == KEY
    bad = dict(good, key_id="0000000000000000")
    with pytest.raises(FeedTransportError, match="does not match"):
        fetch_feed_key(_client(lambda _: httpx.Response(200, json=bad)), "http://b", "t")


def test_rights_http_feed_snapshot_asks_for_the_cars_time() -> None:
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.params.get("at"))
        return httpx.Response(200, text=_page(0, True) + "\n")

    feed = HttpRightsFeedClient(_client(handler), "http://backend/", "scd_x")
    at = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
    assert len(list(feed.snapshot(at))) == 1
    assert len(list(feed.snapshot())) == 1
    assert seen == ["2026-03-03T10:00:00+00:00", None]
