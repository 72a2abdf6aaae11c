"""Value objects of the GPS package: fixes, positions, drop reasons."""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from scancar.gps.errors import GpsConfigError


class FixQuality(enum.StrEnum):
    """How the receiver computed a fix (GGA quality indicator / RMC mode indicator)."""

    GPS = "gps"
    DGPS = "dgps"
    PPS = "pps"
    RTK_FIXED = "rtk_fixed"
    RTK_FLOAT = "rtk_float"
    ESTIMATED = "estimated"  # dead reckoning
    MANUAL = "manual"
    SIMULATED = "simulated"


class DropReason(enum.StrEnum):
    """Why a sentence, or an epoch of sentences, did not become an accepted fix.

    Sentence-level reasons count sentences; epoch-level reasons (from ``NO_FIX`` on) count the
    group of sentences that share one UTC time.
    """

    # sentence level
    BAD_CHECKSUM = "bad_checksum"
    MISSING_CHECKSUM = "missing_checksum"
    MALFORMED = "malformed"  # wrong field count, unparsable number, binary bytes
    # epoch level
    NO_FIX = "no_fix"  # RMC/GLL status V, GGA quality 0, mode indicator N
    UNRELIABLE_MODE = "unreliable_mode"  # estimated / manual / simulated, when not accepted
    NO_DATE = "no_date"  # time of day only, no plausible date known yet
    IMPLAUSIBLE_DATE = "implausible_date"  # 1980 power-up or GPS week-rollover date
    INVALID_POSITION = "invalid_position"  # out of range, minutes >= 60, (0, 0)
    HDOP_TOO_HIGH = "hdop_too_high"
    IMPLAUSIBLE_SPEED = "implausible_speed"  # reported speed above the limit
    IMPLAUSIBLE_JUMP = "implausible_jump"  # distance / time to the last good fix above the limit
    DUPLICATE_TIME = "duplicate_time"  # same UTC time as the last accepted fix
    OUT_OF_ORDER = "out_of_order"  # a few seconds older than the last accepted fix
    IMPLAUSIBLE_TIME = "implausible_time"  # a time jump the next fix did not confirm
    INCONSISTENT_DATE = "inconsistent_date"  # a date change not (yet) confirmed by a second one
    INCONSISTENT_EPOCH = "inconsistent_epoch"  # GGA/RMC/GLL of one epoch disagree on position


class IgnoredKind(enum.StrEnum):
    """Input that is not an error but carries no fix: counted apart from drops."""

    BLANK = "blank"
    COMMENT = "comment"  # '#' lines in recorded logs
    UNSUPPORTED = "unsupported"  # GSV, GSA, TXT, proprietary, AIS, other talkers
    NOISE = "noise"  # bytes outside any sentence
    EMPTY = "empty"  # a known sentence with no data (e.g. ZDA with empty fields)


@dataclass(frozen=True, slots=True)
class Fix:
    """One accepted position fix (one epoch of sentences merged)."""

    time: datetime  # tz-aware UTC
    lon: float
    lat: float
    speed_mps: float | None
    course_deg: float | None  # true course over ground, 0..360
    hdop: float | None
    quality: FixQuality
    satellites: int | None
    source_line: int  # 1-based line of the sentence that gave the position
    talker: str = "GP"
    segment: int = 0  # incremented each time the receiver's time jumps backwards
    error_m: float | None = None  # the source's own horizontal error estimate (gpsd eph)

    def __post_init__(self) -> None:
        if self.time.tzinfo is None or self.time.utcoffset() is None:
            raise GpsConfigError("Fix.time", self.time, "a timezone-aware UTC datetime")
        if not -180.0 <= self.lon <= 180.0:
            raise GpsConfigError("Fix.lon", self.lon, "between -180 and 180")
        if not -90.0 <= self.lat <= 90.0:
            raise GpsConfigError("Fix.lat", self.lat, "between -90 and 90")


class UncertainReason(enum.StrEnum):
    """Why a position must not decide a zone hit on its own (see ``Track``)."""

    NO_FIX_YET = "no_fix_yet"  # before the oldest fix kept
    STALE = "stale"  # too long after the newest fix
    GAP = "gap"  # the fixes around the instant are too far apart in time
    POOR_ACCURACY = "poor_accuracy"  # accuracy estimate worse than the limit
    NO_HEADING = "no_heading"  # standing still since start-up: the camera side is unknown


@dataclass(frozen=True, slots=True)
class Position:
    """The car's position at one instant, as the pipeline uses it."""

    lon: float
    lat: float
    heading_deg: float | None
    speed_mps: float | None
    accuracy_m: float  # estimated horizontal error (1 sigma-ish), metres
    uncertain: bool  # True: must never make a zone hit on its own
    reason: UncertainReason | None = None  # why uncertain


@dataclass(slots=True)
class ParseStats:
    """Counters of one parser run (mutable: the parser owns it)."""

    lines_read: int = 0
    sentences: int = 0
    fixes_accepted: int = 0
    time_jumps_backwards: int = 0
    reanchored: int = 0
    dropped: Counter[DropReason] = field(default_factory=Counter)
    ignored: Counter[IgnoredKind] = field(default_factory=Counter)

    def summary(self) -> str:
        drops = ", ".join(f"{r.value}={n}" for r, n in sorted(self.dropped.items()))
        ignored = ", ".join(f"{k.value}={n}" for k, n in sorted(self.ignored.items()))
        return (
            f"lines read {self.lines_read}, sentences {self.sentences}, "
            f"fixes accepted {self.fixes_accepted}, "
            f"dropped {sum(self.dropped.values())} ({drops or 'none'}), "
            f"ignored {sum(self.ignored.values())} ({ignored or 'none'}), "
            f"time jumps backwards {self.time_jumps_backwards}, re-anchored {self.reanchored}"
        )
