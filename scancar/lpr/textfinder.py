"""Plate candidates from the learned text detector (:mod:`scancar.lpr.textdetect`).

The detector finds text, not plates: signs, stickers, brand names and shop fronts too. It
proposes; the same checks as the OpenCV finder's decide (plate shape and size, a row of
character-like blobs on the straightened crop), and after them the OCR's confidences and the
plate rules.

Text lines are joined first:

* pieces of one line (a wide gap between character groups may split it) when they lie on the
  same row with a gap under one line height;
* two rows of a **two-line plate** (Dutch motorcycle and moped plates, square foreign plates)
  when one lies under the other, of similar height, overlapping horizontally: the candidate is
  the whole plate, and the OCR reads it whole (fast-plate-ocr's global model reads two-line
  plates as one text, top row first; measured better than cutting the rows and placing them
  side by side, see docs/lpr.md).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import cv2
import numpy as np

from scancar.lpr.candidates import (
    FinderSettings,
    TextRow,
    crop_for_ocr,
    suppress_overlaps,
    text_row,
    to_bgr,
)
from scancar.lpr.errors import InvalidSettingError
from scancar.lpr.model import BBox, Candidate, Frame, Image
from scancar.lpr.ports import PlateFinder
from scancar.lpr.textdetect import TextBox, text_box_around
from scancar.lpr.tworow import is_two_line_shape

_NO_MARGIN = FinderSettings(margin_x=0.0, margin_y=0.0)
# The unclipped DB box reaches above and below the characters further than a plate's own
# border does: the candidate's plate height is this share of the box's, so the OCR crop (plate
# plus the usual margin) is not mostly bumper (synthetic dirt, foreign and two-line plates the
# OCR read below its floor from the whole box read sure from 85 % of it).
TEXT_BOX_HEIGHT = 0.85


class TextDetector(Protocol):
    """Text lines of images (:class:`scancar.lpr.textdetect.DbTextDetector`)."""

    def detect(self, image: Image) -> list[TextBox]: ...

    def detect_many(self, images: Sequence[Image]) -> list[list[TextBox]]: ...


@dataclass(frozen=True, slots=True)
class TextFinderSettings:
    finder: FinderSettings = field(default_factory=FinderSettings)
    min_height: float = 8.0  # text box height in frame pixels (characters of ~6 px and more)
    min_two_line_aspect: float = 0.9  # width / height of a joined two-line plate
    max_two_line_aspect: float = 2.6
    join_rows: bool = True

    def __post_init__(self) -> None:
        if not 2.0 <= self.min_height <= 200.0:
            raise InvalidSettingError("text finder min_height", self.min_height, "2..200 pixels")
        if not 0.3 <= self.min_two_line_aspect < self.max_two_line_aspect <= 4.0:
            raise InvalidSettingError(
                "text finder two-line aspect",
                (self.min_two_line_aspect, self.max_two_line_aspect),
                "0.3 <= min < max <= 4.0",
            )


@dataclass(frozen=True, slots=True)
class _Line:
    box: TextBox
    rows: int = 1  # 2: two rows of a two-line plate joined


def _same_row(a: TextBox, b: TextBox) -> bool:
    """``b`` continues ``a``'s line to the right, after a gap of under one line height."""
    h = max(a.height, b.height)
    if min(a.height, b.height) < 0.7 * h or abs(a.cy - b.cy) > 0.3 * h:
        return False
    if abs(a.angle - b.angle) > 8.0:
        return False
    gap = (b.cx - b.width / 2) - (a.cx + a.width / 2)
    return -0.5 * h <= gap <= 1.0 * h


def _stacked(top: TextBox, bottom: TextBox) -> bool:
    """``bottom`` is the second row of a two-line plate whose first row is ``top``."""
    h = max(top.height, bottom.height)
    if min(top.height, bottom.height) < 0.6 * h or abs(top.angle) > 15 or abs(bottom.angle) > 15:
        return False
    # the unclipped boxes of two rows overlap: row pitch ~1.2 character heights, box height
    # ~2 character heights
    dy = bottom.cy - top.cy
    if not 0.35 * h <= dy <= 1.2 * h:
        return False
    wide = max(top.width, bottom.width)
    if min(top.width, bottom.width) < 0.35 * wide:
        return False
    overlap = min(top.cx + top.width / 2, bottom.cx + bottom.width / 2) - max(
        top.cx - top.width / 2, bottom.cx - bottom.width / 2
    )
    return overlap >= 0.5 * min(top.width, bottom.width)


def _union(a: TextBox, b: TextBox) -> TextBox:
    return text_box_around(np.concatenate([a.corners(), b.corners()]), min(a.score, b.score))


def join_lines(boxes: Sequence[TextBox], *, two_lines: bool = True) -> list[_Line]:
    """Join the pieces of one line, then rows of two-line plates (see the module docstring).
    The rows of a joined two-line plate are kept too (as single lines)."""
    pieces = sorted(boxes, key=lambda b: b.cx - b.width / 2)
    merged: list[TextBox] = []
    used = [False] * len(pieces)
    for i, box in enumerate(pieces):
        if used[i]:
            continue
        cur = box
        for j in range(i + 1, len(pieces)):
            if not used[j] and _same_row(cur, pieces[j]):
                cur = _union(cur, pieces[j])
                used[j] = True
        merged.append(cur)
    lines = [_Line(b) for b in merged]
    if two_lines:
        by_y = sorted(merged, key=lambda b: b.cy)
        for i, top in enumerate(by_y):
            for bottom in by_y[i + 1 :]:
                if _stacked(top, bottom):
                    lines.append(_Line(_union(top, bottom), rows=2))
    return lines


