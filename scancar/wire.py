"""The wire schema between a scan car and the backend, defined once for both sides.

The car builds these models and posts them; the backend (``api``) imports this module to parse
them. Nothing here may import web or database code.
"""

from __future__ import annotations

import enum
import re
from datetime import UTC, datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from permits.bounds import EARLIEST_TIME, LATEST_TIME
from permits.plates import is_normalised_plate

MAX_EVIDENCE_PER_OBSERVATION = 6
EVIDENCE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")

Confidence = Annotated[float, Field(ge=0.0, le=1.0)]

# No car ran this software before this instant: an earlier capture is a broken clock (or a
# bad file), and would leave a hit waiting for its grace step for ever. Other times (a
# heartbeat's, the API's dates) only stay within sane bounds, far from the edges of what
# datetimes and the database can hold (year 1, year 9999).
CAR_SOFTWARE_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


def _check_between(value: datetime, earliest: datetime, what: str) -> datetime:
    # a naive time is compared as UTC (routes that need an offset say so themselves)
    aware = value if value.utcoffset() is not None else value.replace(tzinfo=UTC)
    if not earliest <= aware < LATEST_TIME:
        raise ValueError(
            f"time {value.isoformat()} is not plausible: {what} lie from "
            f"{earliest.date()} up to {LATEST_TIME.date()}"
        )
    return value


def check_capture_time(value: datetime) -> datetime:
    """A time a scan car saw something: not before the car's software existed."""
    return _check_between(value, CAR_SOFTWARE_EPOCH, "scan-car times")


def check_time(value: datetime) -> datetime:
    """Any other time: within 1970 up to 2100."""
    return _check_between(value, EARLIEST_TIME, "times")


def check_no_nul(value: str) -> str:
    """Text must not hold a NUL character (PostgreSQL cannot store one)."""
    if "\x00" in value:
        raise ValueError("text must not contain a NUL character (\\u0000)")
    return value


CarTime = Annotated[AwareDatetime, AfterValidator(check_capture_time)]
SaneTime = Annotated[AwareDatetime, AfterValidator(check_time)]
Text = Annotated[str, AfterValidator(check_no_nul)]


class SuspectReason(enum.StrEnum):
    """Why the car thinks this vehicle is in violation."""

    NO_RIGHT = "no_right"  # regulated zone, no permit / paid session / exemption
    MAX_STAY_EXCEEDED = "max_stay_exceeded"  # blue zone or time-limited zone, chalked earlier
    NO_PARKING = "no_parking"  # parking not allowed at all
    LOADING_ZONE = "loading_zone"  # parked in a loading zone outside loading


EvidenceKind = Literal["plate", "overview", "context"]


class EvidenceRef(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="name of the multipart part holding the image")
    kind: EvidenceKind
    sha256: str = Field(description="lowercase hex SHA-256 of the image bytes")

    @field_validator("name")
    @classmethod
    def _name_is_safe(cls, v: str) -> str:
        if not EVIDENCE_NAME.match(v):
            raise ValueError(
                "evidence name must be 1-64 characters of A-Z a-z 0-9 _ . - and start with a "
                f"letter or digit; got {v!r}"
            )
        return v

    @field_validator("sha256")
    @classmethod
    def _sha_is_hex(cls, v: str) -> str:
        if not SHA256_HEX.match(v):
            raise ValueError(f"sha256 must be 64 lowercase hex characters; got {v!r}")
        return v


class ObservationMetadata(BaseModel):
    """The ``metadata`` part of ``POST /api/v1/observations``."""

    model_config = ConfigDict(extra="forbid")

    observation_id: UUID
    captured_at: CarTime
    plate: str = Field(min_length=1, max_length=10)
    country: str | None = Field(default=None, description="ISO 3166 alpha-2, or null")
    plate_confidence: Confidence
    char_confidences: list[Confidence] = Field(default_factory=list, max_length=10)
    lon: float = Field(ge=-180.0, le=180.0)
    lat: float = Field(ge=-90.0, le=90.0)
    position_accuracy_m: float = Field(ge=0.0, le=10_000.0)
    heading_deg: float | None = Field(default=None, ge=0.0, le=360.0)
    camera: Text = Field(min_length=1, max_length=64)
    zone_id: Text | None = Field(default=None, max_length=128)
    reason: SuspectReason
    rights_checked_at: CarTime | None = None
    rights_cache_version: Text | None = Field(default=None, max_length=128)
    first_seen_at: CarTime | None = None
    software_version: Text = Field(default="unknown", max_length=64)
    evidence: list[EvidenceRef] = Field(min_length=1, max_length=MAX_EVIDENCE_PER_OBSERVATION)

    @field_validator("plate")
    @classmethod
    def _plate_is_normalised(cls, v: str) -> str:
        if not is_normalised_plate(v):
            raise ValueError(
                f"plate must be normalised (uppercase A-Z and 0-9, no dashes or spaces); got {v!r}"
            )
        return v

    @field_validator("country")
    @classmethod
    def _country_is_alpha2(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"[A-Z]{2}", v):
            raise ValueError(
                f"country must be an ISO 3166 alpha-2 code like 'NL' or null; got {v!r}"
            )
        return v

    @model_validator(mode="after")
    def _evidence_names_unique(self) -> ObservationMetadata:
        names = [e.name for e in self.evidence]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"evidence names must be unique; repeated: {', '.join(dupes)}")
        if self.first_seen_at is not None and self.first_seen_at > self.captured_at:
            raise ValueError("first_seen_at must not be after captured_at")
        return self


