"""Deleting evidence: the rows in the caller's transaction, the files after it commits.

A failure between the two leaves at worst an unreferenced file (the purge job removes those),
never a row pointing at a missing file.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, col, select

from api.evidence.store import EvidenceStore
from api.hits.db import EvidenceRow

LOOKUP_BATCH = 500


def remove_evidence_rows(session: Session, hit_id: int) -> set[str]:
    """Delete a hit's evidence rows; return the file hashes they pointed at."""
    rows = session.exec(select(EvidenceRow).where(EvidenceRow.hit_id == hit_id)).all()
    hashes = {r.sha256 for r in rows}
    for r in rows:
        session.delete(r)
    return hashes


def delete_unreferenced_files(session: Session, store: EvidenceStore, hashes: Iterable[str]) -> int:
    """After commit: delete each file no evidence row references any more. Returns the count.

    Looks the hashes up in batches of ``LOOKUP_BATCH`` (one query each)."""
    todo = sorted(set(hashes))
    removed = 0
    for start in range(0, len(todo), LOOKUP_BATCH):
        batch = todo[start : start + LOOKUP_BATCH]
        used = set(
            session.exec(select(EvidenceRow.sha256).where(col(EvidenceRow.sha256).in_(batch))).all()
        )
        removed += sum(1 for digest in batch if digest not in used and store.delete(digest))
    return removed
