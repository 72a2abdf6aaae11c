"""Applying the hit lifecycle: claims, decisions, the grace step, history and audit.

Each function runs in the caller's session and commits; state changes use conditional
UPDATEs (``WHERE status = ...``), so two BOAs or two server processes can never both win.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from api.audit.service import record
from api.auth.principal import Principal
from api.db import utcnow
from api.errors import Conflict, NotFound
from api.evidence.service import delete_unreferenced_files, remove_evidence_rows
from api.evidence.store import EvidenceStore
from api.hits.db import HitEventRow, HitRightsCheckRow, HitRow
from api.hits.model import HitStatus
from api.review.ports import FineDrafts, RightsChecker, RightsResult, ZoneRulesSource
from api.review.rules import (
    Claim,
    ClaimError,
    ClaimTaken,
    DecisionMode,
    HitAction,
    InvalidTransition,
    check_confirmation,
    check_plate_correction,
    check_rejection,
    claim_until,
    next_status,
    require_claim,
)
from api.settings import BackendSettings
from permits.plates import normalise_plate

log = logging.getLogger(__name__)
LOCAL = ZoneInfo("Europe/Amsterdam")


# --------------------------------------------------------------------------- helpers
def get_hit(session: Session, hit_id: int) -> HitRow:
    hit = session.get(HitRow, hit_id)
    if hit is None:
        raise NotFound(f"no hit with id {hit_id}")
    return hit


def add_event(
    session: Session,
    hit: HitRow,
    actor: Principal | None,
    action: HitAction,
    from_status: str,
    detail: str = "",
    *,
    audit_detail: str | None = None,
) -> None:
    """History row (may name plates; purged with the hit) and an audit row (never names a
    plate: the audit log is append-only and outlives the retention term)."""
    session.add(
        HitEventRow(
            hit_id=hit.id or 0,
            at=utcnow(),
            actor_type=actor.kind if actor else "system",
            actor_id=actor.id if actor else None,
            actor_name=actor.name if actor else "system",
            action=action.value,
            from_status=from_status,
            to_status=hit.status,
            detail=detail[:1000],
        )
    )
    record(
        session,
        actor,
        f"hit.{action.value}",
        "hit",
        hit.id,
        f"{from_status}->{hit.status} {detail if audit_detail is None else audit_detail}",
    )


def save_check(
    session: Session, hit: HitRow, source: str, plate: str, at: datetime, result: RightsResult
) -> HitRightsCheckRow:
    row = HitRightsCheckRow(
        hit_id=hit.id or 0,
        at=utcnow(),
        source=source,
        plate=plate,
        zone_id=hit.zone_id,
        checked_for=at,
        allowed=result.allowed,
        reason=result.reason,
        right_id=result.right_id,
        valid_until=result.valid_until,
    )
    session.add(row)
    session.flush()
    return row


def _transition(
    session: Session,
    hit: HitRow,
    action: HitAction,
    *,
    expect: HitStatus,
    values: dict[str, object],
) -> bool:
    """Conditional UPDATE: apply only if the hit is still in ``expect``. True if applied."""
    new = next_status(expect, action)
    stmt = (
        update(HitRow)
        .where(col(HitRow.id) == hit.id, col(HitRow.status) == expect.value)
        .values(status=new.value, updated_at=utcnow(), **values)
    )
    result = session.execute(stmt)
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    session.refresh(hit)
    return True


def is_repeat(session: Session, hit: HitRow) -> bool:
    """Another open or confirmed hit for this plate in this zone on the same local day."""
    local_day = hit.captured_at.astimezone(LOCAL).date()
    start = datetime.combine(local_day, datetime.min.time(), LOCAL)
    end = start + timedelta(days=1)
    stmt = (
        select(HitRow.id)
        .where(
            HitRow.plate == hit.plate,
            HitRow.zone_id == hit.zone_id,
            HitRow.id != hit.id,
            col(HitRow.captured_at) >= start,
            col(HitRow.captured_at) < end,
            col(HitRow.status).in_(
                [
                    HitStatus.PENDING_GRACE.value,
                    HitStatus.AWAITING_REVIEW.value,
                    HitStatus.CLAIMED.value,
                    HitStatus.CONFIRMED.value,
                ]
            ),
        )
        .limit(1)
    )
    return session.exec(stmt).first() is not None


# --------------------------------------------------------------------------- grace step
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
) -> str | None:
    """Process one hit in its own transaction. Returns 'dismissed', 'review' or None."""
    stmt = select(HitRow).where(HitRow.id == hit_id, HitRow.status == HitStatus.PENDING_GRACE.value)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    hit = session.exec(stmt).first()
    if hit is None:
        session.rollback()
        return None  # another process has it, or it moved on
    rules = zones.rules_for(session, hit.zone_id)
    grace = rules.grace_minutes if rules else settings.default_grace_minutes
    if hit.grace_until is None:
        hit.grace_until = hit.captured_at + timedelta(minutes=grace)
        if hit.grace_until > now:
            session.add(hit)
            session.commit()
            return None
    result = rights.check(
        session, plate=hit.plate, zone_id=hit.zone_id, at=hit.captured_at, grace_minutes=grace
    )
    check = save_check(session, hit, "grace", hit.plate, hit.captured_at, result)
    if result.allowed:
        if not _transition(
            session,
            hit,
            HitAction.RIGHT_FOUND,
            expect=HitStatus.PENDING_GRACE,
            values={"evidence_deleted_at": now},
        ):
            session.rollback()
            return None
        hashes = remove_evidence_rows(session, hit.id or 0)
        add_event(
            session,
            hit,
            None,
            HitAction.RIGHT_FOUND,
            HitStatus.PENDING_GRACE.value,
            f"reason={result.reason} check={check.id}",
        )
        session.commit()
        delete_unreferenced_files(session, store, hashes)
        return "dismissed"
    repeat = is_repeat(session, hit)
    if not _transition(
        session,
        hit,
        HitAction.GRACE_PASSED,
        expect=HitStatus.PENDING_GRACE,
        values={"repeat": repeat},
    ):
        session.rollback()
        return None
    add_event(
        session,
        hit,
        None,
        HitAction.GRACE_PASSED,
        HitStatus.PENDING_GRACE.value,
        f"no right after {grace} min grace" + (" (repeat)" if repeat else ""),
    )
    session.commit()
    return "review"


def expire_claims(session: Session, now: datetime) -> int:
    stmt = select(HitRow).where(
        HitRow.status == HitStatus.CLAIMED.value, col(HitRow.claimed_until) <= now
    )
    n = 0
    for hit in session.exec(stmt).all():
        if _transition(
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
            checked += outcome is not None
            dismissed += outcome == "dismissed"
            to_review += outcome == "review"
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


# --------------------------------------------------------------------------- BOA actions
def claim(
    session: Session,
    hit_id: int,
    boa: Principal,
    settings: BackendSettings,
    now: datetime | None = None,
) -> HitRow:
    now = now or utcnow()
    hit = get_hit(session, hit_id)
    status = HitStatus(hit.status)
    if (
        status == HitStatus.CLAIMED
        and hit.claimed_by == boa.id
        and hit.claimed_until
        and hit.claimed_until > now
    ):
        hit.claimed_until = claim_until(now, settings.claim_minutes)  # extend own claim
        session.add(hit)
        session.commit()
        return hit
    # A claim that expired counts as free: take it over in one conditional UPDATE.
    stmt = (
        update(HitRow)
        .where(
            col(HitRow.id) == hit_id,
            or_(
                col(HitRow.status) == HitStatus.AWAITING_REVIEW.value,
                (col(HitRow.status) == HitStatus.CLAIMED.value)
                & (col(HitRow.claimed_until) <= now),
            ),
        )
        .values(
            status=HitStatus.CLAIMED.value,
            claimed_by=boa.id,
            claimed_until=claim_until(now, settings.claim_minutes),
            updated_at=now,
        )
    )
    if session.execute(stmt).rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        session.refresh(hit)
        if HitStatus(hit.status) == HitStatus.CLAIMED:
            raise Conflict("this hit is already claimed by another BOA", code="already_claimed")
        raise InvalidTransition(HitStatus(hit.status), HitAction.CLAIM)
    session.refresh(hit)
    add_event(session, hit, boa, HitAction.CLAIM, status.value)
    session.commit()
    return hit


def _claimed_by(hit: HitRow, boa: Principal, now: datetime) -> None:
    status = HitStatus(hit.status)
    if status != HitStatus.CLAIMED:
        raise InvalidTransition(status, HitAction.CONFIRM)
    require_claim(status, Claim(hit.claimed_by, hit.claimed_until), boa.id, now)


def _lost_own_claim_to_expiry(session: Session, hit: HitRow, boa: Principal) -> bool:
    """The hit went back to the queue because ``boa``'s claim ran out (and nobody took it)."""
    events = session.exec(
        select(HitEventRow)
        .where(HitEventRow.hit_id == hit.id)
        .order_by(col(HitEventRow.id).desc())
        .limit(2)
    ).all()
    return (
        len(events) == 2
        and events[0].action == HitAction.EXPIRE.value
        and events[1].action == HitAction.CLAIM.value
        and events[1].actor_id == boa.id
    )


