"""The purge: personal data does not outlive its term.

- evidence of dismissed and rejected hits: deleted ``retention_rejected_evidence_hours`` after
  the decision (default 24 h);
- rights checks of hits: deleted after ``retention_rights_check_days`` (default 7; a fine keeps
  the summary it needs for the evidence pack in its own snapshot);
- the rights check log (``GET /rights/check``): the plate and position of a not-allowed check
  after ``retention_unallowed_check_hours`` (default 24; allowed checks never store them), the
  rows after ``retention_rights_check_days`` (``api.rights.checklog``);
- dismissed and rejected hits: plate and raw metadata removed after
  ``retention_closed_hit_days`` (default 7; status, zone, times and reasons stay for reports);
- closed fines (paid, annulled, objection upheld, sent to collection): plate, objection text and
  evidence removed ``retention_closed_fine_days`` after the objection term ends, or after the
  fine was closed if that is later (default 91);
  amounts stay for statistics;
- evidence files no evidence row references (left by a crash between commit and delete).

Every step works in chunks of ``chunk_size`` rows, one transaction each: a conditional
``UPDATE ... WHERE id IN (the next chunk) RETURNING`` (or a ``DELETE``) claims the rows, so
several processes may purge at once and no row is counted twice; memory and statement size stay
bounded at any table size. The work lists are partial indexes of what is still to do, so a run
with nothing due costs a few index lookups. A run stops after ``max_seconds`` (the background
loop's budget); whatever it did is committed and the next run goes on from there. Each run
that removed something writes one audit row with its counts (never plates), also when it
stopped early or failed halfway.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import delete, exists, func, or_, text, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from api.audit.service import record
from api.db import utcnow
from api.evidence.service import delete_unreferenced_files
from api.evidence.store import EvidenceStore
from api.fines.db import FineRow
from api.fines.rules import CLOSED_STATUSES
from api.hits.db import DISCARDED_SQL, EvidenceRow, HitEventRow, HitRightsCheckRow, HitRow
from api.rights import checklog
from api.settings import BackendSettings

log = logging.getLogger(__name__)

# bulk statements: the session holds no rows of these tables to keep in step
NO_SYNC = {"synchronize_session": False}
ANONYMOUS_PLATE = ""  # hits.plate is NOT NULL; an empty plate marks an anonymised hit
ORPHAN_MIN_AGE_S = 3600  # a file younger than this may belong to an upload in progress
ORPHAN_SLICES = 16  # a background run looks at one sixteenth of the evidence folder
ORPHAN_BATCH = 500  # file names looked up per query
Orphans = Literal["all", "slice", "none"]


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
    complete: bool = True  # False: stopped at its time budget; the next run goes on

    def summary(self) -> str:
        return " ".join(f"{k}={v}" for k, v in asdict(self).items())

    @property
    def changed(self) -> bool:
        """Rows were removed or anonymised (files alone do not make an audit row)."""
        return any(
            (
                self.evidence_rows,
                self.rights_checks,
                self.check_log_anonymised,
                self.check_log_deleted,
                self.hits_anonymised,
                self.fines_anonymised,
            )
        )


@dataclass(frozen=True, slots=True)
class Cutoffs:
    evidence: datetime
    checks: datetime
    hits: datetime
    fines: datetime

    @classmethod
    def at(cls, now: datetime, settings: BackendSettings) -> Cutoffs:
        return cls(
            evidence=now - timedelta(hours=settings.retention_rejected_evidence_hours),
            checks=now - timedelta(days=settings.retention_rights_check_days),
            hits=now - timedelta(days=settings.retention_closed_hit_days),
            fines=now - timedelta(days=settings.retention_closed_fine_days),
        )


# --------------------------------------------------------------------------- work lists
# The literal predicates match the partial indexes ix_hits_purge_* / ix_fines_purge, so both
# databases plan these queries on them (a bound parameter could not prove the index applies).
def _decided_or_updated(cut: datetime) -> Any:
    return or_(
        col(HitRow.decided_at) <= cut,
        col(HitRow.decided_at).is_(None) & (col(HitRow.updated_at) <= cut),
    )


def _discarded_with_evidence(cut: datetime) -> list[Any]:
    return [
        text(DISCARDED_SQL + " AND evidence_deleted_at IS NULL"),
        _decided_or_updated(cut),
    ]


def _discarded_with_plate(cut: datetime) -> list[Any]:
    return [text(DISCARDED_SQL + " AND plate <> ''"), _decided_or_updated(cut)]


def _fines_due(cut: datetime) -> list[Any]:
    return [
        text("anonymised_at IS NULL AND closed_at IS NOT NULL"),
        col(FineRow.closed_at) <= cut,
        or_(col(FineRow.objection_deadline).is_(None), col(FineRow.objection_deadline) <= cut),
        col(FineRow.offence_at) <= cut,
        col(FineRow.status).in_(sorted(s.value for s in CLOSED_STATUSES)),
    ]


def _next_hits(where: list[Any], n: int) -> Any:
    return select(HitRow.id).where(*where).order_by(col(HitRow.id)).limit(n).scalar_subquery()


# --------------------------------------------------------------------------- one chunk each
def _remove_evidence(session: Session, hit_ids: list[int]) -> tuple[int, int, set[str]]:
    """Evidence rows of these hits (a chunk): (hits that had some, rows, file hashes)."""
    if not hit_ids:
        return 0, 0, set()
    rows = session.execute(
        delete(EvidenceRow)
        .execution_options(**NO_SYNC)
        .where(col(EvidenceRow.hit_id).in_(hit_ids))
        .returning(col(EvidenceRow.hit_id), col(EvidenceRow.sha256))
    ).all()
    return len({h for h, _ in rows}), len(rows), {s for _, s in rows}


def _anonymous(now: datetime) -> dict[str, Any]:
    """A hit without plate, raw metadata or note (status, zone, times and reasons stay)."""
    return {
        "plate": ANONYMOUS_PLATE,
        "original_plate": None,
        "metadata_json": "{}",
        "decision_note": None,
        "updated_at": now,
    }


def _forget_plates(session: Session, hit_ids: list[int]) -> None:
    """Plate mentions in the history of these (anonymised) hits, and their rights checks."""
    if not hit_ids:
        return
    session.execute(
        update(HitEventRow)
        .execution_options(**NO_SYNC)
        .where(col(HitEventRow.hit_id).in_(hit_ids), col(HitEventRow.action) == "correct_plate")
        .values(detail="(anonymised)")
    )
    session.execute(
        delete(HitRightsCheckRow)
        .execution_options(**NO_SYNC)
        .where(col(HitRightsCheckRow.hit_id).in_(hit_ids))
    )


class _Run:
    """One purge run: chunks until each work list is empty or the time is up."""

    def __init__(
        self, session: Session, store: EvidenceStore, settings: BackendSettings, now: datetime
    ) -> None:
        self.session, self.store, self.now, self.settings = session, store, now, settings
        self.cut = Cutoffs.at(now, settings)
        self.chunk = settings.chunk_size
        self.report = PurgeReport(dry_run=False)

    def add(self, **counts: int) -> None:
        fields = asdict(self.report)
        self.report = replace(self.report, **{k: fields[k] + v for k, v in counts.items()})

    def drain(self, step: Callable[[], int], deadline: float) -> bool:
        """Run ``step`` (one chunk, committed) until it finds nothing; False when out of time."""
        while step():
            if time.monotonic() > deadline:
                return False
        return True

    def _files_after_commit(self, hashes: set[str]) -> None:
        if hashes:
            self.add(files_deleted=delete_unreferenced_files(self.session, self.store, hashes))
            self.session.rollback()

    def discarded_evidence(self) -> int:
        ids = list(
            self.session.execute(
                update(HitRow)
                .execution_options(**NO_SYNC)
                .where(
                    col(HitRow.id).in_(
                        _next_hits(_discarded_with_evidence(self.cut.evidence), self.chunk)
                    ),
                    col(HitRow.evidence_deleted_at).is_(None),
                )
                .values(evidence_deleted_at=self.now)
                .returning(col(HitRow.id))
            ).scalars()
        )
        hits, rows, hashes = _remove_evidence(self.session, ids)
        self.session.commit()
        self.add(evidence_hits=hits, evidence_rows=rows)
        self._files_after_commit(hashes)
        return len(ids)

    def rights_checks(self) -> int:
        subq = (
            select(HitRightsCheckRow.id)
            .where(col(HitRightsCheckRow.at) <= self.cut.checks)
            .order_by(col(HitRightsCheckRow.id))
            .limit(self.chunk)
            .scalar_subquery()
        )
        result = self.session.execute(
            delete(HitRightsCheckRow)
            .execution_options(**NO_SYNC)
            .where(col(HitRightsCheckRow.id).in_(subq))
        )
        self.session.commit()
        n = int(result.rowcount or 0)  # type: ignore[attr-defined]
        self.add(rights_checks=n)
        return n

    def check_log_plates(self) -> int:
        n = checklog.thin_chunk(self.session, self.settings, self.now, self.chunk)
        self.session.commit()
        self.add(check_log_anonymised=n)
        return n

    def check_log_rows(self) -> int:
        n = checklog.delete_chunk(self.session, self.settings, self.now, self.chunk)
        self.session.commit()
        self.add(check_log_deleted=n)
        return n

    def discarded_plates(self) -> int:
        ids = list(
            self.session.execute(
                update(HitRow)
                .execution_options(**NO_SYNC)
                .where(
                    col(HitRow.id).in_(
                        _next_hits(_discarded_with_plate(self.cut.hits), self.chunk)
                    ),
                    col(HitRow.plate) != ANONYMOUS_PLATE,
                )
                .values(**_anonymous(self.now))
                .returning(col(HitRow.id))
            ).scalars()
        )
        _forget_plates(self.session, ids)
        self.session.commit()
        self.add(hits_anonymised=len(ids))
        return len(ids)

    def closed_fines(self) -> int:
        subq = (
            select(FineRow.id)
            .where(*_fines_due(self.cut.fines))
            .order_by(col(FineRow.closed_at), col(FineRow.id))
            .limit(self.chunk)
            .scalar_subquery()
        )
        hit_ids = list(
            self.session.execute(
                update(FineRow)
                .execution_options(**NO_SYNC)
                .where(col(FineRow.id).in_(subq), col(FineRow.anonymised_at).is_(None))
                .values(plate=None, objection_text=None, anonymised_at=self.now, evidence_json="{}")
                .returning(col(FineRow.hit_id))
            ).scalars()
        )
        _, rows, hashes = _remove_evidence(self.session, hit_ids)
        if hit_ids:  # the fine's hit: plate and photos go with it
            self.session.execute(
                update(HitRow)
                .execution_options(**NO_SYNC)
                .where(col(HitRow.id).in_(hit_ids))
                .values(
                    **_anonymous(self.now),
                    evidence_deleted_at=func.coalesce(HitRow.evidence_deleted_at, self.now),
                )
            )
        _forget_plates(self.session, hit_ids)
        self.session.commit()
        self.add(fines_anonymised=len(hit_ids), evidence_rows=rows, hits_anonymised=len(hit_ids))
        self._files_after_commit(hashes)
        return len(hit_ids)


def count_due(session: Session, settings: BackendSettings, now: datetime) -> PurgeReport:
    """What a purge at ``now`` would remove (counts over the partial indexes; no changes)."""
    cut = Cutoffs.at(now, settings)

    def count(stmt: Any) -> int:
        return int(session.execute(stmt).scalar_one())

    has_evidence = exists().where(col(EvidenceRow.hit_id) == col(HitRow.id))
    check_log = checklog.count_due(session, settings, now)
    report = PurgeReport(
        dry_run=True,
        check_log_anonymised=check_log.anonymised,
        check_log_deleted=check_log.deleted,
        evidence_hits=count(
            select(func.count())
            .select_from(HitRow)
            .where(*_discarded_with_evidence(cut.evidence), has_evidence)
        ),
        rights_checks=count(
            select(func.count())
            .select_from(HitRightsCheckRow)
            .where(col(HitRightsCheckRow.at) <= cut.checks)
        ),
        hits_anonymised=count(
            select(func.count()).select_from(HitRow).where(*_discarded_with_plate(cut.hits))
        ),
        fines_anonymised=count(
            select(func.count()).select_from(FineRow).where(*_fines_due(cut.fines))
        ),
    )
    session.rollback()
    return report


def purge(
    session: Session,
    store: EvidenceStore,
    settings: BackendSettings,
    *,
    now: datetime | None = None,
    dry_run: bool = False,
    max_seconds: float | None = None,
    orphans: Orphans = "all",
) -> PurgeReport:
    """One purge run in the caller's session, each chunk committed (``dry_run``: counts only).

    ``max_seconds`` bounds the run (None: until done); ``orphans`` is "all" (walk the whole
    evidence folder), "slice" (one sixteenth, by the minute: the background loop) or "none".
    """
    now = now or utcnow()
    if dry_run:
        return count_due(session, settings, now)
    run = _Run(session, store, settings, now)
    deadline = time.monotonic() + (max_seconds if max_seconds is not None else float("inf"))
    try:
        complete = all(
            run.drain(step, deadline)
            for step in (
                run.discarded_evidence,
                run.rights_checks,
                run.check_log_plates,
                run.check_log_rows,
                run.discarded_plates,
                run.closed_fines,
            )
        )
        run.report = replace(run.report, complete=complete)
        if orphans != "none":
            only = f"{now.minute % ORPHAN_SLICES:x}" if orphans == "slice" else None
            run.add(files_deleted=delete_orphan_files(session, store, now, only=only))
    except Exception:
        session.rollback()
        run.report = replace(run.report, complete=False)
        _audit(session, run.report, now, failed=True)
        raise
    _audit(session, run.report, now)
    return run.report


def _audit(session: Session, report: PurgeReport, now: datetime, *, failed: bool = False) -> None:
    """One audit row per run that removed something (the loop runs every 30 s and the audit
    log is append-only: empty runs write none)."""
    detail = report.summary() + (" failed=True" if failed else "")
    if report.changed:
        record(session, None, "retention.purge", "retention", now.date().isoformat(), detail)
        session.commit()
    if report.changed or report.files_deleted:
        log.info("purge: %s", detail)


def delete_orphan_files(
    session: Session, store: EvidenceStore, now: datetime, *, only: str | None = None
) -> int:
    """Evidence files that no evidence row references (older than an hour), looked up in
    batches. ``only``: the first hex digit of the folders to look at, else all of them."""
    root = store.root
    if not root.exists():
        return 0
    cutoff = now.timestamp() - ORPHAN_MIN_AGE_S
    removed = 0
    batch: list[str] = []
    for path in root.glob(f"{only or ''}*/*/*"):
        name = path.name
        if len(name) != 64 or name.startswith(".") or not path.is_file():
            continue
        try:
            if path.stat().st_mtime > cutoff:
                continue
        except FileNotFoundError:
            continue
        batch.append(name)
        if len(batch) >= ORPHAN_BATCH:
            removed += delete_unreferenced_files(session, store, batch)
            batch = []
    removed += delete_unreferenced_files(session, store, batch)
    session.rollback()
    return removed


def run_purge(
    engine: Engine,
    store: EvidenceStore,
    settings: BackendSettings,
    *,
    now: datetime | None = None,
    dry_run: bool = False,
    max_seconds: float | None = None,
    orphans: Orphans = "all",
) -> PurgeReport:
    with Session(engine, expire_on_commit=False) as session:
        return purge(
            session,
            store,
            settings,
            now=now,
            dry_run=dry_run,
            max_seconds=max_seconds,
            orphans=orphans,
        )
