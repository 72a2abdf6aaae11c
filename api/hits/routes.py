"""Reading hits and their evidence; the queue (nearest first with a position)."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from api.audit.service import record
from api.auth.principal import Principal, Role
from api.deps import EvidenceStoreDep, SessionDep, allow
from api.errors import IntegrityFailure, NotFound, Unprocessable
from api.evidence.store import EvidenceMissing, EvidenceTampered
from api.hits import queries
from api.hits.model import HitStatus
from api.hits.schemas import HitOut, HitsPage, hit_out, hits_page
from api.limits import ROW_ID_MAX, QueryTime

router = APIRouter(prefix="/api/v1/hits", tags=["hits"])
log = logging.getLogger(__name__)

READERS = (Role.BOA, Role.BACKOFFICE)


def _near(lon: float | None, lat: float | None) -> tuple[float, float] | None:
    if (lon is None) != (lat is None):
        raise Unprocessable("give both lon and lat, or neither", code="partial_position")
    return (lon, lat) if lon is not None and lat is not None else None


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
    if since is not None and since.tzinfo is None:
        raise Unprocessable("since must carry a time-zone offset", code="naive_time")
    flt = queries.HitFilter(
        statuses=(status,) if status is not None else (),
        zone=zone,
        plate=plate.upper().replace("-", "").replace(" ", "") if plate is not None else None,
        since=since,
    )
    found = queries.find_hits(session, flt, near=_near(lon, lat), limit=limit, offset=offset)
    return hits_page(found)


@router.get("/{hit_id}", response_model=HitOut)
def get_hit(
    hit_id: Annotated[int, Path(ge=1, le=ROW_ID_MAX)],
    session: SessionDep,
    _: Annotated[Principal, allow(*READERS)],
) -> HitOut:
    return hit_out(queries.hit_detail(session, queries.get_hit(session, hit_id)))


@router.get(
    "/{hit_id}/evidence/{name}",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}, "image/png": {}}}},
)
def get_evidence(
    hit_id: Annotated[int, Path(ge=1, le=ROW_ID_MAX)],
    name: Annotated[str, Path(max_length=64)],
    session: SessionDep,
    store: EvidenceStoreDep,
    principal: Annotated[Principal, allow(*READERS)],
) -> Response:
    hit = queries.get_hit(session, hit_id)
    ev = queries.evidence_of(session, hit.id or 0, name)
    if ev is None:
        raise NotFound(f"hit {hit_id} has no evidence named {name!r}")
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
