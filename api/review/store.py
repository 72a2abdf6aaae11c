"""What every review step writes besides the hit: its history and audit rows, its rights
checks; the conditional state change and the repeat test they share."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlmodel import Session, col, select

from api.audit.service import record
from api.auth.principal import Principal
from api.db import utcnow
from api.hits.db import HitEventRow, HitRightsCheckRow, HitRow
from api.hits.model import HitStatus
from api.hits.queries import get_hit
from api.review.ports import RightsResult
from api.review.rules import HitAction, next_status

__all__ = ["add_event", "get_hit", "is_repeat", "save_check", "transition"]

LOCAL = ZoneInfo("Europe/Amsterdam")


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


def transition(
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
