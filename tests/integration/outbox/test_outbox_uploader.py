"""The uploader and heartbeat sender against a real HTTP server on loopback."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from scancar.outbox.errors import OutboxConfigError
from scancar.outbox.model import ItemState
from scancar.outbox.store import SqliteOutbox
from scancar.outbox.uploader import Backoff, HeartbeatSender, Outcome, Uploader
from scancar.wire import Heartbeat, HeartbeatCounts
from tests.integration.outbox.outbox_backend import TOKEN, BackendState, running_backend
from tests.integration.outbox.outbox_factory import make_suspect, observation_id


@pytest.fixture
def backend() -> Iterator[tuple[str, BackendState]]:
    with running_backend() as served:
        yield served


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[SqliteOutbox]:
    with SqliteOutbox(tmp_path / "outbox", 50_000_000) as box:
        yield box


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=httpx.Timeout(2.0)) as c:
        yield c


def make_uploader(
    outbox: SqliteOutbox, client: httpx.Client, url: str, **kwargs: object
) -> Uploader:
    return Uploader(outbox, client, url, TOKEN, rng=random.Random(1), **kwargs)  # type: ignore[arg-type]


def fill(outbox: SqliteOutbox, count: int, start: int = 0) -> None:
    for i in range(start, start + count):
        outbox.put(*make_suspect(i))


def test_uploader_sends_everything_in_order_and_deletes_evidence(
    backend: tuple[str, BackendState], outbox: SqliteOutbox, client: httpx.Client
) -> None:
    url, state = backend
    fill(outbox, 12)
    report = make_uploader(outbox, client, url, batch_size=5).drain_once()
    assert (report.sent, report.dead, report.outcome) == (12, 0, None)
    assert list(state.stored) == [str(observation_id(i)) for i in range(12)]
    assert state.statuses == [201] * 12
    assert state.idempotency_keys_ok
    assert outbox.backlog() == 0
    assert list(outbox.evidence_dir.iterdir()) == []


def test_uploader_retries_after_500_without_losing_order(
    backend: tuple[str, BackendState], outbox: SqliteOutbox, client: httpx.Client
) -> None:
    url, state = backend
    fill(outbox, 3)
    state.script.extend(["500", "500"])
    uploader = make_uploader(outbox, client, url)
    first = uploader.drain_once()
    assert (first.sent, first.outcome) == (0, Outcome.RETRY)
    assert uploader.failures == 1
    assert make_delay_bounds(uploader, first) == (0.0, 1.0)
    second = uploader.drain_once()
    assert (second.sent, second.outcome, uploader.failures) == (0, Outcome.RETRY, 2)
    assert make_delay_bounds(uploader, second) == (0.0, 2.0)
    third = uploader.drain_once()
    assert (third.sent, third.outcome, uploader.failures) == (3, None, 0)
    assert list(state.stored) == [str(observation_id(i)) for i in range(3)]
    assert outbox.state_of(observation_id(0)) is ItemState.SENT


def make_delay_bounds(uploader: Uploader, report: object) -> tuple[float, float]:
    ceiling = min(
        uploader.backoff.max_s, uploader.backoff.base_s * 2 ** max(0, uploader.failures - 1)
    )
    delay = uploader.next_delay(report)  # type: ignore[arg-type]
    assert 0.0 <= delay <= ceiling
    return 0.0, ceiling


@pytest.mark.parametrize("status", ["503", "429"])
def test_uploader_honours_retry_after(
    backend: tuple[str, BackendState], outbox: SqliteOutbox, client: httpx.Client, status: str
) -> None:
    url, state = backend
    fill(outbox, 1)
    state.script.append(f"{status}:7")
    uploader = make_uploader(outbox, client, url, backoff=Backoff(base_s=0.1, max_s=60.0))
    report = uploader.drain_once()
    assert report.outcome is Outcome.RETRY
    assert report.retry_after_s == 7.0
    assert 7.0 <= uploader.next_delay(report) <= 7.0
    assert outbox.backlog() == 1


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("422", (422, "rejected", "scripted_422")),
        ("413", (413, "too_large", "scripted_413")),
    ],
)
def test_uploader_dead_letters_client_errors_and_goes_on(
    backend: tuple[str, BackendState],
    outbox: SqliteOutbox,
    client: httpx.Client,
    script: str,
    expected: tuple[int, str, str],
) -> None:
    url, state = backend
    status, reason, detail = expected
    fill(outbox, 3)
    state.script.append(script)
    report = make_uploader(outbox, client, url).drain_once()
    assert (report.sent, report.dead, report.outcome) == (2, 1, None)
    [letter] = outbox.dead_letters()
    assert (letter.observation_id, letter.status, letter.reason) == (
        observation_id(0),
        status,
        reason,
    )
    assert detail in letter.detail
    assert list(state.stored) == [str(observation_id(1)), str(observation_id(2))]


def test_uploader_dead_letters_a_conflict(
    backend: tuple[str, BackendState], outbox: SqliteOutbox, client: httpx.Client
) -> None:
    url, state = backend
    state.stored[str(observation_id(0))] = "content posted earlier by someone else"
    state.hit_ids[str(observation_id(0))] = 1
    fill(outbox, 2)
    report = make_uploader(outbox, client, url).drain_once()
    assert (report.sent, report.dead) == (1, 1)
    [letter] = outbox.dead_letters()
    assert (letter.status, letter.reason) == (409, "conflict")
    assert '"code": "conflict"' in letter.detail


def test_uploader_second_post_of_same_content_gets_200_and_counts_as_sent(
    backend: tuple[str, BackendState], client: httpx.Client, tmp_path: Path
) -> None:
    url, state = backend
    # two cars' outboxes with the same suspect: e.g. a restore from backup
    for name in ("a", "b"):
        with SqliteOutbox(tmp_path / name, 10_000_000) as box:
            fill(box, 1)
            assert make_uploader(box, client, url).drain_once().sent == 1
    assert state.statuses == [201, 200]
    assert state.receipts[str(observation_id(0))] == 2
    assert len(state.stored) == 1


def test_uploader_keeps_everything_on_auth_failure_and_alerts(
    backend: tuple[str, BackendState], outbox: SqliteOutbox, client: httpx.Client
) -> None:
    url, _state = backend
    fill(outbox, 2)
    alerts: list[str] = []
    uploader = Uploader(outbox, client, url, "wrong-token", on_alert=alerts.append)
    report = uploader.drain_once()
    assert report.outcome is Outcome.AUTH
    assert outbox.backlog() == 2
    assert outbox.dead_letters() == []
    assert len(alerts) == 1
    assert "token" in alerts[0]
    assert outbox.next_batch()[0].attempts == 1


def test_uploader_timeout_then_retry_is_stored_once(
    backend: tuple[str, BackendState], outbox: SqliteOutbox
) -> None:
    url, state = backend
    fill(outbox, 2)
    state.script.append("hang:1.0")
    with httpx.Client(timeout=httpx.Timeout(0.3)) as short:
        uploader = make_uploader(outbox, short, url)
        first = uploader.drain_once()
        assert first.outcome is Outcome.RETRY
        assert "Timeout" in first.errors[0]
    with httpx.Client(timeout=httpx.Timeout(5.0)) as patient:
        # the hung request finished server-side meanwhile: the retry is a duplicate -> 200
        for _ in range(50):
            if str(observation_id(0)) in state.stored:
                break
            threading.Event().wait(0.05)
        second = make_uploader(outbox, patient, url).drain_once()
    assert (second.sent, second.outcome) == (2, None)
    assert state.posts[str(observation_id(0))] == 2
    assert state.receipts[str(observation_id(0))] == 2
    assert len(state.stored) == 2
    assert state.conflicts == 0


def test_uploader_retries_a_dropped_connection(
    backend: tuple[str, BackendState], outbox: SqliteOutbox, client: httpx.Client
) -> None:
    url, state = backend
    fill(outbox, 1)
    state.script.append("drop")
    uploader = make_uploader(outbox, client, url)
    assert uploader.drain_once().outcome is Outcome.RETRY
    assert uploader.drain_once().sent == 1


def test_uploader_retries_when_backend_is_down(outbox: SqliteOutbox, client: httpx.Client) -> None:
    fill(outbox, 1)
    with running_backend() as (url, _):
        pass  # the port is closed now
    report = make_uploader(outbox, client, url).drain_once()
    assert report.outcome is Outcome.RETRY
    assert "ConnectError" in report.errors[0]
    assert outbox.backlog() == 1


def test_uploader_dead_letters_corrupted_evidence(
    backend: tuple[str, BackendState], outbox: SqliteOutbox, client: httpx.Client
) -> None:
    url, _state = backend
    fill(outbox, 2)
    [first, _] = outbox.next_batch()
    first.evidence[0].path.write_bytes(b"bit rot")
    report = make_uploader(outbox, client, url).drain_once()
    assert (report.sent, report.dead) == (1, 1)
    [letter] = outbox.dead_letters()
    assert (letter.status, letter.reason) == (None, "evidence_unreadable")
    assert "sha256" in letter.detail


def test_uploader_run_drains_until_stopped(
    backend: tuple[str, BackendState], outbox: SqliteOutbox, client: httpx.Client
) -> None:
    url, state = backend
    stop = threading.Event()
    uploader = make_uploader(outbox, client, url, idle_poll_s=0.02)
    thread = threading.Thread(target=uploader.run, args=(stop,))
    thread.start()
    fill(outbox, 5)
    for _ in range(400):
        if outbox.backlog() == 0:
            break
        stop.wait(0.02)
    stop.set()
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert len(state.stored) == 5


def test_uploader_refuses_bad_settings(outbox: SqliteOutbox, client: httpx.Client) -> None:
    with pytest.raises(OutboxConfigError, match="base_url"):
        Uploader(outbox, client, "ftp://x", TOKEN)
    with pytest.raises(OutboxConfigError, match="token"):
        Uploader(outbox, client, "http://x", "")


def test_heartbeat_sender_posts_the_snapshot(
    backend: tuple[str, BackendState], outbox: SqliteOutbox, client: httpx.Client
) -> None:
    url, state = backend
    fill(outbox, 2)

    def snapshot() -> Heartbeat:
        return Heartbeat(
            sent_at=datetime(2026, 3, 2, 12, 0, tzinfo=UTC),
            lon=4.3571,
            lat=52.0116,
            counts=HeartbeatCounts(frames=100, reads=40, checks=30, suspects=2, discarded=1),
            outbox_backlog=outbox.backlog(),
            rights_cache_age_s=12.5,
            software_version="0.1.0",
        )

    sender = HeartbeatSender(client, url, TOKEN, snapshot, interval_s=30)
    assert sender.send_once() is True
    [beat] = state.heartbeats
    assert beat == snapshot()
    assert beat.outbox_backlog == 2
    refused = HeartbeatSender(client, url, "wrong", snapshot)
    assert refused.send_once() is False
    assert (refused.sent, refused.failed) == (0, 1)
