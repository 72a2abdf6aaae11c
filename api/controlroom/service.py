"""The control room's actions: assign a hit that waits for an officer on site to one BOA (or
take the assignment back), and a BOA sharing their position from the tablet. Each writes in
the caller's session and commits; assignments are audited (``hit.assigned`` /
``hit.unassigned``, naming the BOA, never a plate); positions are not (they are the BOA's
own data, kept only while fresh)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, update

from api.audit.service import record
from api.auth.db import UserRow
from api.auth.principal import Principal, Role
from api.controlroom.db import BoaPositionRow, HitAssignmentRow
from api.errors import Conflict, NotFound, Unprocessable
from api.hits.db import HitRow
from api.hits.model import HitStatus

OPEN = (HitStatus.AWAITING_REVIEW.value, HitStatus.CLAIMED.value)


class HitNotOpen(Conflict):
    code = "hit_not_open"

    def __init__(self, status: str) -> None:
        self.status = status
        super().__init__(f"the hit is {status}: only open hits can be assigned")


class NotABoa(Unprocessable):
    code = "not_a_boa"

    def __init__(self) -> None:
        super().__init__("assign to an active user with the role boa")


def assign(
    session: Session, actor: Principal, hit_id: int, boa_id: int, now: datetime
) -> HitAssignmentRow:
    """Give an open hit to one BOA (replacing an earlier assignment)."""
    hit = session.get(HitRow, hit_id)
    if hit is None:
        raise NotFound(f"no hit with id {hit_id}")
    if hit.status not in OPEN:
        raise HitNotOpen(hit.status)
    boa = session.get(UserRow, boa_id)
    if boa is None or boa.role != Role.BOA.value or not boa.is_active:
        raise NotABoa
    row = session.get(HitAssignmentRow, hit_id) or HitAssignmentRow(
        hit_id=hit_id, boa_id=boa_id, assigned_by=actor.id
    )
    row.boa_id, row.assigned_by, row.assigned_at = boa_id, actor.id, now
    session.add(row)
    record(session, actor, "hit.assigned", "hit", hit_id, f"to={boa.username}")
    session.commit()
    return row


def unassign(session: Session, actor: Principal, hit_id: int) -> bool:
    """Take an assignment back; False when the hit had none."""
    row = session.get(HitAssignmentRow, hit_id)
    if row is None:
        return False
    session.delete(row)
    record(session, actor, "hit.unassigned", "hit", hit_id)
    session.commit()
    return True


def set_sharing(session: Session, boa: Principal, *, on: bool, now: datetime) -> None:
    """Start sharing (a row without a position yet) or stop (the row and position go)."""
    row = session.get(BoaPositionRow, boa.id)
    if on and row is None:
        session.add(BoaPositionRow(user_id=boa.id, since=now))
    elif not on and row is not None:
        session.delete(row)
    session.commit()


def share_position(
    session: Session,
    boa: Principal,
    *,
    lon: float,
    lat: float,
    accuracy_m: float | None,
    now: datetime,
    max_age: timedelta,
) -> bool:
    """Store the BOA's position when sharing is on (False when it is off: nothing stored);
    every BOA's position older than ``max_age`` is cleared on the way."""
    clear_stale_positions(session, now=now, max_age=max_age)
    row = session.get(BoaPositionRow, boa.id)
    if row is None:
        session.commit()
        return False
    row.lon, row.lat, row.accuracy_m, row.at = lon, lat, accuracy_m, now
    session.add(row)
    session.commit()
    return True


def clear_stale_positions(session: Session, *, now: datetime, max_age: timedelta) -> int:
    """Clear every position older than ``max_age`` (the sharing itself stays on); how many.
    The caller commits."""
    result = session.execute(
        update(BoaPositionRow)
        .where(col(BoaPositionRow.at) < now - max_age)
        .values(lon=None, lat=None, accuracy_m=None, at=None)
    )
    return int(getattr(result, "rowcount", 0) or 0)
