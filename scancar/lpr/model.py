"""Results of finding, reading and tracking plates: frozen dataclasses, no behaviour beyond
small derived properties.

Boxes are pixel coordinates ``x1, y1, x2, y2`` (exclusive right/bottom) in the frame they were
found in. Times are timezone-aware UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import numpy as np
import numpy.typing as npt

Image = npt.NDArray[np.uint8]
"""An OpenCV image: ``H x W x 3`` BGR (or ``H x W`` grey), ``uint8``."""

PlateColour = Literal["yellow", "blue", "white_red", "white_dark", "other", "unknown"]
"""Plate colour: Dutch yellow, (light or dark) blue; a white plate with red characters
(Belgium) or with black characters (``white_dark``: not Belgian); other (white plates whose
characters' colour cannot be told, and the rest), or unknown (grey or dark frame)."""

WHITE_COLOURS: frozenset[PlateColour] = frozenset({"white_red", "white_dark", "other"})
"""The colours of plates that are visibly neither yellow nor blue."""

CandidateMethod = Literal["colour", "edge", "text", "detector", "whole"]
"""How a candidate box was found: yellow/colour mask, edge morphology, the learned text detector
(``text``), an ONNX plate detector, or the whole image (the input already is a plate crop)."""


@dataclass(frozen=True, slots=True)
class BBox:
    x1: int
    y1: int
    x2: int
    y2: int

    def __post_init__(self) -> None:
        if self.x2 <= self.x1 or self.y2 <= self.y1:
            raise ValueError(f"empty box {self.as_list()}: need x2 > x1 and y2 > y1")

    @property
    def width(self) -> int:
        return self.x2 - self.x1

    @property
    def height(self) -> int:
        return self.y2 - self.y1

    @property
    def area(self) -> int:
        return self.width * self.height

    @property
    def centre(self) -> tuple[float, float]:
        return ((self.x1 + self.x2) / 2.0, (self.y1 + self.y2) / 2.0)

    def intersection(self, other: BBox) -> int:
        w = min(self.x2, other.x2) - max(self.x1, other.x1)
        h = min(self.y2, other.y2) - max(self.y1, other.y1)
        return max(0, w) * max(0, h)

    def iou(self, other: BBox) -> float:
        inter = self.intersection(other)
        return inter / float(self.area + other.area - inter) if inter else 0.0

    def overlap_of_smaller(self, other: BBox) -> float:
        """Intersection over the smaller box's area (1.0 when one box contains the other)."""
        inter = self.intersection(other)
        return inter / float(min(self.area, other.area)) if inter else 0.0

    def as_list(self) -> list[int]:
        return [self.x1, self.y1, self.x2, self.y2]


@dataclass(frozen=True, slots=True, eq=False)
class Frame:
    """One camera frame. ``index`` counts frames of its source from 0 (skipped frames included)."""

    image: Image
    captured_at: datetime
    camera: str
    index: int
    source: str

    def __post_init__(self) -> None:
        if self.captured_at.tzinfo is None:
            raise ValueError(f"frame {self.source!r}: captured_at must be timezone-aware UTC")


@dataclass(frozen=True, slots=True)
class Candidate:
    """A box that might hold a plate, before reading."""

    bbox: BBox  # axis-aligned box around the (possibly tilted) plate
    score: float
    method: CandidateMethod
    angle: float = 0.0  # degrees the plate is rotated (OpenCV convention), 0 when upright
    plate_width: float = 0.0  # upright plate size when tilted; 0 means "the bbox size"
    plate_height: float = 0.0
    char_blobs: int = 0  # character-like blobs seen on its text row (0: not counted)


@dataclass(frozen=True, slots=True)
class OcrText:
    """What the OCR model returned for one crop, before any plate knowledge is applied.

    ``char_confidences`` has one entry per character of ``text``; ``length_confidence`` is the
    model's confidence that the plate ends there (the first padding slot), 1.0 when all slots are
    used.
    """

    text: str
    char_confidences: tuple[float, ...]
    length_confidence: float
    region: str | None
    region_confidence: float | None


@dataclass(frozen=True, slots=True, eq=False)
class PlateRead:
    """One plate read on one frame.

    ``valid`` means the text is a plate of ``country`` (a Dutch sidecode for NL). Only a read
    that is ``valid`` and not ``low_confidence`` may become a hit (:attr:`is_hit_eligible`).
    ``low_confidence``: a character below the confidence floor, or ``obstructed`` (glare or
    something in front hides part of the plate, see ``candidates.plate_obstruction``).
    """

    plate: str  # normalised, no dashes
    display: str  # e.g. "GZ-123-T" for Dutch plates
    raw_text: str  # what the OCR returned, before look-alike correction
    country: str  # ISO 3166-1 alpha-2, "??" when unknown
    is_foreign: bool
    valid: bool
    sidecode: int | None
    low_confidence: bool
    corrected: bool  # a look-alike correction made the read valid
    confidence: float  # the lowest character confidence
    char_confidences: tuple[float, ...]
    bbox: BBox
    crop: Image = field(repr=False)
    region: str | None = None
    region_confidence: float | None = None
    candidate_score: float = 0.0
    char_blobs: int = 0  # character blobs the finder saw (0: not counted)
    colour: PlateColour = "unknown"
    obstruction: float = 0.0  # largest hidden patch of a yellow plate, plate heights squared
    obstructed: bool = False  # obstruction over the recognizer's limit (then low_confidence)
    two_line: bool = False  # its characters were seen in two rows (scancar.lpr.tworow)

    @property
    def is_hit_eligible(self) -> bool:
        return self.valid and not self.low_confidence


@dataclass(frozen=True, slots=True, eq=False)
class VehiclePass:
    """One vehicle passing one camera: the voted plate of a track of reads.

    ``overview_image`` is the exact frame the best crop was cut from; ``other_bboxes`` are the
    boxes of every other plate read on that frame (to be blurred in evidence).
    """

    plate: str
    display: str
    country: str
    is_foreign: bool
    valid: bool
    sidecode: int | None
    low_confidence: bool
    char_confidences: tuple[float, ...]
    confidence: float
    agreeing_frames: int
    frames_seen: int
    best_crop: Image = field(repr=False)
    overview_image: Image = field(repr=False)
    overview_captured_at: datetime
    overview_index: int
    bbox: BBox
    other_bboxes: tuple[BBox, ...]
    first_seen: datetime
    last_seen: datetime
    camera: str

    @property
    def is_hit_eligible(self) -> bool:
        return self.valid and not self.low_confidence
