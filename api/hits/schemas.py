"""The hits' wire schemas (``/api/v1/hits``): a hit in the list, a hit with its evidence,
history and rights checks, and a page of hits. Built from ``api.hits.queries`` results."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from api.hits.db import HitRow
from api.hits.queries import HitDetail, HitsFound


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
    count: int = Field(description="matching hits; when count_exact is false, more than this")
    count_exact: bool = True


def hit_summary(hit: HitRow, distance_m: float | None = None) -> HitSummary:
    return HitSummary.model_validate(
        {**hit.model_dump(include=set(HitSummary.model_fields)), "distance_m": distance_m}
    )


def hits_page(found: HitsFound) -> HitsPage:
    return HitsPage(
        data=[hit_summary(r.hit, r.distance) for r in found.rows],
        count=found.count,
        count_exact=found.count_exact,
    )


def hit_out(detail: HitDetail) -> HitOut:
    hit = detail.hit
    return HitOut(
        **hit_summary(hit).model_dump(),
        history=[HitEventOut.model_validate(e, from_attributes=True) for e in detail.history],
        rights_checks=[
            RightsCheckOut.model_validate(c, from_attributes=True) for c in detail.checks
        ],
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
            for e in detail.evidence
        ],
    )
