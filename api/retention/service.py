"""The purge: personal data does not outlive its term.

- evidence of dismissed and rejected hits: deleted ``retention_rejected_evidence_hours`` after
  the decision (default 24 h);
- rights checks of hits: deleted after ``retention_rights_check_days`` (default 7; a fine keeps
  the summary it needs for the evidence pack in its own snapshot);
- the rights check log (``GET /rights/check``): the plate and position of a not-allowed check
  after ``retention_unallowed_check_hours`` (default 24; allowed checks never store them), the
  rows after ``retention_rights_check_days``;
- dismissed and rejected hits: plate and raw metadata removed after
  ``retention_closed_hit_days`` (default 7; status, zone, times and reasons stay for reports);
- closed fines (paid, annulled, objection upheld, sent to collection): plate, objection text and
  evidence removed ``retention_closed_fine_days`` after the objection term ends, or after the
  fine was closed if that is later (default 91);
  amounts stay for statistics;
- evidence files no evidence row references (left by a crash between commit and delete).

Every step is a conditional UPDATE or a DELETE by id, so several server processes may purge at
once. Each real run writes one audit row with the counts (never plates).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from api.audit.service import record
from api.db import utcnow
from api.evidence.service import delete_unreferenced_files
from api.evidence.store import EvidenceStore
from api.fines.db import FineRow
from api.fines.rules import CLOSED_STATUSES
from api.hits.db import EvidenceRow, HitEventRow, HitRightsCheckRow, HitRow
from api.hits.model import HitStatus
from api.rights.checklog import purge_check_log
from api.settings import BackendSettings

log = logging.getLogger(__name__)

ANONYMOUS_PLATE = ""  # hits.plate is NOT NULL; an empty plate marks an anonymised hit
ORPHAN_MIN_AGE_S = 3600  # a file younger than this may belong to an upload in progress
DISCARDED = (HitStatus.DISMISSED.value, HitStatus.REJECTED.value)


@dataclass(frozen=True, slots=True)
class PurgeReport:
    dry_run: bool
    evidence_hits: int = 0  # dismissed/rejected hits whose evidence was removed
    evidence_rows: int = 0
    rights_checks: int = 0
    check_log_anonymised: int = 0  # not-allowed rights checks whose plate went
    check_log_deleted: int = 0
    hits_anonymised: int = 0
    fines_anonymised: int = 0
    files_deleted: int = 0

    def summary(self) -> str:
        return " ".join(f"{k}={v}" for k, v in asdict(self).items())


def _decided_or_updated(now_minus: datetime):  # type: ignore[no-untyped-def]
    return or_(
        col(HitRow.decided_at) <= now_minus,
        col(HitRow.decided_at).is_(None) & (col(HitRow.updated_at) <= now_minus),
    )


def _remove_hit_evidence(session: Session, hit_ids: list[int]) -> tuple[int, set[str]]:
    if not hit_ids:
        return 0, set()
    rows = session.exec(select(EvidenceRow).where(col(EvidenceRow.hit_id).in_(hit_ids))).all()
    hashes = {r.sha256 for r in rows}
    result = session.execute(delete(EvidenceRow).where(col(EvidenceRow.hit_id).in_(hit_ids)))
    return int(result.rowcount or 0), hashes  # type: ignore[attr-defined]


def _anonymise_hits(session: Session, hit_ids: list[int], now: datetime) -> int:
    """Plate, raw metadata and plate mentions in the hit history go; the rest stays."""
    if not hit_ids:
        return 0
    result = session.execute(
        update(HitRow)
        .where(col(HitRow.id).in_(hit_ids), col(HitRow.plate) != ANONYMOUS_PLATE)
        .values(
            plate=ANONYMOUS_PLATE,
            original_plate=None,
            metadata_json="{}",
            decision_note=None,
            updated_at=now,
        )
    )
    session.execute(
        update(HitEventRow)
        .where(col(HitEventRow.hit_id).in_(hit_ids), col(HitEventRow.action) == "correct_plate")
        .values(detail="(anonymised)")
    )
    session.execute(delete(HitRightsCheckRow).where(col(HitRightsCheckRow.hit_id).in_(hit_ids)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def purge(
    session: Session,
    store: EvidenceStore,
    settings: BackendSettings,
    *,
    now: datetime | None = None,
    dry_run: bool = False,
) -> PurgeReport:
    """One purge pass in the caller's session; commits (unless ``dry_run``)."""
    now = now or utcnow()
    evidence_cut = now - timedelta(hours=settings.retention_rejected_evidence_hours)
    checks_cut = now - timedelta(days=settings.retention_rights_check_days)
    hits_cut = now - timedelta(days=settings.retention_closed_hit_days)
    fines_cut = now - timedelta(days=settings.retention_closed_fine_days)

    # 1. evidence of dismissed/rejected hits
    ev_hits = [
        i
        for i in session.exec(
            select(HitRow.id).where(
                col(HitRow.status).in_(DISCARDED), _decided_or_updated(evidence_cut)
            )
        ).all()
        if i is not None
    ]
    ev_hits_with_rows = sorted(
        set(
            session.exec(
                select(EvidenceRow.hit_id).where(col(EvidenceRow.hit_id).in_(ev_hits))
            ).all()
        )
    )

    # 2. rights-check log rows
    old_checks = [
        i
        for i in session.exec(
            select(HitRightsCheckRow.id).where(col(HitRightsCheckRow.at) <= checks_cut)
        ).all()
        if i is not None
    ]

    # 3. plates of dismissed/rejected hits
    anon_hits = [
        i
        for i in session.exec(
            select(HitRow.id).where(
                col(HitRow.status).in_(DISCARDED),
                HitRow.plate != ANONYMOUS_PLATE,
                _decided_or_updated(hits_cut),
            )
        ).all()
        if i is not None
    ]

    # 4. closed fines after the objection term + retention
    closed = [s.value for s in CLOSED_STATUSES]
    candidates = session.exec(
        select(FineRow).where(
            col(FineRow.status).in_(closed),
            col(FineRow.anonymised_at).is_(None),
            col(FineRow.closed_at).is_not(None),
        )
    ).all()
    due_fines = [
        f
        for f in candidates
        if max(d for d in (f.objection_deadline, f.closed_at, f.offence_at) if d) <= fines_cut
    ]

    # 5. the rights check log (api.rights.checklog)
    check_log = purge_check_log(session, settings, now, dry_run=dry_run)

    if dry_run:
        session.rollback()
        return PurgeReport(
            dry_run=True,
            check_log_anonymised=check_log.anonymised,
            check_log_deleted=check_log.deleted,
            evidence_hits=len(ev_hits_with_rows),
            rights_checks=len(old_checks),
            hits_anonymised=len(anon_hits),
            fines_anonymised=len(due_fines),
        )

    hashes: set[str] = set()
    n_ev_rows, h = _remove_hit_evidence(session, ev_hits_with_rows)
    hashes |= h
    if ev_hits_with_rows:
        session.execute(
            update(HitRow)
            .where(col(HitRow.id).in_(ev_hits_with_rows), col(HitRow.evidence_deleted_at).is_(None))
            .values(evidence_deleted_at=now)
        )
    n_checks = 0
    if old_checks:
        result = session.execute(
            delete(HitRightsCheckRow).where(col(HitRightsCheckRow.id).in_(old_checks))
        )
        n_checks = int(result.rowcount or 0)  # type: ignore[attr-defined]
    n_hits = _anonymise_hits(session, anon_hits, now)

    n_fines = 0
    fine_hits: list[int] = []
    for f in due_fines:
        result = session.execute(
            update(FineRow)
            .where(col(FineRow.id) == f.id, col(FineRow.anonymised_at).is_(None))
            .values(plate=None, objection_text=None, anonymised_at=now, evidence_json="{}")
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            n_fines += 1
            fine_hits.append(f.hit_id)
    n_rows2, h = _remove_hit_evidence(session, fine_hits)
    hashes |= h
    n_hits += _anonymise_hits(session, fine_hits, now)
    if fine_hits:
        session.execute(
            update(HitRow)
            .where(col(HitRow.id).in_(fine_hits), col(HitRow.evidence_deleted_at).is_(None))
            .values(evidence_deleted_at=now)
        )

    report = PurgeReport(
        dry_run=False,
        evidence_hits=len(ev_hits_with_rows),
        evidence_rows=n_ev_rows + n_rows2,
        rights_checks=n_checks,
        check_log_anonymised=check_log.anonymised,
        check_log_deleted=check_log.deleted,
        hits_anonymised=n_hits,
        fines_anonymised=n_fines,
    )
    changed = any(
        (
            report.evidence_rows,
            report.rights_checks,
            report.check_log_anonymised,
            report.check_log_deleted,
            report.hits_anonymised,
            report.fines_anonymised,
        )
    )
    if changed:
        record(
            session, None, "retention.purge", "retention", now.date().isoformat(), report.summary()
        )
    session.commit()
    files = delete_unreferenced_files(session, store, hashes)
    files += delete_orphan_files(session, store, now)
    session.rollback()
    report = PurgeReport(**{**asdict(report), "files_deleted": files})
    if changed or files:
        log.info("purge: %s", report.summary())
    return report


def delete_orphan_files(session: Session, store: EvidenceStore, now: datetime) -> int:
    """Evidence files that no evidence row references (older than an hour)."""
    root = store.root
    if not root.exists():
        return 0
    cutoff = now.timestamp() - ORPHAN_MIN_AGE_S
    removed = 0
    for path in root.glob("*/*/*"):
        name = path.name
        if len(name) != 64 or name.startswith(".") or not path.is_file():
            continue
        try:
            if path.stat().st_mtime > cutoff:
                continue
        except FileNotFoundError:
            continue
        used = session.exec(select(EvidenceRow.id).where(EvidenceRow.sha256 == name).limit(1))
        if used.first() is None and store.delete(name):
            removed += 1
    return removed


def run_purge(
    engine: Engine,
    store: EvidenceStore,
    settings: BackendSettings,
    *,
    now: datetime | None = None,
    dry_run: bool = False,
) -> PurgeReport:
    with Session(engine, expire_on_commit=False) as session:
        return purge(session, store, settings, now=now, dry_run=dry_run)
