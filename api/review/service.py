"""The BOA's actions on a hit: claim, release, confirm, reject, correct the plate.

``Review`` binds them to their ports (rights, zone rules, fine drafts, settings, clock, the
decision metrics); the API routes and the tablet pages make one call on it. Each action runs
in the caller's session and commits; state changes use conditional UPDATEs (``WHERE status =
...``), so two BOAs or two server processes can never both win.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from api.auth.principal import Principal
from api.db import utcnow
from api.errors import Conflict
from api.evidence.images import ImageChecker
from api.evidence.store import EvidenceStore
from api.hits.db import HitEventRow, HitRow
from api.hits.model import HitStatus
from api.review.grace import GraceOutcome, GraceReport, expire_claims, grace_due, run_grace_step
from api.review.photos import add_on_site_photo
from api.review.ports import (
    DecisionObserver,
    FineDrafts,
    RightsChecker,
    RightsResult,
    ZoneRulesSource,
)
from api.review.rules import (
    Claim,
    ClaimError,
    ClaimTaken,
    DecisionMode,
    HitAction,
    InvalidTransition,
    RejectReason,
    check_confirmation,
    check_plate_correction,
    check_rejection,
    claim_until,
    require_claim,
)
from api.review.store import add_event, get_hit, is_repeat, save_check, transition
from api.settings import BackendSettings
from permits.plates import normalise_plate

__all__ = [  # the grace step and the store helpers, for callers of this module
    "GraceOutcome",
    "GraceReport",
    "PlateCorrection",
    "Review",
    "add_event",
    "expire_claims",
    "get_hit",
    "grace_due",
    "run_grace_step",
]


@dataclass(frozen=True, slots=True)
class PlateCorrection:
    """A corrected hit and the rights check of its new plate."""

    hit: HitRow
    check: RightsResult


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
    if not transition(
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
    if not transition(
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
    if not transition(
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
) -> PlateCorrection:
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
    return PlateCorrection(hit, result)


# --------------------------------------------------------------------------- bound to its ports
@dataclass(frozen=True, slots=True)
class Review:
    """The review actions with their ports bound: what the routes and the pages call."""

    rights: RightsChecker
    zones: ZoneRulesSource
    drafts: FineDrafts | None
    settings: BackendSettings
    evidence: EvidenceStore
    images: ImageChecker
    observer: DecisionObserver | None = None  # the review-latency metric
    clock: Callable[[], datetime] = utcnow

    def claim(self, session: Session, hit_id: int, boa: Principal) -> HitRow:
        """Take a hit for review, or extend one's own claim."""
        return claim(session, hit_id, boa, self.settings, self.clock())

    def release(self, session: Session, hit_id: int, boa: Principal) -> HitRow:
        return release(session, hit_id, boa, self.clock())

    def confirm(
        self,
        session: Session,
        hit_id: int,
        boa: Principal,
        *,
        mode: DecisionMode,
        lon: float | None = None,
        lat: float | None = None,
        note: str | None = None,
    ) -> HitRow:
        hit = confirm(
            session,
            hit_id,
            boa,
            mode=mode,
            lon=lon,
            lat=lat,
            note=note,
            rights=self.rights,
            zones=self.zones,
            settings=self.settings,
            drafts=self.drafts,
            now=self.clock(),
        )
        if self.observer is not None:
            self.observer.observe_review("confirmed", hit)
        return hit

    def reject(
        self,
        session: Session,
        hit_id: int,
        boa: Principal,
        *,
        reason: RejectReason | str,
        note: str | None = None,
    ) -> HitRow:
        hit = reject(
            session,
            hit_id,
            boa,
            reason=str(reason),
            note=note,
            claim_minutes=self.settings.claim_minutes,
            now=self.clock(),
        )
        if self.observer is not None:
            self.observer.observe_review("rejected", hit)
        return hit

    def correct_plate(
        self,
        session: Session,
        hit_id: int,
        boa: Principal,
        *,
        plate: str,
        reason: str | None,
        confirmed_different: bool = False,
    ) -> PlateCorrection:
        return correct_plate(
            session,
            hit_id,
            boa,
            plate=plate,
            reason=reason,
            confirmed_different=confirmed_different,
            rights=self.rights,
            zones=self.zones,
            settings=self.settings,
            now=self.clock(),
        )

    def add_photo(self, session: Session, hit_id: int, boa: Principal, data: bytes) -> HitRow:
        """An on-site photo from the tablet camera (the image check may wait for a slot)."""
        return add_on_site_photo(session, self.evidence, hit_id, boa, data, images=self.images)
