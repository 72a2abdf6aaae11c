"""The grace step (coulance): a hit whose grace period has passed is checked for a parking
right again; with one it is dismissed and its photos deleted at once, without one it goes to
the review queue. Claims that ran out go back to the queue in the same pass.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from api.db import utcnow
from api.evidence.service import delete_unreferenced_files, remove_evidence_rows
from api.evidence.store import EvidenceStore
from api.hits.db import HitRow
from api.hits.model import HitStatus
from api.review.ports import RightsChecker, ZoneRulesSource
from api.review.rules import HitAction
from api.review.store import add_event, is_repeat, save_check, transition
from api.settings import BackendSettings

log = logging.getLogger(__name__)


class GraceOutcome(enum.StrEnum):
    """What the grace step did with one hit."""

    DISMISSED = "dismissed"  # a right was found: closed, photos deleted
    TO_REVIEW = "review"  # no right: in the review queue
    SKIPPED = "skipped"  # another process has it, it moved on, or its grace has not ended


@dataclass(frozen=True, slots=True)
class GraceReport:
    checked: int
    dismissed: int
    to_review: int
    expired_claims: int


def grace_due(session: Session, now: datetime, limit: int) -> list[int]:
    stmt = (
        select(HitRow.id)
        .where(
            HitRow.status == HitStatus.PENDING_GRACE.value,
            or_(col(HitRow.grace_until).is_(None), col(HitRow.grace_until) <= now),
        )
        .order_by(col(HitRow.id))
        .limit(limit)
    )
    return [i for i in session.exec(stmt).all() if i is not None]


def _grace_one(
    session: Session,
    store: EvidenceStore,
    hit_id: int,
    now: datetime,
    rights: RightsChecker,
    zones: ZoneRulesSource,
    settings: BackendSettings,
) -> GraceOutcome:
    """Process one hit in its own transaction."""
    stmt = select(HitRow).where(HitRow.id == hit_id, HitRow.status == HitStatus.PENDING_GRACE.value)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    hit = session.exec(stmt).first()
    if hit is None:
        session.rollback()
        return GraceOutcome.SKIPPED  # another process has it, or it moved on
    rules = zones.rules_for(session, hit.zone_id)
    grace = rules.grace_minutes if rules else settings.default_grace_minutes
    if hit.grace_until is None:
        hit.grace_until = hit.captured_at + timedelta(minutes=grace)
        if hit.grace_until > now:
            session.add(hit)
            session.commit()
            return GraceOutcome.SKIPPED
    result = rights.check(
        session, plate=hit.plate, zone_id=hit.zone_id, at=hit.captured_at, grace_minutes=grace
    )
    check = save_check(session, hit, "grace", hit.plate, hit.captured_at, result)
    if result.allowed:
        return _dismiss(session, store, hit, now, f"reason={result.reason} check={check.id}")
    return _to_review(session, hit, grace)


def _dismiss(
    session: Session, store: EvidenceStore, hit: HitRow, now: datetime, detail: str
) -> GraceOutcome:
    """A right was found: close the hit and delete its photos at once."""
    if not transition(
        session,
        hit,
        HitAction.RIGHT_FOUND,
        expect=HitStatus.PENDING_GRACE,
        values={"evidence_deleted_at": now},
    ):
        session.rollback()
        return GraceOutcome.SKIPPED
    hashes = remove_evidence_rows(session, hit.id or 0)
    add_event(session, hit, None, HitAction.RIGHT_FOUND, HitStatus.PENDING_GRACE.value, detail)
    session.commit()
    delete_unreferenced_files(session, store, hashes)
    return GraceOutcome.DISMISSED


def _to_review(session: Session, hit: HitRow, grace: int) -> GraceOutcome:
    """No right after the grace period: the hit goes to the review queue."""
    repeat = is_repeat(session, hit)
    if not transition(
        session,
        hit,
        HitAction.GRACE_PASSED,
        expect=HitStatus.PENDING_GRACE,
        values={"repeat": repeat},
    ):
        session.rollback()
        return GraceOutcome.SKIPPED
    add_event(
        session,
        hit,
        None,
        HitAction.GRACE_PASSED,
        HitStatus.PENDING_GRACE.value,
        f"no right after {grace} min grace" + (" (repeat)" if repeat else ""),
    )
    session.commit()
    return GraceOutcome.TO_REVIEW


def expire_claims(session: Session, now: datetime) -> int:
    stmt = select(HitRow).where(
        HitRow.status == HitStatus.CLAIMED.value, col(HitRow.claimed_until) <= now
    )
    n = 0
    for hit in session.exec(stmt).all():
        if transition(
            session,
            hit,
            HitAction.EXPIRE,
            expect=HitStatus.CLAIMED,
            values={"claimed_by": None, "claimed_until": None},
        ):
            add_event(session, hit, None, HitAction.EXPIRE, HitStatus.CLAIMED.value)
            n += 1
    session.commit()
    return n


def run_grace_step(
    engine: Engine,
    store: EvidenceStore,
    rights: RightsChecker,
    zones: ZoneRulesSource,
    settings: BackendSettings,
    *,
    now: datetime | None = None,
    batch: int = 500,
) -> GraceReport:
    """One pass of the background work: grace re-checks and expired claims."""
    now = now or utcnow()
    dismissed = to_review = checked = 0
    with Session(engine, expire_on_commit=False) as session:
        ids = grace_due(session, now, batch)
        session.rollback()
        for hit_id in ids:
            try:
                outcome = _grace_one(session, store, hit_id, now, rights, zones, settings)
            except Exception:
                session.rollback()
                log.exception("grace step failed for hit %s; it stays pending", hit_id)
                continue
            checked += outcome != GraceOutcome.SKIPPED
            dismissed += outcome == GraceOutcome.DISMISSED
            to_review += outcome == GraceOutcome.TO_REVIEW
        expired = expire_claims(session, now)
    if checked or expired:
        log.info(
            "grace step: %d checked, %d dismissed, %d to review, %d claims expired",
            checked,
            dismissed,
            to_review,
            expired,
        )
    return GraceReport(checked, dismissed, to_review, expired)
