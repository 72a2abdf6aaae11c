"""``GET /api/v1/audit``: read the audit log (admin, backoffice). Nothing updates or deletes it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlmodel import col, func, select

from api.audit.db import AuditRow
from api.auth.principal import Principal, Role
from api.deps import SessionDep, allow

router = APIRouter(prefix="/api/v1", tags=["audit"])


class AuditEntry(BaseModel):
    id: int
    at: datetime
    actor_type: str
    actor_id: int | None
    actor_name: str
    action: str
    target_type: str
    target_id: str
    request_id: str | None
    detail: str


class AuditPage(BaseModel):
    data: list[AuditEntry]
    count: int


@router.get("/audit", response_model=AuditPage)
def list_audit(
    session: SessionDep,
    _: Annotated[Principal, allow(Role.ADMIN, Role.BACKOFFICE)],
    target_type: Annotated[str | None, Query(max_length=32)] = None,
    target_id: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> AuditPage:
    stmt = select(AuditRow)
    count_stmt = select(func.count()).select_from(AuditRow)
    for column, value in (
        (AuditRow.target_type, target_type),
        (AuditRow.target_id, target_id),
        (AuditRow.action, action),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
            count_stmt = count_stmt.where(column == value)
    rows = session.exec(stmt.order_by(col(AuditRow.id).desc()).offset(offset).limit(limit)).all()
    total = session.exec(count_stmt).one()
    return AuditPage(
        data=[AuditEntry.model_validate(r, from_attributes=True) for r in rows], count=total
    )
