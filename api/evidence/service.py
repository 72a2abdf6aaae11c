"""Deleting evidence: the rows in the caller's transaction, the files after it commits.

A failure between the two leaves at worst an unreferenced file (the purge job removes those),
never a row pointing at a missing file.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, select

from api.evidence.store import EvidenceStore
from api.hits.db import EvidenceRow


def remove_evidence_rows(session: Session, hit_id: int) -> set[str]:
    """Delete a hit's evidence rows; return the file hashes they pointed at."""
    rows = session.exec(select(EvidenceRow).where(EvidenceRow.hit_id == hit_id)).all()
    hashes = {r.sha256 for r in rows}
    for r in rows:
        session.delete(r)
    return hashes


def delete_unreferenced_files(session: Session, store: EvidenceStore, hashes: Iterable[str]) -> int:
    """After commit: delete each file no evidence row references any more. Returns the count."""
    removed = 0
    for digest in hashes:
        still_used = session.exec(
            select(EvidenceRow.id).where(EvidenceRow.sha256 == digest).limit(1)
        ).first()
        if still_used is None and store.delete(digest):
            removed += 1
    return removed
