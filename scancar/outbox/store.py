"""``SqliteOutbox``: the car's durable queue of suspects (SQLite in WAL mode + evidence files).

Layout under ``directory``::

    outbox.sqlite3            rows: one per observation (pending / sent / dead) + dead_letters
    evidence/<uuid>/<name>    evidence bytes of pending and dead observations
    evidence/<uuid>.<r>.tmp/  a put in progress (deleted at start-up if a crash left it)

Durability protocol of ``put`` (the commit point is the row's COMMIT):

1. write every evidence file into ``evidence/<uuid>.<r>.tmp/``, fsync each file and the
   directory (without holding the lock, so the uploader is not blocked);
2. rename the directory to ``evidence/<uuid>``, fsync ``evidence/``;
3. insert the row (metadata JSON exactly as it will be sent) in one transaction; SQLite with
   ``synchronous=FULL`` fsyncs the WAL before COMMIT returns.

A crash before 3 leaves files without a row: they are deleted at the next start (the caller's
``put`` never returned, so nothing was promised). A row whose files are missing at start-up
(disk trouble, manual deletion) goes to the dead-letter table with reason ``evidence_missing``:
never silently lost. ``mark_sent`` commits the row as sent, then deletes the evidence; a crash
in between is finished at the next start (evidence of sent rows is deleted).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import secrets
import shutil
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

from scancar.outbox.errors import (
    DuplicateObservationError,
    EvidenceMismatchError,
    OutboxConfigError,
    OutboxFullError,
)
from scancar.outbox.model import (
    DeadLetter,
    EvidenceFile,
    ItemState,
    OutboxItem,
    OutboxStats,
)
from scancar.wire import ObservationMetadata, ObservationReceipt

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Alert = Callable[[str], None]

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    observation_id TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL,
    metadata_json BLOB,
    content_sha256 TEXT NOT NULL,
    evidence_json TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    sent_at TEXT,
    receipt_json TEXT
);
CREATE INDEX IF NOT EXISTS outbox_state_seq ON outbox (state, seq);
CREATE TABLE IF NOT EXISTS dead_letters (
    observation_id TEXT PRIMARY KEY,
    status INTEGER,
    reason TEXT NOT NULL,
    detail TEXT NOT NULL,
    at TEXT NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class ReconcileReport:
    """What start-up found after an unclean stop."""

    orphan_dirs_deleted: int
    sent_evidence_deleted: int
    missing_to_dead: int


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_durably(path: Path, data: bytes) -> None:
    with path.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _create_database(path: Path) -> None:
    """Make the database under a temporary name with its schema, then link it into place: a
    reader never sees ``outbox.sqlite3`` without its tables (nor does a crash leave one)."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        con = sqlite3.connect(tmp, isolation_level=None)
        try:
            con.execute("PRAGMA journal_mode=WAL")
            con.executescript(SCHEMA)
        finally:
            con.close()
        with tmp.open("rb+") as fh:
            os.fsync(fh.fileno())
        with contextlib.suppress(FileExistsError):  # made meanwhile: theirs is complete too
            os.link(tmp, path)
        _fsync_dir(path.parent)
    finally:
        for leftover in (tmp, tmp.with_name(tmp.name + "-wal"), tmp.with_name(tmp.name + "-shm")):
            leftover.unlink(missing_ok=True)


def content_sha256(metadata_json: bytes, evidence: Mapping[str, bytes]) -> str:
    """Identity of an observation's full content (metadata bytes and every evidence file)."""
    digest = hashlib.sha256(metadata_json)
    for name in sorted(evidence):
        digest.update(b"\0" + name.encode() + b"\0" + hashlib.sha256(evidence[name]).digest())
    return digest.hexdigest()


