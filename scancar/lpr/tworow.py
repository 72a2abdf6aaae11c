"""Two-line plates (Dutch motorcycle and moped plates, square foreign plates): cut the rows
apart and place them side by side, as one line.

fast-plate-ocr's global model reads Dutch and British two-line plates whole, but mixes up the
rows of German ones (``GA TB / 2441`` read ``GA2441TB``) and drops characters of them
(``KVY 924`` read ``K924``). The recognizer reads the plate whole and as one line made of its
rows, and keeps the one the rules accept (:mod:`scancar.lpr.recognizer`).

The rows are found from the characters, not from the crop's geometry: the OCR crop of a
two-line plate holds margin, bumper and often a dealer's name under the plate, so the middle of
the crop is not the gap between the rows. The character blobs (dark on light, plate borders
and the EU band removed) are split into an upper and a lower row at the largest step between
their centres; each row is cut out with its characters and a little room (0.3 character
heights), and the two cuts are placed next to each other at one height, with a character-wide
space between them and the usual OCR margin around. What the model then sees looks like a
one-line plate: ``P XV 135`` instead of two half-empty halves of the crop.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from scancar.lpr.candidates import eu_blue
from scancar.lpr.model import Image

MAX_TWO_LINE_ASPECT = 2.2  # width / height of a plate that may hold two rows (EU long ~4.7)
_ROOM = 0.3  # room kept around each row's characters, in character heights
_SPACE = 0.5  # space between the two rows placed side by side, in character heights
_MARGIN = (0.08, 0.18)  # the OCR margin around the line (as the finder's, per side)


def is_two_line_shape(width: float, height: float) -> bool:
    """A plate of this size may hold two rows of characters."""
    return height > 0 and width / height <= MAX_TWO_LINE_ASPECT


@dataclass(frozen=True, slots=True)
class Rows:
    """The character boxes (``x, y, w, h`` per row of the array) of a plate's two rows."""

    top: npt.NDArray[np.int32]
    bottom: npt.NDArray[np.int32]
    char_height: float


def _char_blobs(
    gray: Image, band: npt.NDArray[np.bool_] | None = None
) -> tuple[npt.NDArray[np.int32], float] | None:
    """Character-like dark blobs of a plate crop and their median height. Plate borders, frame
    edges and the EU band (long horizontal or vertical strokes) are removed first; a blob is
    15-60 % of the crop height (a row of a two-line plate), at most 2.2 heights wide (two
    touching characters), neither hairline nor solid, and within 35 % of the median height.
    ``band``: pixels of EU-band blue (not ink: the stars cut the band into character-sized
    pieces)."""
    h = gray.shape[0]
    _, ink = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    if band is not None:
        ink[band] = 0
    across = cv2.getStructuringElement(cv2.MORPH_RECT, (max(3, round(0.7 * h)), 1))
    down = cv2.getStructuringElement(cv2.MORPH_RECT, (1, max(3, round(0.65 * h))))
    lines = cv2.bitwise_or(
        cv2.morphologyEx(ink, cv2.MORPH_OPEN, across), cv2.morphologyEx(ink, cv2.MORPH_OPEN, down)
    )
    _, _, stats, _ = cv2.connectedComponentsWithStats(cv2.subtract(ink, lines), connectivity=8)
    st = stats[1:]
    bw, bh, area = st[:, 2], st[:, 3], st[:, 4]
    ok = (
        (bh >= 0.15 * h)
        & (bh <= 0.6 * h)
        & (bw <= 2.2 * bh)
        & (area >= 0.1 * bw * bh)
        & (area <= 0.95 * bw * bh)
    )
    boxes = np.asarray(st[ok, :4], dtype=np.int32)
    if len(boxes) < 3:
        return None
    med = float(np.median(boxes[:, 3]))
    return boxes[np.abs(boxes[:, 3] - med) <= 0.35 * med], med


def find_rows(gray: Image, band: npt.NDArray[np.bool_] | None = None) -> Rows | None:
    """The two rows of characters of a two-line plate crop (grey; ``band``: where it shows
    EU-band blue), or None when its characters do not form two rows (at least three
    characters, the rows at least 0.6 character heights apart)."""
    if gray.shape[0] < 12 or gray.shape[1] < 12:
        return None
    found = _char_blobs(gray, band)
    if found is None:
        return None
    boxes, med = found
    if len(boxes) < 3:
        return None
    centre = boxes[:, 1] + boxes[:, 3] / 2.0
    order = np.argsort(centre)
    steps = np.diff(centre[order])
    k = int(np.argmax(steps))
    if steps[k] < 0.6 * med:
        return None
    return Rows(boxes[order[: k + 1]], boxes[order[k + 1 :]], med)


def side_by_side_rows(crop: Image) -> Image | None:
    """The two rows of a two-line plate crop (BGR or grey) as one line: the upper row's
    characters, a space, the lower row's, at the same height with the OCR margin around
    (repeated border pixels); None when the crop shows no two rows of characters."""
    gray = np.asarray(cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop, np.uint8)
    rows = find_rows(gray, eu_blue(crop))
    if rows is None:
        return None
    h, w = gray.shape
    room = max(1, round(_ROOM * rows.char_height))
    cuts = []
    for boxes in (rows.top, rows.bottom):
        x1, y1 = int(boxes[:, 0].min()), int(boxes[:, 1].min())
        x2, y2 = int((boxes[:, 0] + boxes[:, 2]).max()), int((boxes[:, 1] + boxes[:, 3]).max())
        cuts.append(
            crop[max(0, y1 - room) : min(h, y2 + room), max(0, x1 - room) : min(w, x2 + room)]
        )
    height = max(c.shape[0] for c in cuts)
    top, bottom = (
        c
        if c.shape[0] == height
        else cv2.resize(c, (max(1, round(c.shape[1] * height / c.shape[0])), height))
        for c in cuts
    )
    space_w = max(1, round(_SPACE * rows.char_height * height / cuts[0].shape[0]))
    space = cv2.resize(top[:, -1:], (space_w, height), interpolation=cv2.INTER_NEAREST)
    line = np.hstack([top, space, bottom])
    mx, my = round(line.shape[1] * _MARGIN[0]), round(height * _MARGIN[1])
    return np.ascontiguousarray(
        cv2.copyMakeBorder(line, my, my, mx, mx, cv2.BORDER_REPLICATE), dtype=np.uint8
    )
