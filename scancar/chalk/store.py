"""SQLite adapters of ``ChalkStore`` and ``RepeatGuard``.

Rows hold ``HMAC-SHA256(car secret, plate)`` (or plate + zone), never a plate. A chalk row also
holds the position rounded to about 1 m and the first-seen time, both needed to measure the
stay; a row is deleted once its ``keep_until`` (max stay + margin, or the repeat window) has
passed. The secret is made once per car (``load_or_create_secret``) and never leaves it.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

from scancar.gps.geometry import distance_m
from scancar.pipeline.memory import plate_digest
from scancar.pipeline.ports import ChalkMatch

_SCHEMA = """
CREATE TABLE IF NOT EXISTS chalk (
    plate_hash TEXT PRIMARY KEY,
    lon REAL NOT NULL,
    lat REAL NOT NULL,
    first_seen_us INTEGER NOT NULL,
    keep_until_us INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS chalk_expiry ON chalk (keep_until_us);
CREATE TABLE IF NOT EXISTS reported (
    plate_zone_hash TEXT PRIMARY KEY,
    keep_until_us INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS reported_expiry ON reported (keep_until_us);
"""


def _us(t: datetime) -> int:
    if t.tzinfo is None:
        raise ValueError(f"time {t!r} must be timezone-aware UTC")
    return int(t.timestamp() * 1_000_000)


def _from_us(us: int) -> datetime:
    return datetime.fromtimestamp(us / 1_000_000, tz=UTC)


def load_or_create_secret(path: Path) -> bytes:
    """The car's 32-byte secret for keyed hashes, created (mode 0600) on first use."""
    if path.exists():
        data = path.read_bytes()
        if len(data) < 32:
            raise ValueError(f"secret file {path} holds {len(data)} bytes; expected 32 or more")
        return data
    data = secrets.token_bytes(32)
    write_secret(path, data)
    return data


def write_secret(path: Path, data: bytes) -> None:
    """Write a key file readable by the owner only (mode 0600); refuses to overwrite."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


class _Db:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA secure_delete=ON")  # deleted marks leave no bytes behind
        self._conn.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        """Checkpoint and truncate the WAL (old pages with expired marks go too), then close."""
        with self._lock:
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._conn.close()


class SqliteChalkStore(_Db):
    def __init__(self, path: Path, key: bytes) -> None:
        super().__init__(path)
        self._key = key

    def sight(
        self,
        plate: str,
        lon: float,
        lat: float,
        at: datetime,
        *,
        max_distance_m: float,
        keep_until: datetime,
    ) -> ChalkMatch:
        digest = plate_digest(self._key, plate)
        with self._lock:
            self._conn.execute("DELETE FROM chalk WHERE keep_until_us < ?", (_us(at),))
            row = self._conn.execute(
                "SELECT lon, lat, first_seen_us FROM chalk WHERE plate_hash = ?", (digest,)
            ).fetchone()
            if row is not None and distance_m(lon, lat, row[0], row[1]) <= max_distance_m:
                return ChalkMatch(_from_us(row[2]), is_new=False)
            self._conn.execute(
                "INSERT OR REPLACE INTO chalk VALUES (?, ?, ?, ?, ?)",
                (digest, round(lon, 5), round(lat, 5), _us(at), _us(keep_until)),
            )
        return ChalkMatch(at, is_new=True)

    def purge(self, now: datetime) -> int:
        with self._lock:
            cur = self._conn.execute("DELETE FROM chalk WHERE keep_until_us < ?", (_us(now),))
        return cur.rowcount

    def __len__(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT count(*) FROM chalk").fetchone()[0])


class SqliteRepeatGuard(_Db):
    def __init__(self, path: Path, key: bytes) -> None:
        super().__init__(path)
        self._key = key

    def is_recent(self, plate: str, zone_id: str, at: datetime) -> bool:
        digest = plate_digest(self._key, plate, zone_id)
        with self._lock:
            self._conn.execute("DELETE FROM reported WHERE keep_until_us < ?", (_us(at),))
            row = self._conn.execute(
                "SELECT keep_until_us FROM reported WHERE plate_zone_hash = ?", (digest,)
            ).fetchone()
        return row is not None and _us(at) <= row[0]

    def record(self, plate: str, zone_id: str, at: datetime, *, keep_until: datetime) -> None:
        digest = plate_digest(self._key, plate, zone_id)
        with self._lock:
            self._conn.execute("DELETE FROM reported WHERE keep_until_us < ?", (_us(at),))
            self._conn.execute(
                "INSERT OR REPLACE INTO reported VALUES (?, ?)", (digest, _us(keep_until))
            )
