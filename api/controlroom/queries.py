"""What the control room sees, shared by its page, its JSON and ``/api/v1/controlroom``: the
cars where their last heartbeat put them, the BOAs who share a fresh position, the hits that
wait for an officer on site (zones without remote enforcement, e.g. blue zones) with how long
they wait and to whom they are assigned; and for a BOA, the hits assigned to them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from api.auth.db import UserRow
from api.auth.principal import Role
from api.controlroom.db import BoaPositionRow, HitAssignmentRow
from api.devices.health import DeviceFlag, HealthThresholds
from api.devices.queries import list_device_health
from api.hits.db import HitRow
from api.hits.model import HitStatus
from zones import Zone

OPEN = (HitStatus.AWAITING_REVIEW.value, HitStatus.CLAIMED.value)
MAX_WAITING = 500


@dataclass(frozen=True, slots=True)
class LiveCar:
    id: int
    name: str
    lon: float | None
    lat: float | None
    last_seen_at: datetime | None
    silent: bool


@dataclass(frozen=True, slots=True)
class LiveBoa:
    id: int
    name: str
    lon: float
    lat: float
    accuracy_m: float | None
    at: datetime


@dataclass(frozen=True, slots=True)
class Assignment:
    boa_id: int
    boa_name: str
    assigned_by: str
    assigned_at: datetime


@dataclass(frozen=True, slots=True)
class WaitingHit:
    """An open hit in a zone where a BOA has to confirm on site."""

    id: int
    zone_id: str | None
    lon: float
    lat: float
    captured_at: datetime
    status: str
    claimed_by: str | None
    assignment: Assignment | None


def on_site_zone_ids(zones: Iterable[Zone]) -> list[str]:
    """The zones where a hit is confirmed on site only (no remote enforcement)."""
    return [z.id for z in zones if not z.remote_enforcement_allowed]


def live_cars(session: Session, now: datetime, thresholds: HealthThresholds) -> list[LiveCar]:
    """Every car that is not revoked, at its last heartbeat's position."""
    return [
        LiveCar(
            d.id,
            d.name,
            d.latest.lon if d.latest else None,
            d.latest.lat if d.latest else None,
            d.last_seen_at,
            DeviceFlag.SILENT in d.flags,
        )
        for d in list_device_health(session, now, thresholds)
        if not d.revoked
    ]


def live_boas(session: Session, now: datetime, max_age: timedelta) -> list[LiveBoa]:
    """BOAs who share their location, with a position not older than ``max_age``."""
    rows = session.exec(
        select(BoaPositionRow, UserRow)
        .join(UserRow, col(UserRow.id) == BoaPositionRow.user_id)
        .where(col(BoaPositionRow.at) >= now - max_age, col(UserRow.is_active).is_(True))
        .order_by(col(UserRow.username))
    ).all()
    return [
        LiveBoa(u.id or 0, u.full_name or u.username, p.lon, p.lat, p.accuracy_m, p.at)
        for p, u in rows
        if p.lon is not None and p.lat is not None and p.at is not None
    ]


def _names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.exec(select(UserRow).where(col(UserRow.id).in_(wanted))).all()
    return {r.id: (r.full_name or r.username) for r in rows if r.id is not None}


def _assignments(session: Session, hit_ids: list[int]) -> dict[int, HitAssignmentRow]:
    if not hit_ids:
        return {}
    rows = session.exec(
        select(HitAssignmentRow).where(col(HitAssignmentRow.hit_id).in_(hit_ids))
    ).all()
    return {r.hit_id: r for r in rows}


def waiting_on_site(
    session: Session, on_site_zones: Iterable[str], limit: int = MAX_WAITING
) -> list[WaitingHit]:
    """Open hits in ``on_site_zones``, waiting longest first."""
    zones = sorted(set(on_site_zones))
    if not zones:
        return []
    hits = session.exec(
        select(HitRow)
        .where(col(HitRow.status).in_(OPEN), col(HitRow.zone_id).in_(zones))
        .order_by(col(HitRow.captured_at), col(HitRow.id))
        .limit(limit)
    ).all()
    assigned = _assignments(session, [h.id or 0 for h in hits])
    names = _names(
        session,
        [h.claimed_by for h in hits]
        + [a.boa_id for a in assigned.values()]
        + [a.assigned_by for a in assigned.values()],
    )
    out = []
    for h in hits:
        a = assigned.get(h.id or 0)
        out.append(
            WaitingHit(
                id=h.id or 0,
                zone_id=h.zone_id,
                lon=h.lon,
                lat=h.lat,
                captured_at=h.captured_at,
                status=h.status,
                claimed_by=names.get(h.claimed_by or 0) if h.status == "claimed" else None,
                assignment=Assignment(
                    a.boa_id,
                    names.get(a.boa_id, "?"),
                    names.get(a.assigned_by, "?"),
                    a.assigned_at,
                )
                if a
                else None,
            )
        )
    return out


def boas_by_distance(hit: WaitingHit, boas: list[LiveBoa]) -> list[tuple[LiveBoa, float]]:
    """The BOAs sharing their location, nearest to ``hit`` first (metres)."""
    from api.review.rules import distance_m

    ranked = [(b, distance_m(hit.lon, hit.lat, b.lon, b.lat)) for b in boas]
    return sorted(ranked, key=lambda bd: (bd[1], bd[0].id))


def boa_choices(session: Session) -> list[tuple[int, str]]:
    """Active BOAs (id, name) an assignment may go to, by name."""
    rows = session.exec(
        select(UserRow)
        .where(UserRow.role == Role.BOA.value, col(UserRow.is_active).is_(True))
        .order_by(col(UserRow.full_name), col(UserRow.username))
    ).all()
    return [(r.id or 0, r.full_name or r.username) for r in rows]


def assigned_to(session: Session, boa_id: int) -> dict[int, Assignment]:
    """The open hits assigned to ``boa_id``: hit id -> the assignment, newest first."""
    rows = session.exec(
        select(HitAssignmentRow)
        .join(HitRow, col(HitRow.id) == HitAssignmentRow.hit_id)
        .where(HitAssignmentRow.boa_id == boa_id, col(HitRow.status).in_(OPEN))
        .order_by(col(HitAssignmentRow.assigned_at).desc())
    ).all()
    names = _names(session, [boa_id, *(r.assigned_by for r in rows)])
    return {
        r.hit_id: Assignment(
            r.boa_id, names.get(r.boa_id, "?"), names.get(r.assigned_by, "?"), r.assigned_at
        )
        for r in rows
    }


def assigned_hits(session: Session, boa_id: int) -> list[HitRow]:
    """The open hits assigned to ``boa_id``, newest assignment first (top of their queue)."""
    order = list(assigned_to(session, boa_id))
    if not order:
        return []
    hits = {h.id: h for h in session.exec(select(HitRow).where(col(HitRow.id).in_(order)))}
    return [hits[i] for i in order if i in hits]


def assignment_of(session: Session, hit_id: int) -> Assignment | None:
    row = session.get(HitAssignmentRow, hit_id)
    if row is None:
        return None
    names = _names(session, [row.boa_id, row.assigned_by])
    return Assignment(
        row.boa_id, names.get(row.boa_id, "?"), names.get(row.assigned_by, "?"), row.assigned_at
    )


def is_sharing(session: Session, boa_id: int) -> bool:
    return session.get(BoaPositionRow, boa_id) is not None