def _has_claimed(session: Session, hit: HitRow, boa: Principal) -> bool:
    stmt = select(HitEventRow.id).where(
        HitEventRow.hit_id == hit.id,
        HitEventRow.action == HitAction.CLAIM.value,
        HitEventRow.actor_id == boa.id,
    )
    return session.exec(stmt.limit(1)).first() is not None


def hold_claim(
    session: Session, hit: HitRow, boa: Principal, now: datetime, claim_minutes: int
) -> None:
    """Make sure ``boa`` holds the hit for a decision. A claim of ``boa``'s that ran out is
    renewed in one conditional UPDATE when nobody else took the hit meanwhile (a BOA walking
    to the car never loses the decision to a silent expiry); a colleague's live claim is a
    ``ClaimError``. A hit ``boa`` never claimed still needs a claim first."""
    status = HitStatus(hit.status)
    mine = status == HitStatus.CLAIMED and hit.claimed_by == boa.id
    if mine and hit.claimed_until is not None and hit.claimed_until > now:
        return
    if not mine and not (
        status == HitStatus.AWAITING_REVIEW and _lost_own_claim_to_expiry(session, hit, boa)
    ):
        if status == HitStatus.CLAIMED and _has_claimed(session, hit, boa):
            raise ClaimTaken("this hit was taken by another BOA after your claim ran out")
        _claimed_by(hit, boa, now)  # raises: the wrong state, or another BOA's claim
    stmt = (
        update(HitRow)
        .where(
            col(HitRow.id) == hit.id,
            or_(
                (col(HitRow.status) == HitStatus.CLAIMED.value)
                & (col(HitRow.claimed_by) == boa.id),
                col(HitRow.status) == HitStatus.AWAITING_REVIEW.value,
            ),
        )
        .values(
            status=HitStatus.CLAIMED.value,
            claimed_by=boa.id,
            claimed_until=claim_until(now, claim_minutes),
            updated_at=now,
        )
    )
    if session.execute(stmt).rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise ClaimTaken("this hit was taken by another BOA after your claim ran out")
    session.refresh(hit)
    add_event(session, hit, boa, HitAction.CLAIM, status.value, "renewed on submit")


