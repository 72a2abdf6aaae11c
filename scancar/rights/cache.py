"""``SqliteRightsCache``: the car's offline rights, fed by the backend's snapshot + changes feed.

The file holds only keyed plate hashes (32-byte HMAC-SHA256, see ``permits.feed``), never a
plain plate, so a stolen car's disk does not tell who holds which permit. A check hashes the
read plate (and, when it has no right, its look-alike variants) with the enrolment key and
decides with the same ``permits.rules`` the backend uses.

Two in-memory indexes sit in front of the SQLite file (choose with ``index=``):

- ``"memory"`` (default, ~200 MB per million rights): every plate's rights packed in a dict,
  so a check never touches SQLite; the file stays the durable store.
- ``"filter"`` (~8 MB per million rights, for small devices; about half as fast for plates
  with a right): a Bloom filter over the stored hashes; a hash that is certainly absent costs
  no query, a present one is read from SQLite.

Either index lives in this object, so all writes must go through the same
``SqliteRightsCache`` (one writer per file).
"""

from __future__ import annotations

import sqlite3
import struct
import threading
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Literal, NamedTuple, Protocol

from permits.feed import FeedRight, PlateKeyer, RightsChangesPage, RightsSnapshotPage
from permits.model import NO_RIGHT, ChangeOp, Decision, PermitType, RightKind, require_aware
from permits.plates import LOOKALIKE_GROUPS, is_normalised_plate, normalise_plate
from permits.rules import (
    MAX_GRACE_MINUTES,
    decide_in_window,
    needs_lookalikes,
    validate_check_args,
)
from scancar.rights.errors import CacheKeyMismatchError, FeedOrderError

