"""The restore drill's check: every evidence row has its file, and every file still hashes to
the SHA-256 it is stored under. Files no row references are counted (crash leftovers, or files
purged after the database dump was taken)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.engine import Engine

from api.evidence.store import EvidenceStore
from api.hits.db import EvidenceRow

CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class BadEvidence:
    """An evidence row whose file is missing or no longer matches its hash."""

    hit_id: int
    name: str
    sha256: str
    problem: str  # "missing" | "hash mismatch"


@dataclass(frozen=True, slots=True)
class EvidenceCheck:
    rows: int = 0
    files: int = 0
    bytes_checked: int = 0
    hits: int = 0
    bad: tuple[BadEvidence, ...] = field(default=())
    unreferenced_files: int = 0

    @property
    def is_ok(self) -> bool:
        return not self.bad


def verify_evidence(engine: Engine, store: EvidenceStore) -> EvidenceCheck:
    """Hash every file the evidence rows name (each file once) and compare."""
    columns = EvidenceRow.__table__.c  # type: ignore[attr-defined]
    stmt = select(columns.hit_id, columns.name, columns.sha256).order_by(columns.id)
    verdicts: dict[str, str | None] = {}  # sha256 -> problem (None: good)
    bad: list[BadEvidence] = []
    rows = checked = 0
    hits: set[int] = set()
    with engine.connect() as conn:
        for hit_id, name, digest in conn.execute(stmt):
            rows += 1
            hits.add(hit_id)
            if digest not in verdicts:
                problem, size = _check_file(store, digest)
                verdicts[digest] = problem
                checked += size
            if verdicts[digest]:
                bad.append(BadEvidence(hit_id, name, digest, verdicts[digest] or ""))
    unreferenced = sum(
        1
        for path in (store.root.rglob("*") if store.root.exists() else ())
        if path.is_file() and not path.name.startswith(".tmp-") and path.name not in verdicts
    )
    return EvidenceCheck(
        rows=rows,
        files=len(verdicts),
        bytes_checked=checked,
        hits=len(hits),
        bad=tuple(bad),
        unreferenced_files=unreferenced,
    )


def _check_file(store: EvidenceStore, digest: str) -> tuple[str | None, int]:
    try:
        path = store.path_for(digest)
    except ValueError:
        return "hash mismatch", 0
    sha = hashlib.sha256()
    size = 0
    try:
        with path.open("rb") as stream:
            while block := stream.read(CHUNK):
                sha.update(block)
                size += len(block)
    except FileNotFoundError:
        return "missing", 0
    except OSError as exc:
        return f"unreadable ({exc.strerror})", 0
    return (None if sha.hexdigest() == digest else "hash mismatch"), size
