"""The rotating plate key: one key per period from 02:00 UTC, stable within it, derived from
the base key; period 0 keeps the base key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from api.rights.feed import FeedKeys
from permits.feed import key_fingerprint

BASE = bytes(range(32))


def test_feed_keys_rotate_daily_at_two_utc():
    keys = FeedKeys(BASE, timedelta(hours=24))
    before = keys.at(datetime(2026, 12, 7, 1, 59, 59, tzinfo=UTC))
    after = keys.at(datetime(2026, 12, 7, 2, 0, tzinfo=UTC))
    later = keys.at(datetime(2026, 12, 8, 1, 0, tzinfo=UTC))
    assert before.rotates_at == after.valid_from == datetime(2026, 12, 7, 2, 0, tzinfo=UTC)
    assert after.rotates_at == datetime(2026, 12, 8, 2, 0, tzinfo=UTC)
    assert before.key != after.key
    assert after.key == later.key
    assert after.keyer.key_id == key_fingerprint(after.key)
    assert BASE not in (before.key, after.key)
    # derived, not random: another process with the same base key agrees
    assert FeedKeys(BASE, timedelta(hours=24)).at(after.valid_from).key == after.key
    assert FeedKeys(bytes(32), timedelta(hours=24)).at(after.valid_from).key != after.key


def test_feed_keys_without_rotation_keep_the_base_key():
    key = FeedKeys(BASE, None).at(datetime(2026, 12, 7, tzinfo=UTC))
    assert (key.key, key.rotates_at, key.valid_from) == (BASE, None, None)


def test_feed_keys_refuse_a_period_of_zero():
    with pytest.raises(ValueError, match="positive"):
        FeedKeys(BASE, timedelta(0))
