"""Reading hits and their evidence (the review issue adds the queue and decisions)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel
from sqlmodel import col, func, select

from api.audit.service import record
from api.auth.principal import Principal, Role
from api.deps import SessionDep, allow
from api.errors import IntegrityFailure, NotFound, Unprocessable
from api.evidence.store import EvidenceMissing, EvidenceTampered
from api.hits.db import EvidenceRow, HitEventRow, HitRightsCheckRow, HitRow
from api.hits.model import HitStatus
from api.limits import ROW_ID_MAX, QueryTime
from api.review.rules import distance_m as geo_distance_m

router = APIRouter(prefix="/api/v1/hits", tags=["hits"])
log = logging.getLogger(__name__)

READERS = (Role.BOA, Role.BACKOFFICE)


class EvidenceOut(BaseModel):
    name: str
    kind: str
    sha256: str
    content_type: str
    width: int
    height: int
    url: str


class HitEventOut(BaseModel):
    at: datetime
    actor_type: str
    actor_name: str
    action: str
    from_status: str
    to_status: str
    detail: str


class RightsCheckOut(BaseModel):
    id: int
    at: datetime
    source: str
    plate: str
    zone_id: str | None
    checked_for: datetime
    allowed: bool
    reason: str
    right_id: str | None
    valid_until: datetime | None


class HitSummary(BaseModel):
    id: int
    observation_id: str
    status: str
    plate: str
    original_plate: str | None
    country: str | None
    plate_confidence: float
    zone_id: str | None
    reason: str
    captured_at: datetime
    first_seen_at: datetime | None
    received_at: datetime
    grace_until: datetime | None
    lon: float
    lat: float
    position_accuracy_m: float
    camera: str
    repeat: bool
    claimed_by: int | None
    claimed_until: datetime | None
    decided_by: int | None
    decided_at: datetime | None
    decision_mode: str | None
    reject_reason: str | None
    decision_note: str | None
    distance_m: float | None = None


class HitOut(HitSummary):
    evidence: list[EvidenceOut]
    history: list[HitEventOut]
    rights_checks: list[RightsCheckOut]


class HitsPage(BaseModel):
    data: list[HitSummary]
    count: int


def _get_hit(session: SessionDep, hit_id: int) -> HitRow:
    hit = session.get(HitRow, hit_id)
    if hit is None:
        raise NotFound(f"no hit with id {hit_id}")
    return hit


def hit_summary(hit: HitRow, distance_m: float | None = None) -> HitSummary:
    return HitSummary.model_validate(
        {**hit.model_dump(include=set(HitSummary.model_fields)), "distance_m": distance_m}
    )


def hit_out(session: SessionDep, hit: HitRow) -> HitOut:
    ev = session.exec(select(EvidenceRow).where(EvidenceRow.hit_id == hit.id)).all()
    events = session.exec(
        select(HitEventRow).where(HitEventRow.hit_id == hit.id).order_by(col(HitEventRow.id))
    ).all()
    checks = session.exec(
        select(HitRightsCheckRow)
        .where(HitRightsCheckRow.hit_id == hit.id)
        .order_by(col(HitRightsCheckRow.id))
    ).all()
    return HitOut(
        **hit_summary(hit).model_dump(),
        history=[HitEventOut.model_validate(e, from_attributes=True) for e in events],
        rights_checks=[RightsCheckOut.model_validate(c, from_attributes=True) for c in checks],
        evidence=[
            EvidenceOut(
                name=e.name,
                kind=e.kind,
                sha256=e.sha256,
                content_type=e.content_type,
                width=e.width,
                height=e.height,
                url=f"/api/v1/hits/{hit.id}/evidence/{e.name}",
            )
            for e in ev
        ],
    )


@router.get("", response_model=HitsPage)
def list_hits(
    session: SessionDep,
    _: Annotated[Principal, allow(*READERS)],
    status: Annotated[HitStatus | None, Query()] = None,
    zone: Annotated[str | None, Query(max_length=128)] = None,
    plate: Annotated[str | None, Query(max_length=16)] = None,
    since: Annotated[QueryTime | None, Query(description="captured at or after (ISO 8601)")] = None,
    lon: Annotated[float | None, Query(ge=-180, le=180)] = None,
    lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> HitsPage:
    """The review queue. With ``lon``/``lat``: nearest first, with the distance in metres."""
    stmt = select(HitRow)
    if status is not None:
        stmt = stmt.where(HitRow.status == status.value)
    if zone is not None:
        stmt = stmt.where(HitRow.zone_id == zone)
    if plate is not None:
        stmt = stmt.where(HitRow.plate == plate.upper().replace("-", "").replace(" ", ""))
    if since is not None:
        if since.tzinfo is None:
            raise Unprocessable("since must carry a time-zone offset", code="naive_time")
        stmt = stmt.where(col(HitRow.captured_at) >= since)
    if (lon is None) != (lat is None):
        raise Unprocessable("give both lon and lat, or neither", code="partial_position")
    if lon is not None and lat is not None:
        rows = session.exec(stmt.order_by(col(HitRow.id)).limit(5000)).all()
        ranked = sorted(
            ((geo_distance_m(lon, lat, h.lon, h.lat), h) for h in rows), key=lambda x: x[0]
        )
        page = ranked[offset : offset + limit]
        return HitsPage(data=[hit_summary(h, d) for d, h in page], count=len(ranked))
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    rows = session.exec(
        stmt.order_by(col(HitRow.captured_at).desc(), col(HitRow.id).desc())
        .offset(offset)
        .limit(limit)
    ).all()
    return HitsPage(data=[hit_summary(h) for h in rows], count=total)


@router.get("/{hit_id}", response_model=HitOut)
def get_hit(
    hit_id: Annotated[int, Path(ge=1, le=ROW_ID_MAX)],
    session: SessionDep,
    _: Annotated[Principal, allow(*READERS)],
) -> HitOut:
    return hit_out(session, _get_hit(session, hit_id))


@router.get(
    "/{hit_id}/evidence/{name}",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}, "image/png": {}}}},
)
def get_evidence(
    request: Request,
    hit_id: Annotated[int, Path(ge=1, le=ROW_ID_MAX)],
    name: Annotated[str, Path(max_length=64)],
    session: SessionDep,
    principal: Annotated[Principal, allow(*READERS)],
) -> Response:
    hit = _get_hit(session, hit_id)
    ev = session.exec(
        select(EvidenceRow).where(EvidenceRow.hit_id == hit.id, EvidenceRow.name == name)
    ).first()
    if ev is None:
        raise NotFound(f"hit {hit_id} has no evidence named {name!r}")
    store = request.app.state.evidence_store
    try:
        data = store.read(ev.sha256)
    except EvidenceTampered:
        log.error("evidence %s of hit %s failed its hash check", ev.sha256, hit_id)
        record(session, principal, "evidence.tampered", "hit", hit_id, f"name={name}")
        session.commit()
        raise IntegrityFailure(
            f"evidence {name!r} of hit {hit_id} does not match its recorded hash; it was "
            "changed on disk and is not served",
            code="evidence_tampered",
        ) from None
    except EvidenceMissing:
        raise NotFound(
            f"evidence {name!r} of hit {hit_id} is no longer stored (deleted by retention)",
            code="evidence_gone",
        ) from None
    return Response(
        content=data,
        media_type=ev.content_type,
        headers={"Cache-Control": "no-store, private", "X-Content-Type-Options": "nosniff"},
    )
