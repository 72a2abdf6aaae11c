"""The read side of hits, shared by ``/api/v1/hits`` and the tablet pages: the list and the
review queue (nearest first when a position is given), one hit with its evidence, history and
rights checks, the next hit to review, and people's names. Results are dataclasses; neither
the routes nor the pages run SQL of their own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, text
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from api.auth.db import UserRow
from api.errors import NotFound
from api.hits.db import OPEN_SQL, EvidenceRow, HitEventRow, HitRightsCheckRow, HitRow
from api.hits.model import HitStatus
from api.hits.nearest import nearest_hits
from api.pagination import bounded_count

OPEN = (HitStatus.AWAITING_REVIEW, HitStatus.CLAIMED)


@dataclass(frozen=True, slots=True)
class HitFilter:
    statuses: tuple[HitStatus, ...] = ()  # empty: any status
    zone: str | None = None
    reason: str | None = None
    plate: str | None = None  # normalised (no dashes or spaces, upper case)
    since: datetime | None = None  # captured at or after (timezone-aware)
    until: datetime | None = None  # captured before (timezone-aware)
    decided_by: int | None = None  # the BOA who decided it (user id)


@dataclass(frozen=True, slots=True)
class HitRowAt:
    """A hit and, when a position was given, its distance from there in metres."""

    hit: HitRow
    distance: float | None = None


@dataclass(frozen=True, slots=True)
class HitsFound:
    rows: list[HitRowAt]
    count: int  # the hits that match, counted up to ``api.pagination.COUNT_CAP``
    count_exact: bool = True  # False: more than ``count`` match


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
    if flt.statuses == OPEN:  # literal, so both databases see the partial index applies
        conds.append(text(OPEN_SQL))  # type: ignore[arg-type]
    elif flt.statuses:
        conds.append(col(HitRow.status).in_([s.value for s in flt.statuses]))
    if flt.zone is not None:
        conds.append(col(HitRow.zone_id) == flt.zone)
    if flt.reason is not None:
        conds.append(col(HitRow.reason) == flt.reason)
    if flt.plate is not None:
        conds.append(col(HitRow.plate) == flt.plate)
    if flt.since is not None:
        conds.append(col(HitRow.captured_at) >= flt.since)
    if flt.until is not None:
        conds.append(col(HitRow.captured_at) < flt.until)
    if flt.decided_by is not None:
        conds.append(col(HitRow.decided_by) == flt.decided_by)
    return conds


def _nearest(
    session: Session,
    conds: list[ColumnElement[bool]],
    near: tuple[float, float],
    *,
    limit: int,
    offset: int = 0,
) -> list[HitRowAt]:
    """Rows ``offset`` to ``offset + limit`` of every hit matching ``conds``, nearest to
    ``near`` (lon, lat) first, ties by id (in SQL: ``api.hits.nearest``)."""
    found = nearest_hits(session, conds, near[0], near[1], limit=limit, offset=offset)
    return [HitRowAt(hit, metres) for hit, metres in found]


def find_hits(
    session: Session,
    flt: HitFilter,
    *,
    near: tuple[float, float] | None = None,
    limit: int = 50,
    offset: int = 0,
) -> HitsFound:
    """Hits matching ``flt``, newest capture first, or nearest first to ``near``."""
    conds = _conditions(flt)
    stmt = select(HitRow).where(*conds)
    total = bounded_count(session, stmt)
    if near is not None:
        rows = _nearest(session, conds, near, limit=limit, offset=offset)
        return HitsFound(rows, total.value, total.exact)
    hits = session.exec(
        stmt.order_by(col(HitRow.captured_at).desc(), col(HitRow.id).desc())
        .offset(offset)
        .limit(limit)
    ).all()
    return HitsFound([HitRowAt(h) for h in hits], total.value, total.exact)


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
    conds = _conditions(HitFilter(statuses=OPEN, zone=zone, reason=reason))
    return _queue(session, conds, near, limit)


def _queue(
    session: Session,
    conds: list[ColumnElement[bool]],
    near: tuple[float, float] | None,
    limit: int,
) -> list[HitRowAt]:
    if near is not None:
        return _nearest(session, conds, near, limit=limit)
    stmt = select(HitRow).where(*conds)
    hits = session.exec(stmt.order_by(col(HitRow.captured_at), col(HitRow.id)).limit(limit))
    return [HitRowAt(h) for h in hits.all()]


def queue_zones(session: Session, *, also: str | None = None) -> list[str]:
    """The zones that have open hits (the queue's zone filter), and ``also`` (the zone chosen,
    so the filter keeps showing it once its last hit is decided). Read over the open hits only
    (the index on status), not over every hit ever stored."""
    # no DISTINCT: SQLite would walk its zone index over every hit to find the few distinct
    zones = set(session.exec(select(HitRow.zone_id).where(text(OPEN_SQL))).all())
    return sorted(z for z in zones | {also} if z)


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
    one waiting longest; never one a colleague holds (all in SQL, over every open hit)."""
    free = or_(
        col(HitRow.status) != HitStatus.CLAIMED.value,
        col(HitRow.claimed_by) == user_id,
        col(HitRow.claimed_until).is_(None),
        col(HitRow.claimed_until) <= now,
    )
    conds = [*_conditions(HitFilter(statuses=OPEN)), col(HitRow.id) != after, free]
    rows = _queue(session, conds, near, 1)
    return rows[0].hit if rows else None


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
