"""``SqliteRightsCache``: the car's offline rights, fed by the backend's snapshot + changes feed.

The file holds only keyed plate hashes (32-byte HMAC-SHA256, see ``permits.feed``), never a
plain plate, so a stolen car's disk does not tell who holds which permit. A check hashes the
read plate (and, when it has no right, its look-alike variants) with the enrolment key and
decides by the rules of ``permits.rules``, applied to packed records (``_best_record``).

Two in-memory indexes sit in front of the SQLite file (choose with ``index=``):

- ``"memory"`` (default, ~220 MB per million rights): every plate's rights packed in a dict,
  so a check never touches SQLite; the file stays the durable store.
- ``"filter"`` (~8 MB filter per million rights, for small devices; a third as fast for
  plates with a right): a Bloom filter over the stored hashes; a hash that is certainly
  absent costs no query, a present one is read from SQLite.

Either index lives in this object, so all writes must go through the same
``SqliteRightsCache`` (one writer per file).
"""

from __future__ import annotations

import sqlite3
import struct
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Literal, Protocol

from permits.feed import FeedRight, PlateKeyer, RightsChangesPage, RightsSnapshotPage
from permits.model import (
    NO_RIGHT,
    ChangeOp,
    Decision,
    DecisionReason,
    PermitType,
    RightKind,
    require_aware,
)
from permits.plates import is_normalised_plate, normalise_plate
from permits.rules import (
    KIND_REASON,
    MAX_GRACE_MINUTES,
    PRECEDENCE,
    SESSION_KINDS,
    ZONE_INDEPENDENT_PERMIT_TYPES,
    validate_check_args,
)
from scancar.rights.errors import CacheKeyMismatchError, FeedOrderError

