"""Writing the audit log. Call ``record`` in the same transaction as the change it describes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert
from sqlmodel import Session

from api.audit.db import AuditRow
from api.auth.principal import Principal
from api.context import current_request_id
from api.db import utcnow

MAX_DETAIL = 500


def record(
    session: Session,
    actor: Principal | None,
    action: str,
    target_type: str,
    target_id: object,
    detail: str = "",
) -> AuditRow:
    """Add one audit row (``actor=None`` is the system itself: jobs, CLI)."""
    row = AuditRow(**_values(actor, action, target_type, target_id, detail))
    session.add(row)
    return row


_INSERT = insert(AuditRow.__table__)  # type: ignore[attr-defined]


def append(
    conn: Connection,
    actor: Principal | None,
    action: str,
    target_type: str,
    target_id: object,
    detail: str = "",
) -> None:
    """``record`` for Core code on a connection (the busiest paths: no ORM object)."""
    conn.execute(_INSERT, _values(actor, action, target_type, target_id, detail))


def _values(
    actor: Principal | None, action: str, target_type: str, target_id: object, detail: str
) -> dict[str, Any]:
    return {
        "at": utcnow(),
        "actor_type": actor.kind if actor else "system",
        "actor_id": actor.id if actor else None,
        "actor_name": actor.name if actor else "system",
        "action": action,
        "target_type": target_type,
        "target_id": str(target_id),
        "request_id": current_request_id(),
        "detail": detail[:MAX_DETAIL],
    }
