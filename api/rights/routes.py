"""The rights check (BOA, back office, scan car) and the scan-car feed (device)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.auth.principal import Principal, Role
from api.db import utcnow
from api.deps import PendingPrincipal, SessionDep, SettingsDep, allow, allow_deferred, backend_of
from api.errors import Unprocessable
from api.limits import QueryTime
from api.rights.check_pg import CheckPool, check_and_log_on_loop
from api.rights.check_sql import check_and_log_on_thread
from api.rights.checker import plan_check
from api.rights.feed import FeedKeys, PeriodKey, snapshot_lines
from api.rights.repository import SqlRightsRepository
from permits.feed import DEFAULT_CHANGES_LIMIT, PlateKeyer, RightsChangesPage, changes_page

router = APIRouter(prefix="/api/v1/rights", tags=["rights"])
NDJSON = "application/x-ndjson"


class CheckZoneOut(BaseModel):
    id: str
    name: str
    kind: str
    area_code: str
    grace_minutes: int
    permit_types: list[str]


class CheckOut(BaseModel):
    allowed: bool
    reason: str
    right_id: str | None
    valid_until: datetime | None
    plate: str
    at: datetime
    zone: CheckZoneOut | None
    zone_version: int


class FeedKeyOut(BaseModel):
    key_id: str
    key_hex: str
    algorithm: str = "HMAC-SHA256 over the normalised plate (ASCII), lowercase hex"
    valid_from: datetime | None = None
    rotates_at: datetime | None = Field(
        default=None,
        description="when a new key replaces this one (fetch it and a new snapshot then); "
        "null: never",
    )


def _period_key(request: Request) -> PeriodKey:
    keys: FeedKeys = backend_of(request).feed_keys
    return keys.at(utcnow())


def _keyer(request: Request) -> PlateKeyer:
    return _period_key(request).keyer


@router.get("/check", response_model=CheckOut)
async def check_rights(
    request: Request,
    caller: Annotated[PendingPrincipal, allow_deferred(Role.BOA, Role.BACKOFFICE, Role.DEVICE)],
    plate: Annotated[str, Query(min_length=1, max_length=20, description="any spelling")],
    lon: Annotated[float, Query(ge=-180, le=180)],
    lat: Annotated[float, Query(ge=-90, le=90)],
    at: Annotated[QueryTime | None, Query(description="ISO 8601 with offset; default now")] = None,
) -> CheckOut:
    """May ``plate`` park at (lon, lat) at ``at``, and why? Every check is logged."""
    if at is not None and at.utcoffset() is None:
        raise Unprocessable(
            "at must carry a time-zone offset, e.g. 2026-11-26T10:00:00+01:00",
            code="naive_datetime",
        )
    when = at or utcnow()
    backend = backend_of(request)  # not a dependency: the hottest route, one lookup fewer
    zones = backend.recent_zone_set
    zone_set = zones.fresh()
    if zone_set is None:  # at most once a second: the zone version query
        zone_set = await run_in_threadpool(zones.current)
    # the plan normalises the plate (422 for one that cannot be a plate)
    plan = plan_check(zone_set, plate, lon, lat, when, backend.settings.default_grace_minutes)
    pool: CheckPool | None = backend.check_pool
    if pool is not None and pool.is_open:  # PostgreSQL: no worker thread
        result = await check_and_log_on_loop(pool, caller, plan, lon, lat)
    else:
        result = await run_in_threadpool(
            check_and_log_on_thread, backend.engine, caller, plan, lon, lat
        )
    zone, decision = result.zone, result.decision
    backend.metrics.rights_checks.labels(decision.reason.value).inc()
    out = CheckOut(
        allowed=decision.allowed,
        reason=decision.reason.value,
        right_id=decision.right_id,
        valid_until=decision.valid_until,
        plate=plan.plate,
        at=when,
        zone=CheckZoneOut(
            id=zone.id,
            name=zone.name,
            kind=zone.kind.value,
            area_code=zone.area_code,
            grace_minutes=zone.grace_minutes,
            permit_types=list(zone.permit_types),
        )
        if zone
        else None,
        zone_version=result.zone_version,
    )
    # serialised here: FastAPI would validate the model it was just given once more
    return Response(out.model_dump_json(), media_type="application/json")  # type: ignore[return-value]


@router.get("/feed-key", response_model=FeedKeyOut)
def get_feed_key(request: Request, _: Annotated[Principal, allow(Role.DEVICE)]) -> FeedKeyOut:
    """The current plate key for the offline cache (enrolled scan cars only; a revoked device
    is refused). The car keeps it in memory only and fetches it again at every start and when
    it rotates (``rotates_at``), together with a new snapshot."""
    key = _period_key(request)
    return FeedKeyOut(
        key_id=key.keyer.key_id,
        key_hex=key.key.hex(),
        valid_from=key.valid_from,
        rotates_at=key.rotates_at,
    )


@router.get(
    "/snapshot",
    response_class=StreamingResponse,
    responses={200: {"content": {NDJSON: {}}, "description": "one RightsSnapshotPage per line"}},
)
def get_snapshot(
    request: Request,
    settings: SettingsDep,
    _: Annotated[Principal, allow(Role.DEVICE)],
    at: Annotated[
        QueryTime | None,
        Query(description="the car's clock (a replay: its recording's time); default now"),
    ] = None,
) -> StreamingResponse:
    """Every right valid at ``at`` or in the 24 h after it (and the hour before), plates as
    keyed hashes, as NDJSON: one ``RightsSnapshotPage`` per line, the last with ``is_last``.
    A stream that ends without ``is_last`` is broken: discard it. ``at`` lets a car's cache
    window follow the car's clock, so a replayed recording is checked against its cache
    (the offline path) as a live car is."""
    now = utcnow()
    if at is not None and at.utcoffset() is None:
        raise Unprocessable("at must carry a time-zone offset", code="naive_time")
    lines = snapshot_lines(
        backend_of(request).engine,
        _keyer(request),
        now,
        page_size=settings.rights_snapshot_page_size,
        window_at=at,
    )
    return StreamingResponse(lines, media_type=NDJSON, headers={"Cache-Control": "no-store"})


@router.get("/changes", response_model=RightsChangesPage)
def get_changes(
    request: Request,
    session: SessionDep,
    _: Annotated[Principal, allow(Role.DEVICE)],
    since: Annotated[str, Query(min_length=1, max_length=100)],
    limit: Annotated[int, Query(ge=1, le=10_000)] = DEFAULT_CHANGES_LIMIT,
) -> RightsChangesPage:
    """Upserts and removals after ``since`` (oldest first) and the next cursor. 410
    ``feed_cursor_expired`` when the cursor is unknown: take a new snapshot."""
    return changes_page(SqlRightsRepository(session), _keyer(request), since, utcnow(), limit=limit)