def _char_row(bgr: Image, box: BBox, b: TextBox, need: int) -> TextRow:
    """The character row of a text box. The unclipped box reaches past a plate's edge into the
    bumper, where the dark surroundings can merge with the characters; when too few blobs show,
    the box's central 80 % of height is looked at too."""
    best = TextRow(0, 0.0)
    for height in (b.height, 0.8 * b.height):
        cand = Candidate(box, b.score, "text", b.angle, b.width, height)
        crop = crop_for_ocr(bgr, cand, _NO_MARGIN)
        if crop.shape[0] < 4 or crop.shape[1] < 8:
            break
        row = text_row(cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY), enough=6)
        best = max(best, row, key=lambda r: r.count)
        if best.count >= need:
            break
    return best


class TextPlateFinder:
    """A :class:`~scancar.lpr.ports.PlateFinder` over a text detector."""

    def __init__(self, detector: TextDetector, settings: TextFinderSettings | None = None) -> None:
        self.detector = detector
        self.settings = settings or TextFinderSettings()

    def find(self, image: Image) -> list[Candidate]:
        return self.candidates(image, self.detector.detect(image))

    def find_many(self, images: Sequence[Image]) -> list[list[Candidate]]:
        """Candidates of several images with one detector batch (two cameras' frames)."""
        found = self.detector.detect_many(images)
        return [self.candidates(img, boxes) for img, boxes in zip(images, found, strict=True)]

    def candidates(self, image: Image, boxes: Sequence[TextBox]) -> list[Candidate]:
        """The plate candidates among ``boxes`` (text lines of ``image``), best first."""
        s = self.settings
        f = s.finder
        bgr = to_bgr(image)
        full_h, full_w = bgr.shape[:2]
        out: list[Candidate] = []
        for line in join_lines(boxes, two_lines=s.join_rows):
            b = line.box
            aspect = b.width / max(b.height, 1e-6)
            # at a small scale the detector sees both rows of a two-line plate as one region
            two_line = line.rows == 2 or aspect < f.min_aspect
            if two_line:
                if not s.min_two_line_aspect <= aspect <= s.max_two_line_aspect:
                    continue
            elif aspect > f.max_aspect:
                continue
            if b.height < s.min_height or b.height > full_h / 3:
                continue
            box = b.bbox(full_w, full_h)
            if box is None:
                continue
            row = _char_row(bgr, box, b, f.min_char_blobs)
            if not f.min_char_blobs <= row.count <= 10:
                continue
            angle = b.angle
            if not two_line and abs(row.slope) > 0.05:
                angle = b.angle + math.degrees(math.atan(row.slope))
            out.append(
                Candidate(
                    box,
                    b.score + 0.25 * min(row.count, 7) + (0.5 if line.rows == 2 else 0.0),
                    "text",
                    round(angle, 2),
                    round(b.width, 1),
                    round(b.height * TEXT_BOX_HEIGHT, 1),
                    row.count,
                )
            )
        return suppress_overlaps(out, f.max_candidates)


def box_preference(c: Candidate) -> int:
    """Where boxes of several finders cover one plate, the box of the best-fitting method is
    read (lower first): colour masks follow a yellow or blue plate's outline exactly; the text
    detector's box fits the characters of a one-line plate better than edge morphology (edge
    boxes cut characters of foreign plates the text box keeps), but the union of two rows'
    boxes is looser than the edge box of a two-line plate."""
    if c.method == "colour":
        return 0
    if c.method == "text":
        return 1 if not is_two_line_shape(c.plate_width, c.plate_height) else 3
    return 2 if c.method == "edge" else 4


class CombinedPlateFinder:
    """The union of several finders' candidates, at most ``max_candidates`` per frame.

    Where boxes overlap (overlap of the smaller box >= 0.5) one box is kept, by
    :func:`box_preference` (then score). Every finder's plates are kept: the cap is meant to be
    the sum of the finders' own caps, so the text a detector sees on signs cannot crowd out a
    plate another finder found."""

    def __init__(
        self, finders: Sequence[PlateFinder], max_candidates: int = 12, later_every: int = 1
    ) -> None:
        if not finders:
            raise InvalidSettingError("combined finders", [], "at least one finder")
        if not 1 <= max_candidates <= 32:
            raise InvalidSettingError("combined max_candidates", max_candidates, "1..32")
        if not 1 <= later_every <= 10:
            raise InvalidSettingError("combined later_every", later_every, "1..10 frames")
        self.finders = tuple(finders)
        self.max_candidates = max_candidates
        self.later_every = later_every

    def find_frame(self, frame: Frame) -> list[Candidate]:
        """Candidates of a camera frame: the finders after the first run only on every
        ``later_every``-th frame of its camera (``frame.index``, counted per source); between
        them the pass tracker carries a plate's track over the frames it was not read in."""
        if frame.index % self.later_every == 0:
            return self.find(frame.image)
        return self._union(self.finders[:1], frame.image)

    def find(self, image: Image) -> list[Candidate]:
        return self._union(self.finders, image)

    def _union(self, finders: Sequence[PlateFinder], image: Image) -> list[Candidate]:
        every = [c for finder in finders for c in finder.find(image)]
        every.sort(key=lambda c: (box_preference(c), -c.score))
        found: list[Candidate] = []
        for c in every:
            if all(c.bbox.overlap_of_smaller(k.bbox) < 0.5 for k in found):
                found.append(c)
        found.sort(key=lambda c: c.score, reverse=True)
        return found[: self.max_candidates]