SCHEMA_VERSION = "1"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
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
_INSERT = (
    "INSERT OR REPLACE INTO rights (plate_key, id, kind, permit_type, areas, start_us, end_us) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)


def to_us(at: datetime) -> int:
    """Microseconds since the epoch (exact) of an aware datetime."""
    return (at - _EPOCH) // _US


def from_us(us: int) -> datetime:
    return _EPOCH + timedelta(0, 0, us)  # positional: a little faster than microseconds=


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
_SELECT_ALL = "SELECT plate_key, id, kind, permit_type, areas, start_us, end_us FROM rights"
# (id, kind, permit_type, areas, start_us, end_us) as stored
_Row = tuple[str, int, int | None, str, int, int | None]
_OPEN_END = (1 << 63) - 1  # later than any datetime, so "open-ended runs longest" is plain >
_NO_TYPE = 255
_RECORD = struct.Struct("<qqBBIH")  # start, end (or _OPEN_END), kind, type, area set, id length
_RECORD_SIZE = _RECORD.size

# The decision rules of ``permits.rules`` as small integers, indexed by the stored codes.
_RANK: dict[DecisionReason, int] = {reason: i for i, reason in enumerate(PRECEDENCE)}
_KIND_RANK: tuple[int, ...] = tuple(_RANK[KIND_REASON[kind]] for kind in _KINDS)
_IS_SESSION: tuple[bool, ...] = tuple(kind in SESSION_KINDS for kind in _KINDS)
_LATE_RANK = _RANK[DecisionReason.LATE_PAYMENT_WITHIN_GRACE]
_NO_EXCLUDED_TYPES: frozenset[int] = frozenset()


def _excluded_type_codes(allowed_permit_types: Iterable[PermitType]) -> frozenset[int]:
    """Codes of the permit types whose rights do not count where ``allowed_permit_types`` are
    accepted (``match_reason``: zone-independent types always count)."""
    allowed = frozenset(allowed_permit_types)
    return frozenset(
        code
        for code, ptype in enumerate(_TYPES)
        if ptype not in ZONE_INDEPENDENT_PERMIT_TYPES and ptype not in allowed
    )


# The best right found so far: (rank of its reason, end in microseconds, id).
_Best = tuple[int, int, str]


def _best_record(
    records: bytes,
    area_sets: list[frozenset[str]],
    area_code: str,
    at_us: int,
    until_us: int,
    excluded_types: frozenset[int],
    best: _Best | None,
) -> _Best | None:
    """The best of ``best`` and the rights in ``records`` for a check, by the rules of
    ``permits.rules`` (``match_reason``, then ``_beats``), worked out on the packed records in
    integer microseconds so that no datetime, enum or right object is made per record.

    A record counts when it covers ``area_code``, its permit type is not excluded, and either
    ``start <= at <= end`` (the rank of its kind) or it is a session that starts after ``at``
    but no later than ``at + grace = until`` (late payment). The lower rank wins, then the
    later end (open-ended is stored as ``_OPEN_END``, later than any time), then the smaller
    id. ``test_cache_decides_like_rules_on_crowded_plates`` holds this to ``permits.rules``.
    """
    offset, size, unpack = 0, len(records), _RECORD.unpack_from
    while offset < size:
        start_us, end_us, kind, ptype, area, id_len = unpack(records, offset)
        offset += _RECORD_SIZE
        id_end = offset + id_len
        codes = area_sets[area]
        if (codes and area_code not in codes) or ptype in excluded_types:
            offset = id_end
            continue
        if start_us <= at_us <= end_us:
            rank = _KIND_RANK[kind]
        elif _IS_SESSION[kind] and at_us < start_us <= until_us:
            rank = _LATE_RANK
        else:
            offset = id_end
            continue
        if best is None or rank < best[0] or (rank == best[0] and end_us > best[1]):
            best = (rank, end_us, records[offset:id_end].decode())
        elif rank == best[0] and end_us == best[1]:
            right_id = records[offset:id_end].decode()
            if right_id < best[2]:
                best = (rank, end_us, right_id)
        offset = id_end
    return best


class _AreaSets:
    """Interned area-code sets: many rights share a handful of them."""

    def __init__(self) -> None:
        self.sets: list[frozenset[str]] = []
        self.known: dict[str, int] = {}

    def index(self, area_text: str) -> int:
        i = self.known.get(area_text)
        if i is None:
            i = self.known[area_text] = len(self.sets)
            self.sets.append(frozenset(area_text.split(",")) if area_text else frozenset())
        return i

    def pack(self, row: _Row) -> bytes:
        """One stored row as a packed record (``_RECORD`` + the id in UTF-8)."""
        right_id, kind, ptype, area_text, start_us, end_us = row
        encoded = right_id.encode()
        return (
            _RECORD.pack(
                start_us,
                _OPEN_END if end_us is None else end_us,
                kind,
                _NO_TYPE if ptype is None else ptype,
                self.index(area_text),
                len(encoded),
            )
            + encoded
        )


class _RightsIndex(Protocol):
    areas: _AreaSets

    @property
    def records_of(self) -> Callable[[bytes], bytes | None]:
        """The packed records of a plate hash, or None when the cache holds no right for it."""
        ...

    def refresh(self, digests: Iterable[bytes]) -> None: ...
    @property
    def size_bytes(self) -> int: ...


class _FilterIndex:
    """Bloom filter in memory, rights read from SQLite."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self.areas = _AreaSets()
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

    @property
    def records_of(self) -> Callable[[bytes], bytes | None]:
        return self._records_of

    def _records_of(self, digest: bytes) -> bytes | None:
        if not self._filter.might_contain(digest):
            return None
        rows = self._conn.execute(_SELECT_PLATE, (digest,)).fetchall()
        return b"".join(map(self.areas.pack, rows)) if rows else None

    @property
    def size_bytes(self) -> int:
        return self._filter.size_bytes


class _MemoryIndex:
    """Every plate's rights packed into one bytes value of a dict keyed by the hash."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self.areas = _AreaSets()
        self._plates: dict[bytes, bytes] = {}
        self._bytes = 0
        # ``_AreaSets.pack`` inlined: opening is this loop, once per right.
        plates, area_index, area_of = self._plates, self.areas.index, self.areas.known.get
        pack = _RECORD.pack
        for digest, right_id, kind, ptype, area_text, start_us, end_us in conn.execute(_SELECT_ALL):
            encoded = right_id.encode()
            area = area_of(area_text)
            record = (
                pack(
                    start_us,
                    _OPEN_END if end_us is None else end_us,
                    kind,
                    _NO_TYPE if ptype is None else ptype,
                    area_index(area_text) if area is None else area,
                    len(encoded),
                )
                + encoded
            )
            previous = plates.get(digest)
            plates[digest] = record if previous is None else previous + record
        self._bytes = sum(map(len, plates.values()))

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
            self._store(digest, [self.areas.pack(row) for row in rows])

    @property
    def records_of(self) -> Callable[[bytes], bytes | None]:
        return self._plates.get

    @property
    def size_bytes(self) -> int:
        """Payload bytes held (hash keys and Python object overhead not included)."""
        return self._bytes + 32 * len(self._plates)
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
        self._excluded_by_allowed: dict[frozenset[PermitType], frozenset[int]] = {}
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
        if not (
            at.__class__ is datetime
            and at.tzinfo is UTC
            and grace_minutes.__class__ is int
            and 0 <= grace_minutes <= MAX_GRACE_MINUTES
        ):  # anything but the usual UTC time and whole minutes gets the full check
            validate_check_args(at, grace_minutes)
        at_us = (at - _EPOCH) // _US
        until_us = at_us + grace_minutes * 60_000_000
        excluded = self._excluded_types(allowed_permit_types)
        keyer = self._keyer
        digest = keyer.digest(plate)
        with self._lock:
            index = self._index
            records_of, area_sets = index.records_of, index.areas.sets
            records = records_of(digest)
            if records is not None:
                best = _best_record(records, area_sets, area_code, at_us, until_us, excluded, None)
                if best is not None:
                    rank, end_us, right_id = best
                    # allowed, reason, right_id, valid_until (positional: a little faster)
                    return Decision(
                        True,
                        PRECEDENCE[rank],
                        right_id,
                        None if end_us == _OPEN_END else from_us(end_us),
                    )
            best = None
            for records in map(records_of, keyer.lookalike_digests(plate)):
                if records is not None:
                    best = _best_record(
                        records, area_sets, area_code, at_us, until_us, excluded, best
                    )
        if best is None:
            return NO_RIGHT
        return Decision(False, DecisionReason.LOOKALIKE_RIGHT, best[2])

    def _excluded_types(self, allowed_permit_types: Iterable[PermitType] | None) -> frozenset[int]:
        if allowed_permit_types is None:
            return _NO_EXCLUDED_TYPES
        if not isinstance(allowed_permit_types, frozenset):
            return _excluded_type_codes(allowed_permit_types)
        excluded = self._excluded_by_allowed.get(allowed_permit_types)
        if excluded is None:
            if len(self._excluded_by_allowed) >= 64:  # only a handful of zone kinds exist
                self._excluded_by_allowed.clear()
            excluded = _excluded_type_codes(allowed_permit_types)
            self._excluded_by_allowed[allowed_permit_types] = excluded
        return excluded

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