class SqliteOutbox:
    """Durable outbox; safe to share between the pipeline thread and the uploader thread."""

    def __init__(
        self,
        directory: str | Path,
        quota_bytes: int,
        *,
        resume_ratio: float = 0.9,
        min_free_bytes: int = 0,
        on_alert: Alert | None = None,
        clock: Clock = _utcnow,
    ) -> None:
        if quota_bytes <= 0:
            raise OutboxConfigError("quota_bytes", quota_bytes, "a positive number of bytes")
        if not 0.0 < resume_ratio <= 1.0:
            raise OutboxConfigError("resume_ratio", resume_ratio, "in (0, 1]")
        if min_free_bytes < 0:
            raise OutboxConfigError("min_free_bytes", min_free_bytes, "0 or more bytes")
        self.directory = Path(directory)
        self.quota_bytes = quota_bytes
        self.resume_ratio = resume_ratio
        self.min_free_bytes = min_free_bytes
        self._on_alert = on_alert
        self._clock = clock
        self._lock = threading.RLock()
        self._accepting = True
        self.evidence_dir = self.directory / "evidence"
        self.evidence_dir.mkdir(parents=True, exist_ok=True)
        db_path = self.directory / "outbox.sqlite3"
        if not db_path.exists():
            _create_database(db_path)
        self._db = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA busy_timeout=10000")
        self._db.executescript(SCHEMA)
        self.last_reconcile = self.reconcile()

    # ------------------------------------------------------------------ plumbing

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> SqliteOutbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _alert(self, message: str) -> None:
        log.error("outbox alert: %s", message)
        if self._on_alert is not None:
            self._on_alert(message)

    def _item_dir(self, observation_id: UUID) -> Path:
        return self.evidence_dir / str(observation_id)

    # ------------------------------------------------------------------ start-up

    def reconcile(self) -> ReconcileReport:
        """Repair what a crash may have left; see the module docstring."""
        with self._lock:
            rows = dict(self._db.execute("SELECT observation_id, state FROM outbox").fetchall())
            orphans = sent_deleted = 0
            for entry in self.evidence_dir.iterdir():
                state = rows.get(entry.name)
                if state in (ItemState.PENDING, ItemState.DEAD):
                    continue
                shutil.rmtree(entry, ignore_errors=True) if entry.is_dir() else entry.unlink()
                if state == ItemState.SENT:
                    sent_deleted += 1
                else:
                    orphans += 1
            if orphans or sent_deleted:
                _fsync_dir(self.evidence_dir)
                log.warning(
                    "outbox start-up: deleted %d orphan evidence dirs (puts that never committed) "
                    "and %d leftovers of sent observations",
                    orphans,
                    sent_deleted,
                )
            missing = 0
            for item in self._pending():
                lost = [
                    e.name
                    for e in item.evidence
                    if not e.path.is_file() or e.path.stat().st_size != e.size
                ]
                if lost:
                    missing += 1
                    self.dead_letter(
                        item.observation_id,
                        None,
                        "evidence_missing",
                        f"evidence files missing or truncated at start-up: {', '.join(lost)}",
                    )
            return ReconcileReport(orphans, sent_deleted, missing)

    # ------------------------------------------------------------------ writing

    def put(self, metadata: ObservationMetadata, evidence: Mapping[str, bytes]) -> None:
        """Store one suspect durably; returns only once it survives a power cut.

        Putting the same observation again with identical content is a no-op; with different
        content it raises ``DuplicateObservationError``.
        """
        oid = metadata.observation_id
        self._check_evidence(metadata, evidence)
        metadata_json = metadata.model_dump_json().encode()
        content = content_sha256(metadata_json, evidence)
        size = len(metadata_json) + sum(len(b) for b in evidence.values())
        with self._lock:
            if self._is_known(oid, content):
                return
            self._check_quota(size)
        # write the files without holding the lock: the uploader keeps draining meanwhile
        final = self._item_dir(oid)
        tmp = final.with_name(f"{final.name}.{secrets.token_hex(4)}.tmp")
        tmp.mkdir()
        try:
            for name, data in evidence.items():
                _write_durably(tmp / name, data)
            _fsync_dir(tmp)
            with self._lock:
                if self._is_known(oid, content):  # a concurrent put of the same suspect
                    return
                if final.exists():  # an orphan of an earlier crashed put of the same id
                    shutil.rmtree(final)
                tmp.rename(final)
                _fsync_dir(self.evidence_dir)
                self._insert(oid, metadata_json, content, evidence, size)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)

    def _is_known(self, oid: UUID, content: str) -> bool:
        existing = self._db.execute(
            "SELECT content_sha256 FROM outbox WHERE observation_id = ?", (str(oid),)
        ).fetchone()
        if existing is None:
            return False
        if existing[0] == content:
            return True
        raise DuplicateObservationError(oid)

    def _insert(
        self,
        oid: UUID,
        metadata_json: bytes,
        content: str,
        evidence: Mapping[str, bytes],
        size: int,
    ) -> None:
        files = [
            {"name": n, "sha256": hashlib.sha256(b).hexdigest(), "size": len(b)}
            for n, b in evidence.items()
        ]
        with self._tx() as db:
            db.execute(
                "INSERT INTO outbox (observation_id, state, metadata_json, content_sha256, "
                "evidence_json, size_bytes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    str(oid),
                    ItemState.PENDING.value,
                    metadata_json,
                    content,
                    json.dumps(files),
                    size,
                    self._clock().isoformat(),
                ),
            )

    @staticmethod
    def _check_evidence(metadata: ObservationMetadata, evidence: Mapping[str, bytes]) -> None:
        oid = metadata.observation_id
        declared = {e.name: e.sha256 for e in metadata.evidence}
        if set(declared) != set(evidence):
            raise EvidenceMismatchError(
                oid,
                f"evidence names {sorted(evidence)} must equal the metadata's {sorted(declared)}",
            )
        for name, data in evidence.items():
            if Path(name).name != name or name.endswith(".tmp"):
                raise EvidenceMismatchError(oid, f"evidence name {name!r} is not a plain name")
            actual = hashlib.sha256(data).hexdigest()
            if actual != declared[name]:
                raise EvidenceMismatchError(
                    oid, f"sha256 of {name!r} is {actual}, metadata says {declared[name]}"
                )

    def _bytes_queued(self) -> int:
        row = self._db.execute(
            "SELECT COALESCE(SUM(size_bytes), 0) FROM outbox WHERE state IN (?, ?)",
            (ItemState.PENDING.value, ItemState.DEAD.value),
        ).fetchone()
        return int(row[0])

    def _check_quota(self, size: int) -> None:
        used = self._bytes_queued()
        limit = self.quota_bytes if self._accepting else int(self.quota_bytes * self.resume_ratio)
        reason = "quota"
        full = used + size > limit
        if not full and self.min_free_bytes:
            free = shutil.disk_usage(self.directory).free
            if free - size < self.min_free_bytes:
                full, reason = True, f"only {free} bytes free on disk"
        if full:
            if self._accepting:
                self._accepting = False
                self._alert(
                    f"outbox full ({reason}): {used} bytes queued, quota {self.quota_bytes}; "
                    "refusing new suspects until the backlog drains"
                )
            raise OutboxFullError(size, used, self.quota_bytes, reason)
        if not self._accepting:
            self._accepting = True
            log.warning("outbox accepting suspects again: %d bytes queued", used)

    # ------------------------------------------------------------------ reading

    def _row_to_item(self, row: tuple[int, str, bytes, str, str, int]) -> OutboxItem:
        seq, oid, metadata_json, evidence_json, created_at, attempts = row
        directory = self._item_dir(UUID(oid))
        files = tuple(
            EvidenceFile(f["name"], directory / f["name"], f["sha256"], int(f["size"]))
            for f in json.loads(evidence_json)
        )
        return OutboxItem(
            seq=seq,
            observation_id=UUID(oid),
            metadata_json=bytes(metadata_json),
            evidence=files,
            created_at=datetime.fromisoformat(created_at),
            attempts=attempts,
        )

    def _pending(self, limit: int = -1) -> list[OutboxItem]:
        rows = self._db.execute(
            "SELECT seq, observation_id, metadata_json, evidence_json, created_at, attempts "
            "FROM outbox WHERE state = ? ORDER BY seq LIMIT ?",
            (ItemState.PENDING.value, limit),
        ).fetchall()
        return [self._row_to_item(r) for r in rows]

    def next_batch(self, limit: int = 10) -> list[OutboxItem]:
        """The oldest pending suspects, in the order they were put."""
        with self._lock:
            return self._pending(limit)

    def state_of(self, observation_id: UUID) -> ItemState | None:
        with self._lock:
            row = self._db.execute(
                "SELECT state FROM outbox WHERE observation_id = ?", (str(observation_id),)
            ).fetchone()
        return None if row is None else ItemState(row[0])

    def backlog(self) -> int:
        with self._lock:
            row = self._db.execute(
                "SELECT COUNT(*) FROM outbox WHERE state = ?", (ItemState.PENDING.value,)
            ).fetchone()
        return int(row[0])

    def oldest_pending_at(self) -> datetime | None:
        """When the oldest suspect still waiting was put (None: nothing waits)."""
        with self._lock:
            row = self._db.execute(
                "SELECT created_at FROM outbox WHERE state = ? ORDER BY seq LIMIT 1",
                (ItemState.PENDING.value,),
            ).fetchone()
        return None if row is None else datetime.fromisoformat(row[0])

    def stats(self) -> OutboxStats:
        with self._lock:
            counts = dict(
                self._db.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state").fetchall()
            )
            return OutboxStats(
                pending=int(counts.get(ItemState.PENDING.value, 0)),
                sent=int(counts.get(ItemState.SENT.value, 0)),
                dead=int(counts.get(ItemState.DEAD.value, 0)),
                bytes_queued=self._bytes_queued(),
                quota_bytes=self.quota_bytes,
                is_accepting=self._accepting,
            )

    def dead_letters(self) -> list[DeadLetter]:
        with self._lock:
            rows = self._db.execute(
                "SELECT observation_id, status, reason, detail, at FROM dead_letters ORDER BY at"
            ).fetchall()
        return [
            DeadLetter(UUID(r[0]), r[1], r[2], r[3], datetime.fromisoformat(r[4])) for r in rows
        ]

    # ------------------------------------------------------------------ outcomes

    def record_attempt(self, observation_id: UUID, error: str) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ? "
                "WHERE observation_id = ?",
                (error[:500], str(observation_id)),
            )

    def mark_sent(self, observation_id: UUID, receipt: ObservationReceipt | None) -> None:
        """The backend acknowledged: forget the metadata and delete the evidence (privacy)."""
        with self._tx() as db:
            db.execute(
                "UPDATE outbox SET state = ?, metadata_json = NULL, sent_at = ?, "
                "receipt_json = ?, attempts = attempts + 1, last_error = NULL "
                "WHERE observation_id = ? AND state = ?",
                (
                    ItemState.SENT.value,
                    self._clock().isoformat(),
                    None if receipt is None else receipt.model_dump_json(),
                    str(observation_id),
                    ItemState.PENDING.value,
                ),
            )
        directory = self._item_dir(observation_id)
        if directory.exists():
            shutil.rmtree(directory)
            _fsync_dir(self.evidence_dir)

    def dead_letter(
        self, observation_id: UUID, status: int | None, reason: str, detail: str = ""
    ) -> None:
        """Move a pending suspect to the dead-letter table; its evidence is kept for review."""
        log.error(
            "outbox dead letter %s: status %s, %s: %s", observation_id, status, reason, detail
        )
        with self._tx() as db:
            moved = db.execute(
                "UPDATE outbox SET state = ?, last_error = ? "
                "WHERE observation_id = ? AND state = ?",
                (
                    ItemState.DEAD.value,
                    f"{status} {reason}",
                    str(observation_id),
                    ItemState.PENDING.value,
                ),
            )
            if moved.rowcount == 0:
                log.warning("outbox: %s is not pending; not dead-lettered", observation_id)
                return
            db.execute(
                "INSERT OR REPLACE INTO dead_letters (observation_id, status, reason, detail, at) "
                "VALUES (?, ?, ?, ?, ?)",
                (str(observation_id), status, reason, detail[:2000], self._clock().isoformat()),
            )

    def purge_dead(self, observation_id: UUID) -> None:
        """Operator action after review: delete a dead letter's evidence (the record stays)."""
        directory = self._item_dir(observation_id)
        with self._tx() as db:
            db.execute(
                "UPDATE outbox SET metadata_json = NULL, size_bytes = 0 "
                "WHERE observation_id = ? AND state = ?",
                (str(observation_id), ItemState.DEAD.value),
            )
        if directory.exists() and self.state_of(observation_id) == ItemState.DEAD:
            shutil.rmtree(directory)
            _fsync_dir(self.evidence_dir)
