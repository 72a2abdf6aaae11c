"""A fine's row and its history: reading one, recording an event (with its audit row), and the
conditional UPDATE every state change goes through (``WHERE status = ...``: two users or two
server processes never both win)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col

from api.audit.service import record
from api.auth.principal import Principal
from api.db import utcnow
from api.errors import Conflict, NotFound
from api.fines.db import (
    FineEventRow,
    FineRow,
)
from api.fines.rules import (
    FineAction,
    FineStatus,
    next_status,
)


def add_event(
    session: Session,
    fine: FineRow,
    actor: Principal | None,
    action: str,
    from_status: str,
    detail: str = "",
) -> None:
    session.add(
        FineEventRow(
            fine_id=fine.id or 0,
            at=utcnow(),
            actor_type=actor.kind if actor else "system",
            actor_id=actor.id if actor else None,
            actor_name=actor.name if actor else "system",
            action=action,
            from_status=from_status,
            to_status=fine.status,
            detail=detail[:1000],
        )
    )
    record(
        session, actor, f"fine.{action}", "fine", fine.id, f"{from_status}->{fine.status} {detail}"
    )


def get_fine(session: Session, fine_id: int) -> FineRow:
    fine = session.get(FineRow, fine_id)
    if fine is None:
        raise NotFound(f"no fine with id {fine_id}")
    return fine


def transition(
    session: Session,
    fine: FineRow,
    action: FineAction,
    actor: Principal | None,
    *,
    values: dict[str, Any] | None = None,
    detail: str = "",
    extra_where: Sequence[Any] = (),
) -> FineRow:
    """Conditional UPDATE from the fine's current state; 409 when it changed meanwhile."""
    status = FineStatus(fine.status)
    new = next_status(status, action)
    stmt = (
        update(FineRow)
        .where(col(FineRow.id) == fine.id, col(FineRow.status) == status.value, *extra_where)
        .values(status=new.value, updated_at=utcnow(), **(values or {}))
    )
    if session.execute(stmt).rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise Conflict("the fine changed meanwhile; reload it", code="fine_changed")
    session.refresh(fine)
    add_event(session, fine, actor, action.value, status.value, detail)
    return fine
