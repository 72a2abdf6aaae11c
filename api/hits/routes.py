"""Reading hits and their evidence (the review issue adds the queue and decisions)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel
from sqlmodel import select

from api.audit.service import record
from api.auth.principal import Principal, Role
from api.deps import SessionDep, allow
from api.errors import IntegrityFailure, NotFound
from api.evidence.store import EvidenceMissing, EvidenceTampered
from api.hits.db import EvidenceRow, HitRow

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


class HitOut(BaseModel):
    id: int
    observation_id: str
    status: str
    plate: str
    country: str | None
    plate_confidence: float
    zone_id: str | None
    reason: str
    captured_at: datetime
    first_seen_at: datetime | None
    received_at: datetime
    lon: float
    lat: float
    position_accuracy_m: float
    camera: str
    evidence: list[EvidenceOut]


def _get_hit(session: SessionDep, hit_id: int) -> HitRow:
    hit = session.get(HitRow, hit_id)
    if hit is None:
        raise NotFound(f"no hit with id {hit_id}")
    return hit


def hit_out(session: SessionDep, hit: HitRow) -> HitOut:
    ev = session.exec(select(EvidenceRow).where(EvidenceRow.hit_id == hit.id)).all()
    return HitOut(
        **hit.model_dump(
            include={
                "id",
                "observation_id",
                "status",
                "plate",
                "country",
                "plate_confidence",
                "zone_id",
                "reason",
                "captured_at",
                "first_seen_at",
                "received_at",
                "lon",
                "lat",
                "position_accuracy_m",
                "camera",
            }
        ),
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


@router.get("/{hit_id}", response_model=HitOut)
def get_hit(
    hit_id: Annotated[int, Path(ge=1, le=2**62)],
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
    hit_id: Annotated[int, Path(ge=1, le=2**62)],
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
