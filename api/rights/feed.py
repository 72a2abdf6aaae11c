"""The scan-car feed over HTTP: the rotating plate key and the streamed snapshot.

The base key is ``SCANCAR_RIGHTS_FEED_KEY`` (hex, at least 32 bytes) when set, else derived
from ``SCANCAR_SECRET_KEY`` with HMAC-SHA256. The plate key the cars get is derived from it per
rotation period (``SCANCAR_RIGHTS_KEY_ROTATION_HOURS``, default 24, periods starting at 02:00
UTC; 0: the base key itself, never rotated): ``HMAC(base, label | period start)``. Snapshot and
changes pages are always made with the current period's key; a car whose cache has another
key id fetches the new key (``GET /rights/feed-key``, which says when it rotates) and a new
snapshot. A car holds the key in memory only, so a stolen car's disk holds hashes under a key
it does not have, and a key taken from a running car stops matching the feed within a period.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine

from api.rights.repository import begin_consistent_read, stream_snapshot
from api.settings import BackendSettings
from permits.feed import (
    DEFAULT_HORIZON,
    DEFAULT_LOOKBACK,
    PlateKeyer,
    RightsSnapshotPage,
    to_feed_right,
)

KEY_DERIVATION_LABEL = b"scancar rights feed plate key v1"
PERIOD_LABEL = b"scancar rights plate key period v1 "
ROTATION_ANCHOR = datetime(2020, 1, 1, 2, 0, tzinfo=UTC)  # periods start at 02:00 UTC


def feed_key(settings: BackendSettings) -> bytes:
    """The deployment's base plate key (32+ bytes); the cars get keys derived from it."""
    if settings.rights_feed_key:
        return bytes.fromhex(settings.rights_feed_key)
    return hmac.new(settings.secret_key.encode(), KEY_DERIVATION_LABEL, hashlib.sha256).digest()


@dataclass(frozen=True, slots=True)
class PeriodKey:
    """The plate key of one rotation period (``rotates_at`` None: never rotates)."""

    key: bytes = field(repr=False)
    keyer: PlateKeyer = field(repr=False)
    valid_from: datetime | None
    rotates_at: datetime | None


class FeedKeys:
    """The current plate key at any time: one per ``period`` (None: the base key forever)."""

    def __init__(self, base: bytes, period: timedelta | None) -> None:
        if period is not None and period <= timedelta(0):
            raise ValueError(f"the rotation period must be positive; got {period}")
        self._base = base
        self.period = period
        self._lock = threading.Lock()
        self._cache: dict[int, PeriodKey] = {}

    @classmethod
    def from_settings(cls, settings: BackendSettings) -> FeedKeys:
        hours = settings.rights_key_rotation_hours
        return cls(feed_key(settings), timedelta(hours=hours) if hours else None)

    def at(self, now: datetime) -> PeriodKey:
        index = -1 if self.period is None else (now - ROTATION_ANCHOR) // self.period
        with self._lock:
            found = self._cache.get(index)
            if found is None:
                found = self._derive(index)
                self._cache = {i: k for i, k in self._cache.items() if i >= index - 1}
                self._cache[index] = found
            return found

    def _derive(self, index: int) -> PeriodKey:
        if self.period is None:
            return PeriodKey(self._base, PlateKeyer(self._base), None, None)
        start = ROTATION_ANCHOR + index * self.period
        label = PERIOD_LABEL + start.isoformat().encode()
        key = hmac.new(self._base, label, hashlib.sha256).digest()
        return PeriodKey(key, PlateKeyer(key), start, start + self.period)


def snapshot_lines(
    engine: Engine,
    keyer: PlateKeyer,
    now: datetime,
    *,
    page_size: int,
    horizon: timedelta = DEFAULT_HORIZON,
    lookback: timedelta = DEFAULT_LOOKBACK,
    window_at: datetime | None = None,
) -> Iterator[bytes]:
    """The snapshot as NDJSON lines (one ``RightsSnapshotPage`` each), read in one consistent
    transaction and produced page by page (one page of rights in memory at a time). Its
    window lies around ``window_at`` (default ``now``); it is generated ``now``."""
    around = now if window_at is None else window_at
    start, end = around - lookback, around + horizon
    snapshot_id = uuid.uuid4().hex
    with engine.connect() as conn:
        begin_consistent_read(conn)
        head, chunks = stream_snapshot(conn, start, end, chunk_size=page_size)
        page = 0
        current = next(chunks, [])
        while True:
            following = next(chunks, None)
            body = RightsSnapshotPage(
                key_id=keyer.key_id,
                snapshot_id=snapshot_id,
                generated_at=now,
                window_start=start,
                window_end=end,
                cursor=head.cursor,
                page=page,
                is_last=following is None,
                rights=[to_feed_right(r, keyer) for r in current],
            )
            yield body.model_dump_json().encode() + b"\n"
            if following is None:
                break
            current = following
            page += 1
        conn.rollback()
