"""BOA actions on a hit: claim, release, confirm, reject, correct the plate, add a photo."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, UploadFile
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.auth.principal import Principal, Role
from api.deps import SessionDep, SettingsDep, allow
from api.errors import PayloadTooLarge, Unprocessable
from api.evidence.images import InvalidImage
from api.hits.routes import HitOut, hit_out
from api.limits import ROW_ID_MAX
from api.review import service
from api.review.photos import add_on_site_photo
from api.review.rules import DecisionMode, RejectReason

router = APIRouter(prefix="/api/v1/hits", tags=["review"])
HitId = Annotated[int, Path(ge=1, le=ROW_ID_MAX)]
Boa = Annotated[Principal, allow(Role.BOA)]


class ConfirmIn(BaseModel):
    mode: DecisionMode
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    note: str | None = Field(default=None, max_length=1000)


class RejectIn(BaseModel):
    reason: RejectReason
    note: str | None = Field(default=None, max_length=1000)


class CorrectPlateIn(BaseModel):
    plate: str = Field(min_length=1, max_length=16)
    reason: str = Field(min_length=1, max_length=300, description="why the plate is corrected")
    confirm_different: bool = Field(
        default=False,
        description="the BOA checked a plate that differs from the car's read in more than "
        "look-alike characters (0/O, 8/B, ...)",
    )


class CorrectPlateOut(BaseModel):
    hit: HitOut
    allowed: bool
    reason: str


@router.post("/{hit_id}/claim", response_model=HitOut)
def claim(hit_id: HitId, session: SessionDep, settings: SettingsDep, boa: Boa) -> HitOut:
    """Take a hit for review (expires after the claim time; 409 when another BOA has it)."""
    return hit_out(session, service.claim(session, hit_id, boa, settings))


@router.post("/{hit_id}/release", response_model=HitOut)
def release(hit_id: HitId, session: SessionDep, boa: Boa) -> HitOut:
    return hit_out(session, service.release(session, hit_id, boa))


@router.post("/{hit_id}/confirm", response_model=HitOut)
def confirm(
    hit_id: HitId,
    body: ConfirmIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    boa: Boa,
) -> HitOut:
    hit = service.confirm(
        session,
        hit_id,
        boa,
        mode=body.mode,
        lon=body.lon,
        lat=body.lat,
        note=body.note,
        rights=request.app.state.rights_checker,
        zones=request.app.state.zone_rules,
        settings=settings,
        drafts=request.app.state.fine_drafts,
    )
    request.app.state.metrics.observe_review("confirmed", hit)
    return hit_out(session, hit)


@router.post("/{hit_id}/reject", response_model=HitOut)
def reject(
    hit_id: HitId,
    body: RejectIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    boa: Boa,
) -> HitOut:
    hit = service.reject(
        session,
        hit_id,
        boa,
        reason=body.reason.value,
        note=body.note,
        claim_minutes=settings.claim_minutes,
    )
    request.app.state.metrics.observe_review("rejected", hit)
    return hit_out(session, hit)


@router.post("/{hit_id}/correct-plate", response_model=CorrectPlateOut)
def correct_plate(
    hit_id: HitId,
    body: CorrectPlateIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    boa: Boa,
) -> CorrectPlateOut:
    hit, result = service.correct_plate(
        session,
        hit_id,
        boa,
        plate=body.plate,
        reason=body.reason,
        confirmed_different=body.confirm_different,
        rights=request.app.state.rights_checker,
        zones=request.app.state.zone_rules,
        settings=settings,
    )
    return CorrectPlateOut(hit=hit_out(session, hit), allowed=result.allowed, reason=result.reason)


@router.post("/{hit_id}/photos", response_model=HitOut, status_code=201)
async def add_photo(
    hit_id: HitId,
    photo: UploadFile,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    boa: Boa,
) -> HitOut:
    """Attach an on-site photo from the tablet camera (JPEG or PNG)."""
    data = await photo.read(settings.max_image_bytes + 1)
    if len(data) > settings.max_image_bytes:
        raise PayloadTooLarge(f"the photo is over {settings.max_image_bytes} bytes")
    try:
        hit = await run_in_threadpool(  # the image check may wait for a free slot
            add_on_site_photo,
            session,
            request.app.state.evidence_store,
            hit_id,
            boa,
            data,
            images=request.app.state.image_checker,
        )
    except InvalidImage as exc:
        raise Unprocessable(f"photo: {exc}", code="invalid_image") from None
    return hit_out(session, hit)
