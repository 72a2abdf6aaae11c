"""Values of the enforcement decision: settings, outcomes and counters (numbers only)."""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from scancar.rights.ports import RightsAnswer
from scancar.wire import SuspectReason


class PipelineConfigError(ValueError):
    """A pipeline setting is out of range; the message names the value and the allowed range."""


class OutcomeKind(enum.StrEnum):
    """What became of one vehicle pass."""

    DISCARD_CLOCK_OFFSET = "discard_clock_offset"  # system clock disagrees with GPS time
    DISCARD_NO_POSITION = "discard_no_position"  # no GPS position for the pass's time
    DISCARD_UNCERTAIN_ZONE = "discard_uncertain_zone"  # near a boundary / position uncertain
    DISCARD_UNREGULATED = "discard_unregulated"  # no zone, or the zone is free now
    DISCARD_INVALID = "discard_invalid"  # invalid or low-confidence read (settings)
    DISCARD_RIGHT = "discard_right"  # permit, paid session, exemption, ...
    DISCARD_LOOKALIKE = "discard_lookalike"  # a look-alike plate has a right: never a hit
    DISCARD_RIGHTS_UNAVAILABLE = "discard_rights_unavailable"  # stale cache, backend down
    DISCARD_FOREIGN = "discard_foreign"  # foreign plate (settings)
    CHALKED = "chalked"  # max-stay zone: sighting stored, not (yet) over the max stay
    DISCARD_REPEAT = "discard_repeat"  # already reported in this zone within the window
    SUSPECT = "suspect"  # a suspected violation, goes to the backend


@dataclass(frozen=True, slots=True)
class Outcome:
    kind: OutcomeKind
    reason: SuspectReason | None = None  # set for SUSPECT
    zone_id: str | None = None
    first_seen_at: datetime | None = None  # chalk time for max_stay_exceeded / loading_zone
    rights: RightsAnswer | None = None  # the rights answer that was used, if any

    @property
    def is_suspect(self) -> bool:
        return self.kind is OutcomeKind.SUSPECT


@dataclass(frozen=True, slots=True)
class PipelineSettings:
    """Thresholds of the decision. Defaults: foreign, invalid and low-confidence reads are not
    reported; a position is trusted up to ``max_accuracy_m``."""

    min_zone_radius_m: float = 5.0  # zone margin: max(position accuracy, this)
    max_accuracy_m: float = 15.0
    chalk_distance_m: float = 8.0  # a later sighting farther away resets the chalk mark
    chalk_margin: timedelta = timedelta(minutes=30)  # chalk kept max stay + this
    repeat_window: timedelta = timedelta(hours=4)  # same plate + zone: one report per window
    report_foreign: bool = False
    report_invalid: bool = False
    report_low_confidence: bool = False
    jpeg_quality: int = 90
    context_offset_frames: int = 3  # the context frame: this many frames before the overview
    software_version: str = "scancar-pipeline/1"

    def __post_init__(self) -> None:
        checks = (
            ("min_zone_radius_m", self.min_zone_radius_m, 0.0, 1000.0),
            ("max_accuracy_m", self.max_accuracy_m, 0.1, 1000.0),
            ("chalk_distance_m", self.chalk_distance_m, 0.5, 500.0),
            ("jpeg_quality", self.jpeg_quality, 30, 100),
            ("context_offset_frames", self.context_offset_frames, 1, 100),
        )
        for name, value, low, high in checks:
            if not low <= value <= high:
                raise PipelineConfigError(f"{name}={value!r} is out of range; allowed {low}-{high}")
        for name, span in (
            ("chalk_margin", self.chalk_margin),
            ("repeat_window", self.repeat_window),
        ):
            if span < timedelta(0):
                raise PipelineConfigError(f"{name}={span} is negative; allowed: 0 or more")


@dataclass
class Counters:
    """What the pipeline did, as numbers only (never plates): safe to log and to heartbeat."""

    frames: int = 0
    frames_skipped: int = 0
    reads: int = 0
    passes: int = 0
    checks: int = 0  # rights checks made
    outcomes: Counter[str] = field(default_factory=Counter)
    suspects_stored: int = 0
    sink_failures: int = 0

    @property
    def suspects(self) -> int:
        return self.outcomes[OutcomeKind.SUSPECT.value]

    @property
    def discarded(self) -> int:
        return self.passes - self.suspects

    def as_dict(self) -> dict[str, object]:
        return {
            "frames": self.frames,
            "frames_skipped": self.frames_skipped,
            "reads": self.reads,
            "passes": self.passes,
            "checks": self.checks,
            "suspects": self.suspects,
            "suspects_stored": self.suspects_stored,
            "discarded": self.discarded,
            "sink_failures": self.sink_failures,
            "outcomes": dict(sorted(self.outcomes.items())),
        }
