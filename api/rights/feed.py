"""The scan-car feed over HTTP: the per-deployment plate key and the streamed snapshot.

The plate key is ``SCANCAR_RIGHTS_FEED_KEY`` (hex, at least 32 bytes) when set, else derived
from ``SCANCAR_SECRET_KEY`` with HMAC-SHA256 (so rotating the secret key rotates the feed key,
and every car must fetch the new key and a new snapshot).
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta

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


def feed_key(settings: BackendSettings) -> bytes:
    """The deployment's plate key (32+ bytes)."""
    if settings.rights_feed_key:
        return bytes.fromhex(settings.rights_feed_key)
    return hmac.new(settings.secret_key.encode(), KEY_DERIVATION_LABEL, hashlib.sha256).digest()


def snapshot_lines(
    engine: Engine,
    keyer: PlateKeyer,
    now: datetime,
    *,
    page_size: int,
    horizon: timedelta = DEFAULT_HORIZON,
    lookback: timedelta = DEFAULT_LOOKBACK,
) -> Iterator[bytes]:
    """The snapshot as NDJSON lines (one ``RightsSnapshotPage`` each), read in one consistent
    transaction and produced page by page (one page of rights in memory at a time)."""
    start, end = now - lookback, now + horizon
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
