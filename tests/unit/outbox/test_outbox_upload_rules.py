"""Unit tests of the uploader's pure rules: response classes, backoff, Retry-After."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from scancar.outbox.errors import OutboxConfigError
from scancar.outbox.uploader import Backoff, Outcome, classify, dead_reason, retry_after_s


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, Outcome.SENT),
        (201, Outcome.SENT),
        (204, Outcome.SENT),
        (301, Outcome.RETRY),
        (400, Outcome.DEAD),
        (401, Outcome.AUTH),
        (403, Outcome.AUTH),
        (404, Outcome.DEAD),
        (408, Outcome.RETRY),
        (409, Outcome.DEAD),
        (413, Outcome.DEAD),
        (422, Outcome.DEAD),
        (429, Outcome.RETRY),
        (500, Outcome.RETRY),
        (502, Outcome.RETRY),
        (503, Outcome.RETRY),
        (507, Outcome.RETRY),
    ],
)
def test_classify_status(status: int, outcome: Outcome) -> None:
    assert classify(status) is outcome


@pytest.mark.parametrize(
    ("status", "reason"),
    [(409, "conflict"), (413, "too_large"), (422, "rejected"), (400, "rejected")],
)
def test_dead_reason_names_the_status(status: int, reason: str) -> None:
    assert dead_reason(status) == reason


@pytest.mark.parametrize(
    ("failures", "ceiling"), [(1, 1.0), (2, 2.0), (3, 4.0), (6, 32.0), (20, 60.0)]
)
def test_backoff_full_jitter_stays_under_the_ceiling(failures: int, ceiling: float) -> None:
    backoff = Backoff(base_s=1.0, factor=2.0, max_s=60.0)
    rng = random.Random(42)
    delays = [backoff.delay(failures, rng) for _ in range(2000)]
    assert all(0.0 <= d <= ceiling for d in delays)
    # full jitter: spread over the whole range, mean about half the ceiling
    assert sum(delays) / len(delays) == pytest.approx(ceiling / 2, rel=0.08)
    assert max(delays) > 0.9 * ceiling


def test_backoff_is_reproducible_with_a_seed() -> None:
    backoff = Backoff()
    first = [backoff.delay(n, random.Random(7)) for n in range(1, 6)]
    second = [backoff.delay(n, random.Random(7)) for n in range(1, 6)]
    assert first == second


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [({"base_s": 0.0}, "base_s"), ({"factor": 0.5}, "factor"), ({"max_s": 0.5}, "max_s")],
)
def test_backoff_refuses_bad_settings(kwargs: dict[str, float], name: str) -> None:
    with pytest.raises(OutboxConfigError, match=name):
        Backoff(**kwargs)


NOW = datetime(2026, 3, 2, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "want"),
    [
        ("7", 7.0),
        (" 120 ", 120.0),
        ("Mon, 02 Mar 2026 12:00:30 GMT", 30.0),
        ("Mon, 02 Mar 2026 11:00:00 GMT", 0.0),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_parses_seconds_and_dates(header: str | None, want: float | None) -> None:
    assert retry_after_s(header, NOW) == want
