"""BOA actions on a hit: claim, release, confirm, reject, correct the plate, add a photo."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, UploadFile
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api.auth.principal import Principal, Role
from api.deps import ReviewDep, SessionDep, SettingsDep, allow
from api.errors import PayloadTooLarge, Unprocessable
from api.evidence.images import InvalidImage
from api.hits import queries
from api.hits.db import HitRow
from api.hits.schemas import HitOut, hit_out
from api.limits import ROW_ID_MAX
from api.review.schemas import ConfirmIn, CorrectPlateIn, CorrectPlateOut, RejectIn

router = APIRouter(prefix="/api/v1/hits", tags=["review"])
HitId = Annotated[int, Path(ge=1, le=ROW_ID_MAX)]
Boa = Annotated[Principal, allow(Role.BOA)]


def _out(session: Session, hit: HitRow) -> HitOut:
    return hit_out(queries.hit_detail(session, hit))


@router.post("/{hit_id}/claim", response_model=HitOut)
def claim(hit_id: HitId, session: SessionDep, review: ReviewDep, boa: Boa) -> HitOut:
    """Take a hit for review (expires after the claim time; 409 when another BOA has it)."""
    return _out(session, review.claim(session, hit_id, boa))


@router.post("/{hit_id}/release", response_model=HitOut)
def release(hit_id: HitId, session: SessionDep, review: ReviewDep, boa: Boa) -> HitOut:
    return _out(session, review.release(session, hit_id, boa))


@router.post("/{hit_id}/confirm", response_model=HitOut)
def confirm(
    hit_id: HitId, body: ConfirmIn, session: SessionDep, review: ReviewDep, boa: Boa
) -> HitOut:
    hit = review.confirm(
        session, hit_id, boa, mode=body.mode, lon=body.lon, lat=body.lat, note=body.note
    )
    return _out(session, hit)


@router.post("/{hit_id}/reject", response_model=HitOut)
def reject(
    hit_id: HitId, body: RejectIn, session: SessionDep, review: ReviewDep, boa: Boa
) -> HitOut:
    return _out(session, review.reject(session, hit_id, boa, reason=body.reason, note=body.note))


@router.post("/{hit_id}/correct-plate", response_model=CorrectPlateOut)
def correct_plate(
    hit_id: HitId, body: CorrectPlateIn, session: SessionDep, review: ReviewDep, boa: Boa
) -> CorrectPlateOut:
    done = review.correct_plate(
        session,
        hit_id,
        boa,
        plate=body.plate,
        reason=body.reason,
        confirmed_different=body.confirm_different,
    )
    return CorrectPlateOut(
        hit=_out(session, done.hit), allowed=done.check.allowed, reason=done.check.reason
    )


@router.post("/{hit_id}/photos", response_model=HitOut, status_code=201)
async def add_photo(
    hit_id: HitId,
    photo: UploadFile,
    session: SessionDep,
    settings: SettingsDep,
    review: ReviewDep,
    boa: Boa,
) -> HitOut:
    """Attach an on-site photo from the tablet camera (JPEG or PNG)."""
    data = await photo.read(settings.max_image_bytes + 1)
    if len(data) > settings.max_image_bytes:
        raise PayloadTooLarge(f"the photo is over {settings.max_image_bytes} bytes")
    try:  # the image check may wait for a free slot
        hit = await run_in_threadpool(review.add_photo, session, hit_id, boa, data)
    except InvalidImage as exc:
        raise Unprocessable(f"photo: {exc}", code="invalid_image") from None
    return _out(session, hit)