def release(session: Session, hit_id: int, boa: Principal, now: datetime | None = None) -> HitRow:
    now = now or utcnow()
    hit = get_hit(session, hit_id)
    status = HitStatus(hit.status)
    if status != HitStatus.CLAIMED:
        raise InvalidTransition(status, HitAction.RELEASE)
    if hit.claimed_by != boa.id:
        raise ClaimError("this hit is claimed by another BOA")
    if not _transition(
        session,
        hit,
        HitAction.RELEASE,
        expect=HitStatus.CLAIMED,
        values={"claimed_by": None, "claimed_until": None},
    ):
        raise Conflict("the hit changed meanwhile; reload it")
    add_event(session, hit, boa, HitAction.RELEASE, status.value)
    session.commit()
    return hit


def confirm(
    session: Session,
    hit_id: int,
    boa: Principal,
    *,
    mode: DecisionMode,
    lon: float | None,
    lat: float | None,
    note: str | None,
    rights: RightsChecker,
    zones: ZoneRulesSource,
    settings: BackendSettings,
    drafts: FineDrafts | None = None,
    now: datetime | None = None,
) -> HitRow:
    now = now or utcnow()
    hit = get_hit(session, hit_id)
    hold_claim(session, hit, boa, now, settings.claim_minutes)
    rules = zones.rules_for(session, hit.zone_id)
    check = check_confirmation(
        mode=mode,
        remote_allowed=bool(rules and rules.remote_enforcement_allowed),
        hit_lon=hit.lon,
        hit_lat=hit.lat,
        boa_lon=lon,
        boa_lat=lat,
        max_distance_m=settings.on_site_max_distance_m,
    )
    grace = rules.grace_minutes if rules else settings.default_grace_minutes
    result = rights.check(
        session, plate=hit.plate, zone_id=hit.zone_id, at=hit.captured_at, grace_minutes=grace
    )
    check_row = save_check(session, hit, "confirm", hit.plate, hit.captured_at, result)
    if result.allowed:
        session.commit()
        raise Conflict(
            f"a parking right was found for {hit.plate} ({result.reason}); reject the hit with "
            "reason 'right_found'",
            code="right_found",
        )
    if not _transition(
        session,
        hit,
        HitAction.CONFIRM,
        expect=HitStatus.CLAIMED,
        values={
            "decided_by": boa.id,
            "decided_at": now,
            "decision_mode": check.mode.value,
            "decision_lon": lon,
            "decision_lat": lat,
            "decision_distance_m": check.distance_m,
            "decision_note": note,
            "decision_rights_check_id": check_row.id,
            "claimed_until": None,
        },
    ):
        raise Conflict("the hit changed meanwhile; reload it")
    detail = f"mode={check.mode.value} check={check_row.id}"
    if check.distance_m is not None:
        detail += f" distance_m={check.distance_m:.1f}"
    add_event(session, hit, boa, HitAction.CONFIRM, HitStatus.CLAIMED.value, detail)
    if drafts is not None:
        drafts.draft_for_confirmed_hit(session, hit)
    session.commit()
    return hit


