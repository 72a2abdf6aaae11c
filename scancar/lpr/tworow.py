"""Two-line plates (Dutch motorcycle and moped plates, square foreign plates): cut the rows
apart and place them side by side, as one line.

fast-plate-ocr's global model reads Dutch and British two-line plates whole, but mixes up the
rows of German ones (``GA TB / 2441`` read ``GA2441TB``); side by side it reads them in order
(measured on rendered plates: German 14 of 15 side by side against 4 of 15 whole, British 12
and 14, Dutch 15 and 15). The recognizer reads both and keeps the one the rules accept
(:mod:`scancar.lpr.recognizer`).
"""

from __future__ import annotations

import cv2
import numpy as np

from scancar.lpr.model import Image

MAX_TWO_LINE_ASPECT = 2.2  # width / height of a plate that may hold two rows (EU long ~4.7)


def is_two_line_shape(width: float, height: float) -> bool:
    """A plate of this size may hold two rows of characters."""
    return height > 0 and width / height <= MAX_TWO_LINE_ASPECT


def row_gap(gray: Image) -> int | None:
    """The image row between a plate's two text rows, or None when there is no clear gap.

    Dark ink (Otsu) is counted per row over the central 80 % of the width; the gap is the
    emptiest row in the middle third, and it must hold under half the ink of the rows'
    median text row."""
    h, w = gray.shape[:2]
    if h < 12 or w < 12:
        return None
    _, ink = cv2.threshold(gray, 0, 1, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    profile = ink[:, w // 10 : w - w // 10].mean(axis=1)
    lo, hi = h // 3, h - h // 3
    gap: int = lo + int(np.argmin(profile[lo:hi]))
    text_rows = profile[profile > 0.15]
    if text_rows.size < h // 4 or float(profile[gap]) >= 0.5 * float(np.median(text_rows)):
        return None
    return gap


def side_by_side_rows(crop: Image) -> Image | None:
    """The two rows of a two-line plate crop (BGR) next to each other, the lower row right of
    the upper one at the same height; None when no gap between two rows is found."""
    gray = np.asarray(cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop, np.uint8)
    gap = row_gap(gray)
    if gap is None:
        return None
    top, bottom = crop[:gap], crop[gap:]
    height = max(top.shape[0], bottom.shape[0])
    rows = [
        r
        if r.shape[0] == height
        else cv2.resize(r, (max(1, round(r.shape[1] * height / r.shape[0])), height))
        for r in (top, bottom)
    ]
    return np.ascontiguousarray(np.hstack(rows), dtype=np.uint8)
