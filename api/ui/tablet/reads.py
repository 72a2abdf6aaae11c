"""What the tablet pages read: the queue, one hit with its evidence, history and last rights
check, the next hit to review, and people's names.

These are the tablet's reads in one place until the hits read side (``api/hits/queries.py``,
#21 part 2) and the nearest-first queue in SQL (#23) take them over; the routes and the page
context never run SQL themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from api.auth.db import UserRow
from api.hits.db import EvidenceRow, HitEventRow, HitRightsCheckRow, HitRow
from api.hits.model import HitStatus
from api.review.rules import distance_m

OPEN = (HitStatus.AWAITING_REVIEW.value, HitStatus.CLAIMED.value)
CANDIDATES = 5000  # open hits ranked by distance for "nearest first"


@dataclass(frozen=True, slots=True)
class QueueRow:
    hit: HitRow
    distance: float | None


def queue_rows(
    session: Session,
    *,
    zone: str | None,
    reason: str | None,
    near: tuple[float, float] | None,
    limit: int = 500,
) -> list[QueueRow]:
    """Open hits, oldest first; nearest first when ``near`` (lon, lat) is given."""
    stmt = select(HitRow).where(col(HitRow.status).in_(OPEN))
    if zone:
        stmt = stmt.where(HitRow.zone_id == zone)
    if reason:
        stmt = stmt.where(HitRow.reason == reason)
    if near is None:
        hits = session.exec(stmt.order_by(col(HitRow.captured_at), col(HitRow.id)).limit(limit))
        return [QueueRow(h, None) for h in hits.all()]
    hits = session.exec(stmt.order_by(col(HitRow.id)).limit(CANDIDATES)).all()
    rows = [QueueRow(h, distance_m(near[0], near[1], h.lon, h.lat)) for h in hits]
    rows.sort(key=lambda r: (r.distance, r.hit.id))
    return rows[:limit]


def queue_zones(session: Session) -> list[str]:
    return sorted({z for (z,) in session.execute(select(HitRow.zone_id).distinct()) if z})


def is_held_by_other(hit: HitRow, user_id: int, now: datetime) -> bool:
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
    rows = queue_rows(session, zone=None, reason=None, near=near, limit=CANDIDATES)
    for row in rows:
        if row.hit.id != after and not is_held_by_other(row.hit, user_id, now):
            return row.hit
    return None


@dataclass(frozen=True, slots=True)
class HitPageData:
    hit: HitRow
    evidence: list[EvidenceRow]  # plate crops first, then in the order stored
    history: list[HitEventRow]
    check: HitRightsCheckRow | None


def hit_page_data(session: Session, hit: HitRow) -> HitPageData:
    evidence = session.exec(
        select(EvidenceRow).where(EvidenceRow.hit_id == hit.id).order_by(col(EvidenceRow.id))
    ).all()
    check = session.exec(
        select(HitRightsCheckRow)
        .where(HitRightsCheckRow.hit_id == hit.id)
        .order_by(col(HitRightsCheckRow.id).desc())
        .limit(1)
    ).first()
    history = session.exec(
        select(HitEventRow).where(HitEventRow.hit_id == hit.id).order_by(col(HitEventRow.id))
    ).all()
    ordered = sorted(evidence, key=lambda e: e.kind != "plate")  # stable: plate crops first
    return HitPageData(hit, ordered, list(history), check)


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