def reject(
    session: Session,
    hit_id: int,
    boa: Principal,
    *,
    reason: str,
    note: str | None,
    claim_minutes: int = 10,
    now: datetime | None = None,
) -> HitRow:
    now = now or utcnow()
    hit = get_hit(session, hit_id)
    r = check_rejection(reason, note)
    hold_claim(session, hit, boa, now, claim_minutes)
    if not _transition(
        session,
        hit,
        HitAction.REJECT,
        expect=HitStatus.CLAIMED,
        values={
            "decided_by": boa.id,
            "decided_at": now,
            "reject_reason": r.value,
            "decision_note": note,
            "claimed_until": None,
        },
    ):
        raise Conflict("the hit changed meanwhile; reload it")
    add_event(session, hit, boa, HitAction.REJECT, HitStatus.CLAIMED.value, f"reason={r.value}")
    session.commit()
    return hit


def correct_plate(
    session: Session,
    hit_id: int,
    boa: Principal,
    *,
    plate: str,
    reason: str | None = None,
    confirmed_different: bool = False,
    rights: RightsChecker,
    zones: ZoneRulesSource,
    settings: BackendSettings,
    now: datetime | None = None,
) -> tuple[HitRow, RightsResult]:
    """A BOA corrects a misread plate, saying why: the new plate gets a fresh rights check;
    the car's read stays in ``original_plate`` and in the history. A correction that changes
    more than look-alike characters of the car's read needs ``confirmed_different``."""
    now = now or utcnow()
    hit = get_hit(session, hit_id)
    new_plate = normalise_plate(plate)
    if new_plate == hit.plate:
        raise Conflict(f"the plate is already {new_plate}", code="same_plate")
    why = check_plate_correction(
        hit.original_plate or hit.plate,
        new_plate,
        reason,
        confirmed_different=confirmed_different,
    )
    hold_claim(session, hit, boa, now, settings.claim_minutes)
    rules = zones.rules_for(session, hit.zone_id)
    grace = rules.grace_minutes if rules else settings.default_grace_minutes
    result = rights.check(
        session, plate=new_plate, zone_id=hit.zone_id, at=hit.captured_at, grace_minutes=grace
    )
    old = hit.plate
    hit.original_plate = hit.original_plate or old
    hit.plate = new_plate
    hit.updated_at = now
    session.add(hit)
    session.flush()
    hit.repeat = is_repeat(session, hit)
    check = save_check(session, hit, "correction", new_plate, hit.captured_at, result)
    add_event(
        session,
        hit,
        boa,
        HitAction.CORRECT_PLATE,
        hit.status,
        f"{old} -> {new_plate}; check={check.id} allowed={result.allowed}; reason: {why}",
        audit_detail=f"plate corrected; check={check.id} allowed={result.allowed}",
    )
    session.commit()
    return hit, result
