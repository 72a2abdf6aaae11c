"""``GET /api/v1/audit``: read the audit log (admin, backoffice). Nothing updates or deletes it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.audit.queries import AuditFilter, audit_entries
from api.auth.principal import Principal, Role
from api.deps import SessionDep, allow
from api.errors import Unprocessable
from api.limits import QueryTime

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
    count: int = Field(description="matching rows; when count_exact is false, more than this")
    count_exact: bool = True


@router.get("/audit", response_model=AuditPage)
def list_audit(
    session: SessionDep,
    _: Annotated[Principal, allow(Role.ADMIN, Role.BACKOFFICE)],
    target_type: Annotated[str | None, Query(max_length=32)] = None,
    target_id: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=64, description="exact, or 'fine.*'")] = None,
    actor: Annotated[str | None, Query(max_length=64, description="the actor's name")] = None,
    since: Annotated[QueryTime | None, Query(description="at or after (ISO 8601)")] = None,
    until: Annotated[QueryTime | None, Query(description="before (ISO 8601)")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> AuditPage:
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise Unprocessable(f"{name} must carry a time-zone offset", code="naive_time")
    flt = AuditFilter(
        actor=actor,
        target_type=target_type,
        target_id=target_id,
        action=action,
        since=since,
        until=until,
    )
    page = audit_entries(session, flt, limit=limit, offset=offset)
    return AuditPage(
        data=[AuditEntry.model_validate(e, from_attributes=True) for e in page.entries],
        count=page.count,
        count_exact=page.count_exact,
    )