SCHEMA_VERSION = "1"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_GRACE: tuple[timedelta, ...] = tuple(timedelta(minutes=m) for m in range(MAX_GRACE_MINUTES + 1))
_KINDS: tuple[RightKind, ...] = tuple(RightKind)
_KIND_CODE: dict[RightKind, int] = {k: i for i, k in enumerate(_KINDS)}
_TYPES: tuple[PermitType, ...] = tuple(PermitType)
_TYPE_CODE: dict[PermitType, int] = {t: i for i, t in enumerate(_TYPES)}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rights (
    plate_key BLOB NOT NULL,      -- HMAC-SHA256 of the plate, 32 bytes
    id TEXT NOT NULL,             -- the backend's right id
    kind INTEGER NOT NULL,        -- index into RightKind
    permit_type INTEGER,          -- index into PermitType, NULL for paid sessions
    areas TEXT NOT NULL,          -- sorted area codes joined by ',', '' = whole city
    start_us INTEGER NOT NULL,    -- microseconds since 1970-01-01 UTC
    end_us INTEGER,               -- NULL = open-ended
    PRIMARY KEY (plate_key, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS rights_id ON rights (id);
"""
_STAGING = """
CREATE TEMP TABLE IF NOT EXISTS snapshot_staging (
    plate_key BLOB NOT NULL, id TEXT NOT NULL, kind INTEGER NOT NULL, permit_type INTEGER,
    areas TEXT NOT NULL, start_us INTEGER NOT NULL, end_us INTEGER
)
"""
_INSERT_STAGING = (
    "INSERT INTO snapshot_staging (plate_key, id, kind, permit_type, areas, start_us, end_us) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)
# The snapshot is loaded into a plain staging table first and then copied in key order, with
# the id index built afterwards: about three times faster than inserting at random positions.
_COPY_STAGING = (
    "INSERT OR REPLACE INTO rights (plate_key, id, kind, permit_type, areas, start_us, end_us) "
    "SELECT plate_key, id, kind, permit_type, areas, start_us, end_us FROM snapshot_staging "
    "ORDER BY plate_key, id"
)
_SELECT = (
    "SELECT id, kind, permit_type, areas, start_us, end_us FROM rights "
    "WHERE plate_key = ? AND start_us <= ? AND (end_us IS NULL OR end_us >= ?)"
)
_INSERT = (
    "INSERT OR REPLACE INTO rights (plate_key, id, kind, permit_type, areas, start_us, end_us) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)


def to_us(at: datetime) -> int:
    """Microseconds since the epoch (exact) of an aware datetime."""
    return (at - _EPOCH) // _US


def from_us(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


class CachedRight(NamedTuple):
    """A right as read back from the cache: what ``permits.rules.decide`` needs, no plate."""

    id: str
    kind: RightKind
    area_codes: frozenset[str]
    start: datetime
    end: datetime | None
    permit_type: PermitType | None


_ALTERNATIVES: dict[str, tuple[str, ...]] = {
    ch: tuple(sorted(group - {ch})) for group in LOOKALIKE_GROUPS for ch in group
}


def lookalike_plates(plate: str) -> list[str]:
    """Same plates as ``permits.plates.lookalike_variants`` (as a list; a little faster)."""
    return [
        plate[:i] + alt + plate[i + 1 :]
        for i, ch in enumerate(plate)
        if ch in _ALTERNATIVES
        for alt in _ALTERNATIVES[ch]
    ]


class PresenceFilter:
    """A Bloom filter over 32-byte hashes, two probes from Python's (per-process) bytes hash.

    ``might_contain`` is never wrong when it says False; a false positive only costs a query.
    It is rebuilt whenever the cache is opened, so the per-process hash seed does not matter.
    """

    __slots__ = ("_bits", "_mask", "capacity", "count")

    def __init__(self, capacity: int) -> None:
        bits = 1 << 20
        while bits < capacity * 24:
            bits <<= 1
        self._bits = bytearray(bits >> 3)
        self._mask = bits - 1
        self.capacity = bits // 24
        self.count = 0

    def add(self, digest: bytes) -> None:
        x = hash(digest)
        i = x & self._mask
        j = (x >> 32) & self._mask
        self._bits[i >> 3] |= 1 << (i & 7)
        self._bits[j >> 3] |= 1 << (j & 7)
        self.count += 1

    def might_contain(self, digest: bytes) -> bool:
        x = hash(digest)
        i = x & self._mask
        if not (self._bits[i >> 3] >> (i & 7)) & 1:
            return False
        j = (x >> 32) & self._mask
        return bool((self._bits[j >> 3] >> (j & 7)) & 1)

    @property
    def size_bytes(self) -> int:
        return len(self._bits)


IndexMode = Literal["filter", "memory"]
_SELECT_PLATE = (
    "SELECT id, kind, permit_type, areas, start_us, end_us FROM rights WHERE plate_key = ?"
)
_SELECT_ALL = (
    "SELECT plate_key, id, kind, permit_type, areas, start_us, end_us FROM rights "
    "ORDER BY plate_key"
)
# (id, kind, permit_type, areas, start_us, end_us) as stored
_Row = tuple[str, int, int | None, str, int, int | None]
_OPEN_END = (1 << 63) - 1
_NO_TYPE = 255
_RECORD = struct.Struct("<qqBBIH")  # start, end (or _OPEN_END), kind, type, area set, id length


class _RightsIndex(Protocol):
    def might_contain(self, digest: bytes) -> bool:
        """False when the cache certainly holds no right for ``digest``."""
        ...

    def rights_for(
        self, digest: bytes, area_code: str, at_us: int, until_us: int
    ) -> list[CachedRight]:
        """Rights of ``digest`` that cover ``area_code`` and overlap ``[at_us, until_us]``."""
        ...

    def refresh(self, digests: Iterable[bytes]) -> None: ...
    @property
    def size_bytes(self) -> int: ...


class _AreaSets:
    """Interned area-code sets: many rights share a handful of them."""

    def __init__(self) -> None:
        self.sets: list[frozenset[str]] = []
        self._index: dict[str, int] = {}

    def index(self, area_text: str) -> int:
        i = self._index.get(area_text)
        if i is None:
            i = self._index[area_text] = len(self.sets)
            self.sets.append(frozenset(area_text.split(",")) if area_text else frozenset())
        return i


def _cached_right(area_codes: frozenset[str], row: _Row) -> CachedRight:
    right_id, kind, ptype, _, start_us, end_us = row
    return CachedRight(
        right_id,
        _KINDS[kind],
        area_codes,
        _EPOCH + timedelta(microseconds=start_us),
        None if end_us is None else _EPOCH + timedelta(microseconds=end_us),
        None if ptype is None else _TYPES[ptype],
    )


class _FilterIndex:
    """Bloom filter in memory, rights read from SQLite."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._areas = _AreaSets()
        self._filter = self._build()

    def _build(self) -> PresenceFilter:
        (count,) = self._conn.execute("SELECT count(*) FROM rights").fetchone()
        presence = PresenceFilter(max(int(count) * 2, 1024))
        for (digest,) in self._conn.execute("SELECT plate_key FROM rights"):
            presence.add(digest)
        return presence

    def refresh(self, digests: Iterable[bytes]) -> None:
        added = list(digests)
        if self._filter.count + len(added) > self._filter.capacity:
            self._filter = self._build()
            return
        for digest in added:
            self._filter.add(digest)

    def might_contain(self, digest: bytes) -> bool:
        return self._filter.might_contain(digest)

    def rights_for(
        self, digest: bytes, area_code: str, at_us: int, until_us: int
    ) -> list[CachedRight]:
        rights: list[CachedRight] = []
        areas = self._areas
        for row in self._conn.execute(_SELECT, (digest, until_us, at_us)):
            area_codes = areas.sets[areas.index(row[3])]
            if not area_codes or area_code in area_codes:
                rights.append(_cached_right(area_codes, row))
        return rights

    @property
    def size_bytes(self) -> int:
        return self._filter.size_bytes


class _MemoryIndex:
    """Every plate's rights packed into one bytes value of a dict keyed by the hash."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._areas = _AreaSets()
        self._plates: dict[bytes, bytes] = {}
        self._bytes = 0
        current: bytes | None = None
        records: list[bytes] = []
        for digest, *row in conn.execute(_SELECT_ALL):
            if digest != current:
                if current is not None:
                    self._store(current, records)
                current, records = digest, []
            records.append(self._pack(tuple(row)))
        if current is not None:
            self._store(current, records)

    def _pack(self, row: _Row) -> bytes:
        right_id, kind, ptype, area_text, start_us, end_us = row
        encoded = right_id.encode()
        return (
            _RECORD.pack(
                start_us,
                _OPEN_END if end_us is None else end_us,
                kind,
                _NO_TYPE if ptype is None else ptype,
                self._areas.index(area_text),
                len(encoded),
            )
            + encoded
        )

    def _store(self, digest: bytes, records: list[bytes]) -> None:
        old = self._plates.pop(digest, None)
        if old is not None:
            self._bytes -= len(old)
        if records:
            value = b"".join(records)
            self._plates[digest] = value
            self._bytes += len(value)

    def refresh(self, digests: Iterable[bytes]) -> None:
        for digest in set(digests):
            rows = self._conn.execute(_SELECT_PLATE, (digest,)).fetchall()
            self._store(digest, [self._pack(row) for row in rows])

    def might_contain(self, digest: bytes) -> bool:
        return digest in self._plates

    def rights_for(
        self, digest: bytes, area_code: str, at_us: int, until_us: int
    ) -> list[CachedRight]:
        value = self._plates.get(digest)
        if value is None:
            return []
        rights: list[CachedRight] = []
        sets = self._areas.sets
        offset, size, record = 0, len(value), _RECORD
        while offset < size:
            start_us, end_us, kind, ptype, area, id_len = record.unpack_from(value, offset)
            offset += record.size
            area_codes = sets[area]
            if (
                start_us <= until_us
                and end_us >= at_us
                and (not area_codes or area_code in area_codes)
            ):
                rights.append(
                    CachedRight(
                        value[offset : offset + id_len].decode(),
                        _KINDS[kind],
                        area_codes,
                        _EPOCH + timedelta(microseconds=start_us),
                        None if end_us == _OPEN_END else _EPOCH + timedelta(microseconds=end_us),
                        None if ptype == _NO_TYPE else _TYPES[ptype],
                    )
                )
            offset += id_len
        return rights

    @property
    def size_bytes(self) -> int:
        """Payload bytes held (hash keys and Python object overhead not included)."""
        return self._bytes + 32 * len(self._plates)


def _row_values(right: FeedRight) -> tuple[bytes, str, int, int | None, str, int, int | None]:
    return (
        bytes.fromhex(right.plate_key),
        right.id,
        _KIND_CODE[right.kind],
        None if right.permit_type is None else _TYPE_CODE[right.permit_type],
        ",".join(right.area_codes),
        to_us(right.start),
        None if right.end is None else to_us(right.end),
    )


class SqliteRightsCache:
    """The offline rights cache of one car. Thread-safe; one instance per file."""

    def __init__(self, path: str | Path, key: bytes, *, index: IndexMode = "memory") -> None:
        if index not in ("filter", "memory"):
            raise ValueError(f"index must be 'filter' or 'memory'; got {index!r}")
        self._index_mode: IndexMode = index
        self._keyer = PlateKeyer(key)
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA cache_size=-32768")  # 32 MB
        self._conn.executescript(_SCHEMA)
        self._meta: dict[str, str] = dict(self._conn.execute("SELECT name, value FROM meta"))
        stored_key = self._meta.get("key_id")
        if stored_key is not None and stored_key != self._keyer.key_id:
            self._conn.close()
            raise CacheKeyMismatchError(f"cache file {path}", stored_key, self._keyer.key_id)
        self._index = self._build_index()

    # --- state --------------------------------------------------------------------------
    @property
    def key_id(self) -> str:
        return self._keyer.key_id

    @property
    def cursor(self) -> str | None:
        """Feed position to ask ``/rights/changes?since=`` from; None before a snapshot."""
        return self._meta.get("cursor")

    @property
    def version(self) -> int:
        """Number of feed batches (snapshots and change pages) applied to this file."""
        return int(self._meta.get("version", "0"))

    @property
    def snapshot_id(self) -> str | None:
        return self._meta.get("snapshot_id")

    @property
    def synced_at(self) -> datetime | None:
        """Backend time of the newest applied feed page (None: never filled)."""
        value = self._meta.get("synced_at")
        return None if value is None else datetime.fromisoformat(value)

    @property
    def window(self) -> tuple[datetime, datetime] | None:
        start, end = self._meta.get("window_start"), self._meta.get("window_end")
        if start is None or end is None:
            return None
        return datetime.fromisoformat(start), datetime.fromisoformat(end)

    def age(self, now: datetime) -> timedelta | None:
        """How old the cache's knowledge is at ``now`` (None: never filled)."""
        require_aware("now", now)
        synced = self.synced_at
        return None if synced is None else now - synced

    def covers(self, at: datetime) -> bool:
        """True when ``at`` lies in the snapshot window (rights outside it may be missing)."""
        require_aware("at", at)
        window = self.window
        return window is not None and window[0] <= at <= window[1]

    def __len__(self) -> int:
        with self._lock:
            (count,) = self._conn.execute("SELECT count(*) FROM rights").fetchone()
            return int(count)

    @property
    def index_bytes(self) -> int:
        """Approximate payload size of the in-memory index."""
        return self._index.size_bytes

    # --- feeding ------------------------------------------------------------------------
    def _check_key(self, what: str, key_id: str) -> None:
        if key_id != self._keyer.key_id:
            raise CacheKeyMismatchError(what, key_id, self._keyer.key_id)

    def _write_meta(self, values: dict[str, str]) -> None:
        self._conn.executemany(
            "INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)", list(values.items())
        )

    def apply_snapshot(self, pages: Iterable[RightsSnapshotPage]) -> None:
        """Replace the whole cache by a snapshot (pages 0..n of one ``snapshot_id``).

        All or nothing: a page with another key, snapshot id or out of order, or a missing last
        page, rolls back and leaves the previous cache untouched.
        """
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                first = self._load_snapshot(pages)
                self._write_meta(
                    {
                        "schema": SCHEMA_VERSION,
                        "key_id": first.key_id,
                        "snapshot_id": first.snapshot_id,
                        "cursor": first.cursor,
                        "synced_at": first.generated_at.isoformat(),
                        "window_start": first.window_start.isoformat(),
                        "window_end": first.window_end.isoformat(),
                        "version": str(self.version + 1),
                    }
                )
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._reload_meta()
            self._index = self._build_index()

    def _load_snapshot(self, pages: Iterable[RightsSnapshotPage]) -> RightsSnapshotPage:
        conn = self._conn
        conn.execute(_STAGING)
        conn.execute("DELETE FROM snapshot_staging")
        first: RightsSnapshotPage | None = None
        expected_page = 0
        last_seen = False
        for page in pages:
            self._check_key(f"snapshot page {page.page}", page.key_id)
            if first is None:
                first = page
            elif (page.snapshot_id, page.cursor) != (first.snapshot_id, first.cursor):
                raise FeedOrderError(
                    f"snapshot page {page.page} belongs to snapshot {page.snapshot_id!r} at "
                    f"cursor {page.cursor!r}; expected {first.snapshot_id!r} at {first.cursor!r}"
                )
            if page.page != expected_page:
                raise FeedOrderError(
                    f"snapshot page {page.page} arrived; expected page {expected_page}"
                )
            if last_seen:
                raise FeedOrderError(f"snapshot page {page.page} arrived after the last page")
            conn.executemany(_INSERT_STAGING, map(_row_values, page.rights))
            last_seen = page.is_last
            expected_page += 1
        if first is None or not last_seen:
            raise FeedOrderError(
                f"incomplete snapshot: {expected_page} page(s) and no last page; nothing applied"
            )
        conn.execute("DROP INDEX IF EXISTS rights_id")
        conn.execute("DELETE FROM rights")
        conn.execute(_COPY_STAGING)
        conn.execute("DELETE FROM snapshot_staging")
        try:
            conn.execute("CREATE UNIQUE INDEX rights_id ON rights (id)")
        except sqlite3.IntegrityError:
            raise FeedOrderError(
                "the snapshot lists one right id under two plate keys; nothing applied"
            ) from None
        return first

    def apply_changes(self, page: RightsChangesPage) -> None:
        """Apply one changes page; it must continue exactly from the cache's cursor."""
        with self._lock:
            self._check_key("changes page", page.key_id)
            if self.cursor is None:
                raise FeedOrderError("the cache has no snapshot yet; apply a snapshot first")
            if page.since != self.cursor:
                raise FeedOrderError(
                    f"changes page starts at cursor {page.since!r} but the cache is at "
                    f"{self.cursor!r}"
                )
            touched: list[bytes] = []
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                for change in page.changes:
                    old = self._conn.execute(
                        "SELECT plate_key FROM rights WHERE id = ?", (change.right_id,)
                    ).fetchone()
                    if old is not None:
                        touched.append(old[0])
                    if change.op is ChangeOp.UPSERT and change.right is not None:
                        values = _row_values(change.right)
                        self._conn.execute(_INSERT, values)
                        touched.append(values[0])
                    else:
                        self._conn.execute("DELETE FROM rights WHERE id = ?", (change.right_id,))
                self._write_meta(
                    {
                        "cursor": page.cursor,
                        "synced_at": page.generated_at.isoformat(),
                        "version": str(self.version + 1),
                    }
                )
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._reload_meta()
            self._index.refresh(touched)

    def _reload_meta(self) -> None:
        self._meta = dict(self._conn.execute("SELECT name, value FROM meta"))

    def _build_index(self) -> _RightsIndex:
        if self._index_mode == "memory":
            return _MemoryIndex(self._conn)
        return _FilterIndex(self._conn)

    # --- checking -----------------------------------------------------------------------
    def check(
        self,
        plate: str,
        area_code: str,
        at: datetime,
        grace_minutes: int = 0,
        *,
        allowed_permit_types: frozenset[PermitType] | None = None,
    ) -> Decision:
        """May ``plate`` park in ``area_code`` at ``at``? Same rules and answer as the backend.

        Look-alike variants are hashed and looked up only when the plate itself has no right.
        """
        if not is_normalised_plate(plate):
            plate = normalise_plate(plate)
        validate_check_args(at, grace_minutes)
        grace_end = at + _GRACE[grace_minutes]
        at_us = (at - _EPOCH) // _US
        until_us = at_us + grace_minutes * 60_000_000
        digest = self._keyer.digest
        with self._lock:
            index = self._index
            # Bound once: for most hashes (look-alike variants above all) the index says "no"
            # without a query or a decode.
            might_contain, rights_for = index.might_contain, index.rights_for
            key = digest(plate)
            exact = rights_for(key, area_code, at_us, until_us) if might_contain(key) else []
            if exact:
                decision = decide_in_window(
                    exact, (), area_code, at, grace_end, allowed_permit_types=allowed_permit_types
                )
                if not needs_lookalikes(decision):
                    return decision
            lookalikes: list[CachedRight] = []
            for variant in lookalike_plates(plate):
                key = digest(variant)
                if might_contain(key):
                    lookalikes.extend(rights_for(key, area_code, at_us, until_us))
        if not exact and not lookalikes:
            return NO_RIGHT
        return decide_in_window(
            exact, lookalikes, area_code, at, grace_end, allowed_permit_types=allowed_permit_types
        )

    # --- lifetime -----------------------------------------------------------------------
    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> SqliteRightsCache:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
