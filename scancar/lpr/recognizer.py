"""Find and read the plates of one frame: candidates -> crops -> one OCR batch -> rules."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from scancar.lpr.candidates import (
    FinderSettings,
    crop_for_ocr,
    is_colour_image,
    plate_colour,
    plate_obstruction,
    to_bgr,
)
from scancar.lpr.errors import InvalidSettingError
from scancar.lpr.finder import OpenCvPlateFinder
from scancar.lpr.model import BBox, Candidate, Frame, Image, OcrText, PlateColour, PlateRead
from scancar.lpr.ports import PlateFinder, PlateReader
from scancar.lpr.rules import ReadRules, judge
from scancar.lpr.tworow import is_two_line_shape, side_by_side_rows


@dataclass(frozen=True, slots=True)
class RecognizerSettings:
    finder: FinderSettings = field(default_factory=FinderSettings)
    rules: ReadRules = field(default_factory=ReadRules)
    min_text_length: int = 3  # shorter reads are not reported at all
    read_whole_crops: bool = True  # an input that is itself a plate crop is read whole
    # a two-line-shaped plate is also read with its rows side by side (see scancar.lpr.tworow)
    read_two_line_rows: bool = True
    # A yellow plate with a hidden patch larger than this (``plate_obstruction``, in plate
    # heights squared; one character covers ~0.25) is read low-confidence: the OCR guesses
    # what glare or a pole hides, and it guesses confidently.
    max_obstruction: float = 0.15

    def __post_init__(self) -> None:
        if not 1 <= self.min_text_length <= 10:
            raise InvalidSettingError("min_text_length", self.min_text_length, "1..10")
        if not 0.0 < self.max_obstruction <= 10.0:
            raise InvalidSettingError(
                "max_obstruction", self.max_obstruction, "0.0 < value <= 10.0 plate heights²"
            )


def _pad(crop: Image, s: FinderSettings) -> Image:
    """A tight plate crop with the OCR margin added by repeating its border pixels."""
    h, w = crop.shape[:2]
    mx, my = round(w * s.margin_x), round(h * s.margin_y)
    return np.asarray(
        cv2.copyMakeBorder(crop, my, my, mx, mx, cv2.BORDER_REPLICATE), dtype=np.uint8
    )


def _is_plate_crop(image: Image) -> bool:
    h, w = image.shape[:2]
    return bool(h <= 160 and 1.2 <= w / max(h, 1) <= 8.0)  # 1.2: two-row motorcycle plates


class PlateRecognizer:
    """``recognise(frame) -> list[PlateRead]``: every plate found on a frame, best first.

    Reads of the same plate (overlapping boxes) are merged, keeping the best; invalid and
    low-confidence reads are reported too (so evidence can blur them) but are never hits.
    """

    def __init__(
        self,
        reader: PlateReader,
        finder: PlateFinder | None = None,
        settings: RecognizerSettings | None = None,
    ) -> None:
        self.settings = settings or RecognizerSettings()
        self.reader = reader
        self.finder = finder or OpenCvPlateFinder(self.settings.finder)

    def find(self, frame: Frame | Image) -> list[Candidate]:
        """The candidates of a frame or image (may run in another thread than :meth:`read`).
        A finder with ``find_frame`` gets camera frames whole (it may skip work per camera)."""
        image = frame.image if isinstance(frame, Frame) else frame
        find_frame = getattr(self.finder, "find_frame", None)
        if isinstance(frame, Frame) and find_frame is not None:
            candidates: list[Candidate] = find_frame(frame)
        else:
            candidates = self.finder.find(image)
        if not candidates and self.settings.read_whole_crops and _is_plate_crop(image):
            h, w = image.shape[:2]
            candidates = [Candidate(BBox(0, 0, w, h), 0.0, "whole")]
        return candidates

    def read(self, image: Image, candidates: list[Candidate]) -> list[PlateRead]:
        """Read the candidates of ``image`` in one OCR batch and apply the plate rules."""
        if not candidates:
            return []
        bgr = to_bgr(image)
        crops = [
            _pad(bgr, self.settings.finder)
            if c.method == "whole"
            else crop_for_ocr(bgr, c, self.settings.finder)
            for c in candidates
        ]
        keep = [i for i, c in enumerate(crops) if c.shape[0] >= 4 and c.shape[1] >= 8]
        rows = self._row_crops(candidates, crops, keep)
        texts = self.reader.read([crops[i] for i in keep] + list(rows.values()))
        # the region head judges the plate's layout, which the side-by-side crop does not show:
        # a rows read keeps the region of its whole read
        whole = dict(zip(keep, texts[: len(keep)], strict=True))
        row_texts = {
            i: replace(t, region=whole[i].region, region_confidence=whole[i].region_confidence)
            for i, t in zip(rows, texts[len(keep) :], strict=True)
        }
        has_colour = is_colour_image(bgr)
        reads: list[PlateRead] = []
        for i, ocr in zip(keep, texts[: len(keep)], strict=True):
            colour = plate_colour(crops[i]) if has_colour else "unknown"
            # a plate whose characters stand in two rows is judged as a two-line plate (both
            # reads: the rules may allow other lengths, see rules.TWO_LINE_LENGTHS)
            two_line = i in rows
            found = [
                self._to_read(text, candidates[i], crops[i], colour, two_line=two_line)
                for text in (ocr, row_texts.get(i))
                if text is not None and len(text.text) >= self.settings.min_text_length
            ]
            if found:
                reads.append(_one_of(found))
        return _merge(reads)

    def _row_crops(
        self, candidates: list[Candidate], crops: list[Image], keep: list[int]
    ) -> dict[int, Image]:
        """Side-by-side row crops of the two-line-shaped candidates (by candidate index)."""
        if not self.settings.read_two_line_rows:
            return {}
        out: dict[int, Image] = {}
        for i in keep:
            c = candidates[i]
            w = c.plate_width or float(c.bbox.width)
            h = c.plate_height or float(c.bbox.height)
            if is_two_line_shape(w, h):
                rows = side_by_side_rows(crops[i])
                if rows is not None:
                    out[i] = rows
        return out

    def _to_read(
        self,
        ocr: OcrText,
        candidate: Candidate,
        crop: Image,
        colour: PlateColour,
        *,
        two_line: bool = False,
    ) -> PlateRead:
        v = judge(ocr, self.settings.rules, colour=colour, two_line=two_line)
        # measured where it matters: valid reads of yellow plates (0.3-0.5 ms each)
        obstruction = plate_obstruction(crop) if colour == "yellow" and v.valid else 0.0
        obstructed = obstruction > self.settings.max_obstruction
        return PlateRead(
            plate=v.plate,
            display=v.display,
            raw_text=ocr.text,
            country=v.country,
            is_foreign=v.is_foreign,
            valid=v.valid,
            sidecode=v.sidecode,
            low_confidence=v.low_confidence or obstructed,
            corrected=v.corrected,
            confidence=v.confidence,
            char_confidences=ocr.char_confidences,
            bbox=candidate.bbox,
            crop=crop,
            region=ocr.region,
            region_confidence=ocr.region_confidence,
            candidate_score=candidate.score,
            char_blobs=candidate.char_blobs,
            colour=colour,
            obstruction=obstruction,
            obstructed=obstructed,
            two_line=two_line,
        )

    def recognise(self, frame: Frame | Image) -> list[PlateRead]:
        image = frame.image if isinstance(frame, Frame) else frame
        return self.read(image, self.find(frame))


def _one_of(reads: list[PlateRead]) -> PlateRead:
    """One read of a candidate read whole and, for a two-line plate, with its rows side by side:
    the whole read unless only the rows read is hit-eligible. Two hit-eligible reads of
    different plates contradict each other: the whole read is kept, low-confidence."""
    whole = reads[0]
    if len(reads) == 1:
        return whole
    rows = reads[1]
    if whole.is_hit_eligible and rows.is_hit_eligible and whole.plate != rows.plate:
        return replace(whole, low_confidence=True)
    if rows.is_hit_eligible and not whole.is_hit_eligible:
        return rows
    return whole


def _rank(read: PlateRead) -> tuple[bool, bool, float, float]:
    return (read.is_hit_eligible, read.valid, read.confidence, read.candidate_score)


def _merge(reads: list[PlateRead]) -> list[PlateRead]:
    kept: list[PlateRead] = []
    for r in sorted(reads, key=_rank, reverse=True):
        if all(r.bbox.overlap_of_smaller(k.bbox) < 0.5 for k in kept):
            kept.append(r)
    return kept
