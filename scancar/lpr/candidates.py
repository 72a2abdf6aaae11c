"""Plate candidates from pure numpy/OpenCV steps (no model).

Cheap proposals on a downscaled copy of the frame:

* **colour**: the yellow of Dutch plates and the light blue of Dutch special series, as HSV
  masks closed into blobs (rotated rectangles, so tilted plates are straightened);
* **edge**: dense vertical edges (characters) closed horizontally into plate-shaped blobs, at
  two scales, which finds plates of any colour (white, black, foreign).

Every proposal must have a plate aspect ratio and size, and then must show a row of character-
like blobs of similar height in the full-resolution crop. Survivors are ranked by a score,
merged when they overlap, and capped, so the OCR (the expensive step) sees few crops.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from scancar.lpr.errors import InvalidSettingError
from scancar.lpr.model import BBox, Candidate, CandidateMethod, Image, PlateColour

_Mat = cv2.typing.MatLike


@dataclass(frozen=True, slots=True)
class FinderSettings:
    working_width: int = 640  # frames wider than this are downscaled for the proposals
    max_candidates: int = 6  # crops handed to the OCR per frame
    max_checked: int = 10  # proposals that get the (costlier) character-blob check
    min_aspect: float = 1.6  # width / height of a plate box (EU plate 4.7, moto ~1.7)
    max_aspect: float = 8.0
    min_height: int = 7  # plate height in working-scale pixels
    min_char_blobs: int = 4
    margin_x: float = 0.08  # margin added around a plate for the OCR, per side
    margin_y: float = 0.18

    def __post_init__(self) -> None:
        if not 160 <= self.working_width <= 4096:
            raise InvalidSettingError("working_width", self.working_width, "160..4096 pixels")
        if not 1 <= self.max_candidates <= 32:
            raise InvalidSettingError("max_candidates", self.max_candidates, "1..32")
        if not self.max_candidates <= self.max_checked <= 128:
            raise InvalidSettingError("max_checked", self.max_checked, "max_candidates..128")
        if not 0 < self.min_aspect < self.max_aspect:
            raise InvalidSettingError(
                "min_aspect/max_aspect", (self.min_aspect, self.max_aspect), "0 < min < max"
            )
        if not 1 <= self.min_char_blobs <= 10:
            raise InvalidSettingError("min_char_blobs", self.min_char_blobs, "1..10")
        for name, value in (("margin_x", self.margin_x), ("margin_y", self.margin_y)):
            if not 0.0 <= value <= 0.5:
                raise InvalidSettingError(name, value, "0.0..0.5 of the plate size")


# HSV ranges (OpenCV hue 0..180): Dutch yellow and the light blue of special series.
_COLOUR_RANGES = (
    (np.array([14, 90, 90], dtype=np.uint8), np.array([36, 255, 255], dtype=np.uint8)),
    (np.array([90, 80, 60], dtype=np.uint8), np.array([125, 255, 255], dtype=np.uint8)),
)
_BLOB_HEIGHT = 32
# Colour blobs of a small two-line plate (a moped plate ~45 px wide at full scale) are this
# many squared minimum heights large, against 12 for the smallest one-line plate.
_SMALL_TWO_LINE_AREA = 3
_VERTICAL = cv2.getStructuringElement(cv2.MORPH_RECT, (1, 30))


@dataclass(frozen=True, slots=True)
class _Proposal:
    cx: float  # centre, full-resolution pixels
    cy: float
    w: float  # upright plate size, full-resolution pixels
    h: float
    angle: float
    score: float
    method: CandidateMethod
    dark_text: bool = False  # light-blue plates carry dark characters (blue signs light ones)


def to_bgr(image: Image) -> Image:
    """Return a 3-channel BGR view of a grey, BGRA or BGR image."""
    if image.ndim == 2:
        return np.ascontiguousarray(cv2.cvtColor(image, cv2.COLOR_GRAY2BGR))
    if image.shape[2] == 4:
        return np.ascontiguousarray(cv2.cvtColor(image, cv2.COLOR_BGRA2BGR))
    return image


def upright_rect(
    rect: tuple[tuple[float, float], tuple[float, float], float],
) -> tuple[float, float, float]:
    """Width, height and angle of an OpenCV rotated rect with the long side horizontal."""
    (_, _), (w, h), angle = rect
    if w < h:
        w, h, angle = h, w, angle - 90.0
    if angle < -45.0:
        angle += 180.0 if angle < -135.0 else 0.0
    if angle > 45.0:
        angle -= 180.0 if angle > 135.0 else 0.0
    return w, h, angle


_PLATE_YELLOW_LO = np.array([14, 70, 40], dtype=np.uint8)  # also dim yellow (low light)
_PLATE_YELLOW_HI = np.array([38, 255, 255], dtype=np.uint8)
_EU_BLUE_LO = np.array([95, 80, 30], dtype=np.uint8)
_EU_BLUE_HI = np.array([135, 255, 255], dtype=np.uint8)


def is_colour_image(image: Image) -> bool:
    """False for grey (infrared, monochrome) frames, where plate colour says nothing."""
    if image.ndim != 3 or image.shape[2] < 3:
        return False
    step = max(1, min(image.shape[:2]) // 48)
    thumb = np.ascontiguousarray(image[::step, ::step, :3])
    sat = cv2.cvtColor(thumb, cv2.COLOR_BGR2HSV)[:, :, 1]
    return float(np.percentile(sat, 90)) >= 40.0


def plate_colour(crop: Image) -> PlateColour:
    """``yellow`` (Dutch plate yellow) or ``blue`` (Dutch special series, classic plates) when
    that colour covers the crop's central part, ``unknown`` when it is too dark to tell, else
    ``other`` (white and the rest)."""
    h, w = crop.shape[:2]
    if crop.ndim != 3 or h < 4 or w < 4:
        return "unknown"
    centre = crop[h // 6 : h - h // 6, w // 8 : w - w // 8]
    hsv = cv2.cvtColor(centre, cv2.COLOR_BGR2HSV)
    area = hsv.shape[0] * hsv.shape[1]
    if cv2.countNonZero(cv2.inRange(hsv, _PLATE_YELLOW_LO, _PLATE_YELLOW_HI)) >= 0.3 * area:
        return "yellow"
    lo, hi = _COLOUR_RANGES[1]
    if cv2.countNonZero(cv2.inRange(hsv, lo, hi)) >= 0.3 * area:
        return "blue"
    if float(np.percentile(hsv[:, :, 2], 75)) < 60.0:
        return "unknown"
    return ink_colour(centre, np.asarray(hsv, dtype=np.uint8))


def eu_blue(bgr: Image) -> npt.NDArray[np.bool_]:
    """Where a colour crop shows the dark blue of an EU band (all False for grey crops)."""
    if bgr.ndim != 3:
        return np.zeros(bgr.shape[:2], dtype=bool)
    hsv = cv2.cvtColor(bgr, cv2.COLOR_BGR2HSV)
    return np.asarray(cv2.inRange(hsv, _EU_BLUE_LO, _EU_BLUE_HI) > 0)


def ink_colour(plate: Image, hsv: Image) -> PlateColour:
    """``white_red`` (red characters on a white plate, as Belgium issues), ``white_dark``
    (neutral black characters on white: not Belgian) or ``other`` when the characters' colour
    cannot be told (too little ink or contrast, a tinted plate or light, a colour in between).

    Ink is the dark side (Otsu) of the plate's grey, less EU-band blue; a pixel is red when
    (R - max(G, B)) is at least 0.2 of the paper's brightness (Belgian red ~0.5, black ~0).
    Red: at least 40 % of the ink red and at most 15 % neutral; black: at most 3 % red and a
    neutral median."""
    gray = cv2.cvtColor(plate, cv2.COLOR_BGR2GRAY)
    _, dark = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    ink = (dark > 0) & (cv2.inRange(hsv, _EU_BLUE_LO, _EU_BLUE_HI) == 0)
    paper = dark == 0
    if np.count_nonzero(ink) < 0.03 * ink.size or np.count_nonzero(paper) < 0.3 * ink.size:
        return "other"
    paper_grey = float(np.median(gray[paper]))
    if paper_grey < 100.0 or float(np.median(hsv[:, :, 1][paper])) > 60.0:
        return "other"  # no white plate in good light (tinted plate, coloured light)
    px = plate[ink].astype(np.float32)
    if float(np.median(gray[ink])) > 0.6 * paper_grey:
        return "other"  # too little contrast to tell
    redness = (px[:, 2] - np.maximum(px[:, 0], px[:, 1])) / paper_grey
    red_share = float(np.mean(redness >= 0.2))
    chroma = (px.max(axis=1) - px.min(axis=1)) / paper_grey
    # red characters only when next to no ink is neutral black (a loose box over a red car
    # must not make a German plate's black characters red), black ones only when next to no
    # ink is red (nor a dark bumper a Belgian plate's red characters black)
    if red_share >= 0.4 and float(np.mean(chroma <= 0.1)) <= 0.15:
        return "white_red"
    if red_share <= 0.03 and float(np.median(chroma)) <= 0.08:
        return "white_dark"
    return "other"


_OPEN_3X3 = np.ones((3, 3), dtype=np.uint8)
_PALE_YELLOW_LO = np.array([14, 50, 40], dtype=np.uint8)


def plate_obstruction(crop: Image) -> float:
    """How much of a yellow plate is hidden: the largest patch inside the plate that is neither
    plate yellow, EU-band blue nor character ink (glare washing the plate out, a pole or a bush
    in front of it), in units of the plate height squared. One character of a Dutch plate covers
    about 0.25; clean plates measure below 0.1 (rim, screws, dirt specks).

    The plate is the convex hull of the yellow (and blue) parts within the rows and columns of
    the crop that are mostly yellow, less its rim. Ink is darker than 0.4 of the plate's yellow,
    or, where glare brightens the plate, clearly darker than its surroundings (characters still
    visible through glare are not hidden). Occluders as dark as the ink are not seen. 0.0 when
    the crop shows too little yellow to tell (not a yellow plate: nothing is measured).
    """
    if crop.ndim != 3 or crop.shape[0] < 8 or crop.shape[1] < 16:
        return 0.0
    hsv = cv2.cvtColor(crop, cv2.COLOR_BGR2HSV)
    yellow = cv2.inRange(hsv, _PLATE_YELLOW_LO, _PLATE_YELLOW_HI) > 0
    if np.count_nonzero(yellow) < 20:
        return 0.0
    plate = yellow | (cv2.inRange(hsv, *_COLOUR_RANGES[1]) > 0)
    region = _plate_region(plate)
    if region is None:
        return 0.0
    mask, height = region
    value = hsv[:, :, 2]
    plate_value = float(np.median(value[yellow]))
    k = max(3, round(0.3 * height)) | 1  # about a character's stroke gap
    surround = cv2.dilate(value, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    ink = (value < 0.4 * plate_value) | (
        (value >= 0.6 * plate_value) & (value < 0.9 * surround.astype(np.float32))
    )
    # yellow paled by glare still counts as plate up to ~0.8 glare opacity (saturation >= 50)
    pale = cv2.inRange(hsv, _PALE_YELLOW_LO, _PLATE_YELLOW_HI) > 0
    hidden = cv2.morphologyEx(
        (mask & ~(plate | pale | ink)).astype(np.uint8), cv2.MORPH_OPEN, _OPEN_3X3
    )
    n, _, stats, _ = cv2.connectedComponentsWithStats(hidden, connectivity=8)
    if n < 2:
        return 0.0
    return round(float(stats[1:, cv2.CC_STAT_AREA].max()) / float(height * height), 4)


def _plate_region(plate: npt.NDArray[np.bool_]) -> tuple[npt.NDArray[np.bool_], int] | None:
    """The plate inside a crop (mask, plate height) from its colour mask: the convex hull of the
    sizeable colour blobs in the rows and columns that are mostly plate colour, less the rim."""
    h, w = plate.shape
    rows = np.flatnonzero(plate[:, w // 5 : w - w // 5].mean(axis=1) >= 0.35)
    if rows.size == 0:
        return None
    y1, y2 = int(rows[0]), int(rows[-1]) + 1
    cols = np.flatnonzero(plate[y1:y2].mean(axis=0) >= 0.35)
    if cols.size == 0:
        return None
    x1, x2 = int(cols[0]), int(cols[-1]) + 1
    height = y2 - y1
    inside = np.zeros((h, w), dtype=np.uint8)
    inside[y1:y2, x1:x2] = plate[y1:y2, x1:x2]
    contours, _ = cv2.findContours(inside, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    big = [c for c in contours if cv2.contourArea(c) >= 0.02 * height * (x2 - x1)]
    if not big or height < 6:
        return None
    points = np.concatenate(big)
    hull = np.zeros((h, w), dtype=np.uint8)
    cv2.fillConvexPoly(hull, cv2.convexHull(points), 1)
    rim = 2 * max(1, round(0.05 * height)) + 1  # the plate's edge and border line
    return np.asarray(cv2.erode(hull, np.ones((rim, rim), dtype=np.uint8))) > 0, height


def _plate_shaped(
    w: float, h: float, s: FinderSettings, img_h: int, min_h: int, *, min_aspect: float = 99.0
) -> bool:
    if h < min_h or h > img_h / 3 or w < 2 * min_h:
        return False
    return min(s.min_aspect, min_aspect) <= w / h <= s.max_aspect


def _colour_proposals(hsv: _Mat, s: FinderSettings, scale: float) -> list[_Proposal]:
    out: list[_Proposal] = []
    min_h = max(4, s.min_height // 2)  # the colour masks run at half the working scale
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (5, 3))
    for dark_text, (lo, hi) in zip((False, True), _COLOUR_RANGES, strict=True):
        mask = cv2.morphologyEx(cv2.inRange(hsv, lo, hi), cv2.MORPH_CLOSE, kernel)
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        for c in contours:
            area = cv2.contourArea(c)
            if area < _SMALL_TWO_LINE_AREA * min_h * min_h:
                continue
            (cx, cy), (rw, rh), ra = cv2.minAreaRect(c)
            w, h, angle = upright_rect(((cx, cy), (rw, rh), ra))
            # colour plates may be square-ish: motorcycle and moped plates (two rows, ~1.45)
            if not _plate_shaped(w, h, s, hsv.shape[0], min_h, min_aspect=1.2) or abs(angle) > 30.0:
                continue
            fill = area / (w * h)
            if fill < 0.6:
                continue
            # a small blob only as a two-line plate of at least 1.5 plate heights (rows of
            # characters ~10 px high at full scale); it is checked after every other proposal
            # (its score is below theirs), so it never crowds out or blocks a larger plate
            small = area < 12 * min_h * min_h
            if small and (w / h > 2.0 or h < 1.5 * min_h):
                continue
            out.append(
                _Proposal(
                    cx / scale,
                    cy / scale,
                    w / scale,
                    h / scale,
                    angle,
                    fill - 1.0 if small else 1.0 + fill,
                    "colour",
                    dark_text=dark_text,
                )
            )
    return out


def _edge_proposals(gray: _Mat, s: FinderSettings, scale: float) -> list[_Proposal]:
    gx = cv2.convertScaleAbs(cv2.Sobel(gray, cv2.CV_16S, 1, 0, ksize=3))
    mean, std = cv2.meanStdDev(gx)
    thr = min(max(float(mean[0, 0] + 2.0 * std[0, 0]), 40.0), 160.0)
    _, edges = cv2.threshold(gx, thr, 255, cv2.THRESH_BINARY)
    k = max(9, gray.shape[1] // 48)
    closed = cv2.morphologyEx(
        edges, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (k, 3))
    )
    closed = cv2.morphologyEx(
        closed, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (5, 3))
    )
    contours, _ = cv2.findContours(closed, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    out: list[_Proposal] = []
    for c in contours:
        x, y, w, h = cv2.boundingRect(c)
        if not _plate_shaped(w, h, s, gray.shape[0], s.min_height):
            continue
        density = float(cv2.countNonZero(edges[y : y + h, x : x + w])) / (w * h)
        if density >= 0.25:
            out.append(
                _Proposal(
                    (x + w / 2) / scale,
                    (y + h / 2) / scale,
                    w / scale,
                    h / scale,
                    0.0,
                    density,
                    "edge",
                )
            )
    return out


@dataclass(frozen=True, slots=True)
class TextRow:
    """Character-like blobs found on one (possibly sloped) text row of a crop."""

    count: int
    slope: float  # dy/dx of the row in crop pixels (0.0 when level or unknown)


def _row_of(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], h: npt.NDArray[np.float64]
) -> TextRow:
    n = len(x)
    med_h = float(np.sort(h)[n // 2])
    same_height = np.abs(h - med_h) <= 0.3 * med_h
    level = same_height & (np.abs(y - float(np.sort(y)[n // 2])) <= 0.25 * med_h)
    best = TextRow(int(np.count_nonzero(level)), 0.0)
    if n >= 3 and int(np.count_nonzero(same_height)) >= 3:
        xs, ys = x[same_height], y[same_height]
        slope, icpt = np.polyfit(xs, ys, 1)
        if abs(slope) <= 0.5:
            on_line = same_height & (np.abs(y - (slope * x + icpt)) <= 0.25 * med_h)
            count = int(np.count_nonzero(on_line))
            if count > best.count:
                best = TextRow(count, float(slope))
    if best.count < 4 and int(np.count_nonzero(same_height)) >= 4:
        best = max(best, _two_rows(y[same_height], med_h), key=lambda r: r.count)
    return best


def _two_rows(y: npt.NDArray[np.float64], med_h: float) -> TextRow:
    """Motorcycle and moped plates: two rows of characters, one above the other."""
    split = (float(y.min()) + float(y.max())) / 2.0
    top, bottom = y[y < split], y[y >= split]
    if len(top) < 2 or len(bottom) < 2 or float(bottom.mean() - top.mean()) < 0.9 * med_h:
        return TextRow(0, 0.0)
    count = sum(
        int(np.count_nonzero(np.abs(row - float(np.median(row))) <= 0.25 * med_h))
        for row in (top, bottom)
    )
    return TextRow(count, 0.0)


def text_row(gray_crop: _Mat, enough: int = 10, *, dark_text: bool = False) -> TextRow:
    """Character-like blobs on one text row of a plate crop (dark-on-light or light-on-dark,
    whichever has more; only dark-on-light when ``dark_text``; stops early once ``enough``
    are found). The row may slope (tilted or turned plates).

    A blob counts when its height is 30-95% of the crop height, it is taller than wide-ish and
    not solid, its height matches the median blob's, and its centre lies on the row.
    """
    h0, w0 = gray_crop.shape[:2]
    if h0 < 4 or w0 < 8:
        return TextRow(0, 0.0)
    small = cv2.resize(gray_crop, (max(8, round(w0 * _BLOB_HEIGHT / h0)), _BLOB_HEIGHT))
    horizontal = cv2.getStructuringElement(cv2.MORPH_RECT, (max(8, small.shape[1] // 4), 1))
    best = TextRow(0, 0.0)
    modes = (cv2.THRESH_BINARY_INV,) if dark_text else (cv2.THRESH_BINARY_INV, cv2.THRESH_BINARY)
    for mode in modes:
        _, binary = cv2.threshold(small, 0, 255, mode | cv2.THRESH_OTSU)
        # Plate borders and frame edges touch the characters: cut long horizontal and vertical
        # strokes away before looking for separate character blobs.
        lines = cv2.bitwise_or(
            cv2.morphologyEx(binary, cv2.MORPH_OPEN, horizontal),
            cv2.morphologyEx(binary, cv2.MORPH_OPEN, _VERTICAL),
        )
        _, _, stats, _ = cv2.connectedComponentsWithStats(
            cv2.subtract(binary, lines), connectivity=8
        )
        st = stats[1:]
        x, y, w, h, area = st[:, 0], st[:, 1], st[:, 2], st[:, 3], st[:, 4]
        ok = (
            (h >= 0.30 * _BLOB_HEIGHT)
            & (h <= 0.95 * _BLOB_HEIGHT)
            & (w >= 2)
            & (w <= 1.15 * h)
            & (area >= 0.12 * w * h)
            & (area <= 0.92 * w * h)
        )
        n_ok = int(np.count_nonzero(ok))
        row = TextRow(n_ok, 0.0)
        if n_ok >= 2:
            row = _row_of(
                (x[ok] + w[ok] / 2.0).astype(np.float64),
                (y[ok] + h[ok] / 2.0).astype(np.float64),
                h[ok].astype(np.float64),
            )
        if row.count > best.count:
            best = row
        if best.count >= enough:
            break
    return best


def count_char_blobs(gray_crop: _Mat, enough: int = 10, *, dark_text: bool = False) -> int:
    """The number of character-like blobs on the crop's text row (see :func:`text_row`)."""
    return text_row(gray_crop, enough, dark_text=dark_text).count