class ObservationReceipt(BaseModel):
    """The backend's answer to an observation: the hit it became."""

    id: int
    observation_id: UUID
    status: str


INT32_MAX = 2**31 - 1
Count = Annotated[int, Field(ge=0, le=INT32_MAX)]
Seconds = Annotated[float, Field(ge=0.0, le=1e9)]


class HeartbeatCounts(BaseModel):
    """Cumulative per run (``run_id``)."""

    model_config = ConfigDict(extra="forbid")

    frames: Count = 0
    frames_skipped: Count = 0
    reads: Count = 0
    checks: Count = 0
    suspects: Count = 0
    discarded: Count = 0
    passes: Count = 0
    rights_unknown: Count = Field(
        default=0, description="passes not decided: rights unknown (no plate key, no answer)"
    )
    clock_refused: Count = Field(
        default=0, description="passes not decided: the system clock disagreed with GPS time"
    )


class CameraHealth(BaseModel):
    """One camera as the car sees it."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    name: Text = Field(min_length=1, max_length=64)
    state: Literal["starting", "up", "reconnecting", "down"]
    fps: float = Field(ge=0.0, le=1000.0, description="frames per second over the last 5 s")
    last_frame_age_s: Seconds | None = None
    frames: Count = 0
    dropped: Count = Field(default=0, description="frames dropped: the pipeline was behind")
    reconnects: Count = 0


class GpsHealth(BaseModel):
    """The receiver: how old the newest fix is and how good."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    state: Literal["no_fix", "ok", "silent"]
    fix_age_s: Seconds | None = None
    hdop: float | None = Field(default=None, ge=0.0, le=100.0)
    fix_quality: Text | None = Field(default=None, max_length=16)
    satellites: int | None = Field(default=None, ge=0, le=255)


class Heartbeat(BaseModel):
    """``POST /api/v1/devices/heartbeat``: the car's periodic sign of life and health.

    Every field after ``software_version`` is optional, so older cars still validate.
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    sent_at: SaneTime
    run_id: UUID | None = Field(
        default=None, description="made at car process start; counts are cumulative per run"
    )
    lon: float | None = Field(default=None, ge=-180.0, le=180.0)
    lat: float | None = Field(default=None, ge=-90.0, le=90.0)
    counts: HeartbeatCounts = Field(default_factory=HeartbeatCounts)
    outbox_backlog: Count = 0
    rights_cache_age_s: float | None = Field(default=None, ge=0.0, le=1e9)
    software_version: Text = Field(default="unknown", max_length=64)
    uptime_s: Seconds | None = None
    cameras: list[CameraHealth] = Field(default_factory=list, max_length=8)
    gps: GpsHealth | None = None
    clock_offset_s: float | None = Field(
        default=None, ge=-1e9, le=1e9, description="system clock minus GPS time"
    )
    clock_trusted: bool | None = None
    rights_state: Literal["no_key", "cache"] | None = Field(
        default=None, description="no_key: rights unknown until the plate key is fetched"
    )
    zones_origin: Literal["file", "backend", "saved"] | None = None
    zones_version: int | None = Field(default=None, ge=0, le=INT32_MAX)
    outbox_oldest_age_s: Seconds | None = None
    dead_letters: Count = 0
    disk_free_bytes: int | None = Field(default=None, ge=0, le=2**62)
    problems: list[Annotated[Text, Field(max_length=200)]] = Field(
        default_factory=list, max_length=20, description="what the car itself finds wrong"
    )


def utc_iso(t: datetime) -> str:
    """ISO 8601 with offset, for the wire."""
    return t.isoformat()
