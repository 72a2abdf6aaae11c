"""The review actions' wire schemas (``/api/v1/hits/{id}/...``), also the tablet forms'."""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.hits.schemas import HitOut
from api.review.rules import DecisionMode, RejectReason


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