def _rotated_crop(image: Image, p: _Proposal, mx: float, my: float) -> Image:
    """The upright plate (plus ``mx``/``my`` of margin per side, as fractions) from ``image``."""
    w = p.w * (1.0 + 2.0 * mx)
    h = p.h * (1.0 + 2.0 * my)
    if abs(p.angle) < 2.0:
        ih, iw = image.shape[:2]
        x1, x2 = max(0, round(p.cx - w / 2)), min(iw, round(p.cx + w / 2))
        y1, y2 = max(0, round(p.cy - h / 2)), min(ih, round(p.cy + h / 2))
        return image[y1:y2, x1:x2]
    out_w, out_h = max(2, round(w)), max(2, round(h))
    m = cv2.getRotationMatrix2D((p.cx, p.cy), p.angle, 1.0)
    m[0, 2] += out_w / 2.0 - p.cx
    m[1, 2] += out_h / 2.0 - p.cy
    return np.asarray(
        cv2.warpAffine(
            image, m, (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        ),
        dtype=np.uint8,
    )


def _bbox_of(p: _Proposal, full_w: int, full_h: int) -> BBox | None:
    a = math.radians(p.angle)
    ca, sa = abs(math.cos(a)), abs(math.sin(a))
    bw = p.w * ca + p.h * sa
    bh = p.w * sa + p.h * ca
    x1, y1 = max(0, int(p.cx - bw / 2)), max(0, int(p.cy - bh / 2))
    x2, y2 = min(full_w, math.ceil(p.cx + bw / 2)), min(full_h, math.ceil(p.cy + bh / 2))
    if x2 <= x1 or y2 <= y1:
        return None
    return BBox(x1, y1, x2, y2)


def suppress_overlaps(cands: list[Candidate], limit: int) -> list[Candidate]:
    kept: list[Candidate] = []
    for c in sorted(cands, key=lambda c: c.score, reverse=True):
        if all(c.bbox.iou(k.bbox) < 0.3 and c.bbox.overlap_of_smaller(k.bbox) < 0.7 for k in kept):
            kept.append(c)
            if len(kept) == limit:
                break
    return kept


def find_candidates(image: Image, settings: FinderSettings | None = None) -> list[Candidate]:
    """Plate-shaped boxes in full-resolution coordinates, best first, at most
    ``settings.max_candidates``."""
    s = settings or FinderSettings()
    bgr = to_bgr(image)
    full_h, full_w = bgr.shape[:2]
    if full_h < 8 or full_w < 16:
        return []
    scale = min(1.0, s.working_width / full_w)
    small = (
        cv2.resize(
            bgr, (round(full_w * scale), round(full_h * scale)), interpolation=cv2.INTER_AREA
        )
        if scale < 1.0
        else bgr
    )
    gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
    proposals = _edge_proposals(gray, s, scale)
    if min(gray.shape[:2]) >= 64:
        proposals += _edge_proposals(cv2.pyrDown(gray), s, scale / 2.0)
        half = cv2.pyrDown(small)
        proposals += _colour_proposals(cv2.cvtColor(half, cv2.COLOR_BGR2HSV), s, scale / 2.0)
    else:
        proposals += _colour_proposals(cv2.cvtColor(small, cv2.COLOR_BGR2HSV), s, scale)
    proposals.sort(key=lambda p: p.score, reverse=True)

    out: list[Candidate] = []
    for p in _dedupe(proposals)[: s.max_checked]:
        box = _bbox_of(p, full_w, full_h)
        if box is None:
            continue
        # colour boxes are exactly the plate: give the characters a little room
        crop = (
            _rotated_crop(bgr, p, 0.04, 0.12)
            if p.method == "colour"
            else _rotated_crop(bgr, p, 0, 0)
        )
        if crop.size == 0 or any(box.overlap_of_smaller(c.bbox) > 0.6 for c in out):
            continue
        row = text_row(cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY), enough=6, dark_text=p.dark_text)
        if not s.min_char_blobs <= row.count <= 10:
            continue
        angle = p.angle
        if p.method == "edge" and abs(row.slope) > 0.05:  # a sloped row: straighten the crop
            angle = math.degrees(math.atan(row.slope))
        out.append(
            Candidate(
                box,
                p.score + 0.25 * min(row.count, 7),
                p.method,
                round(angle, 2),
                round(p.w, 1),
                round(p.h, 1),
                row.count,
            )
        )
        if len(out) >= 2 * s.max_candidates:
            break
    return suppress_overlaps(out, s.max_candidates)


def _dedupe(proposals: list[_Proposal]) -> list[_Proposal]:
    """Drop proposals whose centre and size nearly repeat a better one (the scales overlap)."""
    kept: list[_Proposal] = []
    for p in proposals:
        if not any(
            p.method == k.method
            and abs(p.cx - k.cx) < 0.15 * k.w
            and abs(p.cy - k.cy) < 0.3 * k.h
            and abs(p.w - k.w) < 0.25 * k.w
            for k in kept
        ):
            kept.append(p)
    return kept


def crop_for_ocr(
    image: Image, candidate: Candidate, settings: FinderSettings | None = None
) -> Image:
    """The candidate's plate, straightened, with a margin on each side (clipped to the image);
    tight crops make the OCR drop the first character."""
    s = settings or FinderSettings()
    box = candidate.bbox
    cx, cy = box.centre
    w = candidate.plate_width or float(box.width)
    h = candidate.plate_height or float(box.height)
    p = _Proposal(cx, cy, w, h, candidate.angle, candidate.score, candidate.method, False)
    return _rotated_crop(to_bgr(image), p, s.margin_x, s.margin_y)
