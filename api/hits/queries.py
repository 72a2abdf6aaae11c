"""The read side of hits, shared by ``/api/v1/hits`` and the tablet pages: the list and the
review queue (nearest first when a position is given), one hit with its evidence, history and
rights checks, the next hit to review, and people's names. Results are dataclasses; neither
the routes nor the pages run SQL of their own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, func, select
from sqlmodel.sql.expression import SelectOfScalar

from api.auth.db import UserRow
from api.errors import NotFound
from api.hits.db import EvidenceRow, HitEventRow, HitRightsCheckRow, HitRow
from api.hits.model import HitStatus
from api.review.rules import distance_m

OPEN = (HitStatus.AWAITING_REVIEW, HitStatus.CLAIMED)
CANDIDATES = 5000  # hits ranked by distance for "nearest first"


@dataclass(frozen=True, slots=True)
class HitFilter:
    statuses: tuple[HitStatus, ...] = ()  # empty: any status
    zone: str | None = None
    reason: str | None = None
    plate: str | None = None  # normalised (no dashes or spaces, upper case)
    since: datetime | None = None  # captured at or after (timezone-aware)


@dataclass(frozen=True, slots=True)
class HitRowAt:
    """A hit and, when a position was given, its distance from there in metres."""

    hit: HitRow
    distance: float | None = None


@dataclass(frozen=True, slots=True)
class HitsFound:
    rows: list[HitRowAt]
    count: int  # every hit that matches (nearest first: of the ranked candidates)


@dataclass(frozen=True, slots=True)
class HitDetail:
    hit: HitRow
    evidence: list[EvidenceRow]  # in the order stored
    history: list[HitEventRow]
    checks: list[HitRightsCheckRow]  # oldest first

    @property
    def photos(self) -> list[EvidenceRow]:
        """The evidence as the viewer shows it: plate crops first, then in the order stored."""
        return sorted(self.evidence, key=lambda e: e.kind != "plate")

    @property
    def last_check(self) -> HitRightsCheckRow | None:
        return self.checks[-1] if self.checks else None


def _conditions(flt: HitFilter) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    if flt.statuses:
        conds.append(col(HitRow.status).in_([s.value for s in flt.statuses]))
    if flt.zone is not None:
        conds.append(col(HitRow.zone_id) == flt.zone)
    if flt.reason is not None:
        conds.append(col(HitRow.reason) == flt.reason)
    if flt.plate is not None:
        conds.append(col(HitRow.plate) == flt.plate)
    if flt.since is not None:
        conds.append(col(HitRow.captured_at) >= flt.since)
    return conds


def _nearest(
    session: Session, stmt: SelectOfScalar[HitRow], near: tuple[float, float]
) -> list[HitRowAt]:
    """The first ``CANDIDATES`` hits of ``stmt`` by id, nearest to ``near`` (lon, lat) first,
    ties by id."""
    hits = session.exec(stmt.order_by(col(HitRow.id)).limit(CANDIDATES)).all()
    ranked = [HitRowAt(h, distance_m(near[0], near[1], h.lon, h.lat)) for h in hits]
    ranked.sort(key=lambda r: (r.distance, r.hit.id))
    return ranked


def find_hits(
    session: Session,
    flt: HitFilter,
    *,
    near: tuple[float, float] | None = None,
    limit: int = 50,
    offset: int = 0,
) -> HitsFound:
    """Hits matching ``flt``, newest capture first, or nearest first to ``near`` (then
    ``count`` is of the ranked candidates)."""
    stmt = select(HitRow).where(*_conditions(flt))
    if near is not None:
        ranked = _nearest(session, stmt, near)
        return HitsFound(ranked[offset : offset + limit], len(ranked))
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    hits = session.exec(
        stmt.order_by(col(HitRow.captured_at).desc(), col(HitRow.id).desc())
        .offset(offset)
        .limit(limit)
    ).all()
    return HitsFound([HitRowAt(h) for h in hits], total)


def open_queue(
    session: Session,
    *,
    zone: str | None = None,
    reason: str | None = None,
    near: tuple[float, float] | None = None,
    limit: int = 500,
) -> list[HitRowAt]:
    """The review queue: open hits, the one waiting longest first; nearest first when
    ``near`` (lon, lat) is given."""
    stmt = select(HitRow).where(*_conditions(HitFilter(statuses=OPEN, zone=zone, reason=reason)))
    if near is not None:
        return _nearest(session, stmt, near)[:limit]
    hits = session.exec(stmt.order_by(col(HitRow.captured_at), col(HitRow.id)).limit(limit))
    return [HitRowAt(h) for h in hits.all()]


def queue_zones(session: Session) -> list[str]:
    """The zones that have hits (the queue's zone filter)."""
    return sorted({z for (z,) in session.execute(select(HitRow.zone_id).distinct()) if z})


def is_held_by_other(hit: HitRow, user_id: int, now: datetime) -> bool:
    """A colleague's claim on ``hit`` is live."""
    return (
        hit.status == HitStatus.CLAIMED.value
        and hit.claimed_by != user_id
        and hit.claimed_until is not None
        and hit.claimed_until > now
    )


def next_hit(
    session: Session,
    user_id: int,
    *,
    near: tuple[float, float] | None,
    after: int,
    now: datetime,
) -> HitRow | None:
    """The hit to review after ``after``: nearest first when the position is known, else the
    one waiting longest; never one a colleague holds."""
    for row in open_queue(session, near=near, limit=CANDIDATES):
        if row.hit.id != after and not is_held_by_other(row.hit, user_id, now):
            return row.hit
    return None


def get_hit(session: Session, hit_id: int) -> HitRow:
    hit = session.get(HitRow, hit_id)
    if hit is None:
        raise NotFound(f"no hit with id {hit_id}")
    return hit


def hit_detail(session: Session, hit: HitRow) -> HitDetail:
    """``hit`` with its evidence, history and rights checks."""
    evidence = session.exec(
        select(EvidenceRow).where(EvidenceRow.hit_id == hit.id).order_by(col(EvidenceRow.id))
    ).all()
    history = session.exec(
        select(HitEventRow).where(HitEventRow.hit_id == hit.id).order_by(col(HitEventRow.id))
    ).all()
    checks = session.exec(
        select(HitRightsCheckRow)
        .where(HitRightsCheckRow.hit_id == hit.id)
        .order_by(col(HitRightsCheckRow.id))
    ).all()
    return HitDetail(hit, list(evidence), list(history), list(checks))


def evidence_of(session: Session, hit_id: int, name: str) -> EvidenceRow | None:
    return session.exec(
        select(EvidenceRow).where(EvidenceRow.hit_id == hit_id, EvidenceRow.name == name)
    ).first()


def names_of(session: Session, user_ids: Iterable[int | None]) -> dict[int, str]:
    """People's names (full name, else user name) by user id."""
    ids = {i for i in user_ids if i is not None}
    if not ids:
        return {}
    rows = session.exec(select(UserRow).where(col(UserRow.id).in_(ids))).all()
    return {r.id: (r.full_name or r.username) for r in rows if r.id is not None}
