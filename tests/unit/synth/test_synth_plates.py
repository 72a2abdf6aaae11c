"""Plate texts and plate rendering of the synthetic data generator."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from fixtures.synth import (
    FOREIGN_STYLES,
    SPECIAL_STYLES,
    InvalidSpecError,
    PlateStyle,
    UnknownChoiceError,
    random_dutch_plate,
    random_foreign_plate,
    random_plate_text,
    render_plate,
)
from fixtures.synth.plates import STYLES, plate_text, render_plate_detailed
from fixtures.synth.scene import GARAGE_TEXTS, SALE_TEXTS, SHOP_WORDS, STREET_NAMES
from permits.dutch import SIDECODES, parse_dutch_plate
from permits.plates import normalise_plate


@pytest.mark.parametrize("sidecode", [sc.number for sc in SIDECODES])
def test_random_dutch_plate_every_sidecode_is_valid(sidecode: int) -> None:
    rng = np.random.default_rng(sidecode)
    for _ in range(50):
        text = random_dutch_plate(rng, sidecode)
        parsed = parse_dutch_plate(text)
        assert parsed is not None, text
        assert parsed.sidecode == sidecode
        assert parsed.vehicle_class == "car"


def test_random_dutch_plate_without_sidecode_covers_all_sidecodes() -> None:
    rng = np.random.default_rng(0)
    seen = {parse_dutch_plate(random_dutch_plate(rng)).sidecode for _ in range(500)}  # type: ignore[union-attr]
    assert seen == {sc.number for sc in SIDECODES}


@pytest.mark.parametrize("sidecode", [8, 13])
def test_random_dutch_plate_one_digit_first_group_is_never_zero(sidecode: int) -> None:
    rng = np.random.default_rng(sidecode)
    assert {random_dutch_plate(rng, sidecode)[0] for _ in range(300)} == set("123456789")


def test_random_dutch_plate_rejects_unknown_sidecode() -> None:
    with pytest.raises(UnknownChoiceError, match=r"unknown sidecode 15; allowed: 1, 2"):
        random_dutch_plate(np.random.default_rng(0), 15)


@pytest.mark.parametrize("style", SPECIAL_STYLES)
def test_random_plate_text_special_series_are_valid_dutch(style: PlateStyle) -> None:
    rng = np.random.default_rng(1)
    for _ in range(30):
        plate = random_plate_text(rng, style)
        parsed = parse_dutch_plate(plate.text)
        assert parsed is not None, plate
        assert plate.country == "NL"
        assert plate.display.replace("-", "") == plate.text


@pytest.mark.parametrize(
    ("style", "vehicle_class"),
    [(PlateStyle.NL_MOTORCYCLE, "motorcycle"), (PlateStyle.NL_MOPED, "moped")],
)
def test_random_plate_text_two_wheelers_have_their_vehicle_class(
    style: PlateStyle, vehicle_class: str
) -> None:
    rng = np.random.default_rng(2)
    for _ in range(20):
        plate = random_plate_text(rng, style)
        assert parse_dutch_plate(plate.text).vehicle_class == vehicle_class  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("style", "series"),
    [
        (PlateStyle.NL_DIPLOMATIC, {"diplomatic", "diplomatic_corps"}),
        (PlateStyle.NL_ROYAL, {"royal"}),
    ],
)
def test_random_plate_text_special_series_names(style: PlateStyle, series: set[str]) -> None:
    rng = np.random.default_rng(3)
    assert {random_plate_text(rng, style).series for _ in range(40)} <= series


@pytest.mark.parametrize("style", FOREIGN_STYLES)
def test_random_foreign_plate_is_not_valid_dutch(style: PlateStyle) -> None:
    rng = np.random.default_rng(4)
    for _ in range(200):
        plate = random_foreign_plate(rng, style)
        assert parse_dutch_plate(plate.text) is None, plate
        assert plate.country == STYLES[style].country != "NL"
        assert normalise_plate(plate.display) == plate.text


def test_random_foreign_plate_polish_series_has_no_lookalike_letters() -> None:
    rng = np.random.default_rng(5)
    series = [random_foreign_plate(rng, PlateStyle.PL).display.split(" ")[1] for _ in range(300)]
    assert not set("".join(series)) & set("BDIOZ")
    assert any(ch.isalpha() for s in series for ch in s)  # letters do occur in the series


def test_random_foreign_plate_rejects_dutch_style() -> None:
    with pytest.raises(UnknownChoiceError, match="foreign plate style 'nl'"):
        random_foreign_plate(np.random.default_rng(0), "nl")


def test_parse_style_rejects_unknown_style_naming_allowed_ones() -> None:
    with pytest.raises(UnknownChoiceError, match=r"unknown plate style 'xx'; allowed: nl, "):
        render_plate("GZ123T", "xx", rng=np.random.default_rng(0))


@pytest.mark.parametrize(
    "text",
    [*SHOP_WORDS, *STREET_NAMES, *(t.replace("\n", " ") for t in SALE_TEXTS + GARAGE_TEXTS)],
)
def test_distractor_texts_hold_no_dutch_plate(text: str) -> None:
    flat = "".join(c for c in text.upper() if c.isalnum())
    windows = {flat[i : i + n] for n in range(4, 8) for i in range(len(flat) - n + 1)}
    assert [w for w in windows if parse_dutch_plate(w) is not None] == []


def test_render_plate_dutch_is_yellow_with_blue_band_and_dark_text() -> None:
    img = render_plate("GZ123T", PlateStyle.NL, rng=np.random.default_rng(0))
    assert img.shape == (110, 520, 3)
    assert img.dtype == np.uint8
    band = img[20:90, 8:36].reshape(-1, 3).mean(axis=0)  # BGR
    assert band[0] > 100 > band[2]  # blue
    body = img[8:102, 60:510].reshape(-1, 3)
    yellow = (body[:, 2] > 200) & (body[:, 1] > 160) & (body[:, 0] < 60)
    dark = body.max(axis=1) < 80
    assert 0.45 < yellow.mean() < 0.85
    assert 0.12 < dark.mean() < 0.5


def test_render_plate_same_rng_seed_gives_same_image() -> None:
    a = render_plate("GZ123T", "nl", rng=np.random.default_rng(7))
    b = render_plate("GZ123T", "nl", rng=np.random.default_rng(7))
    c = render_plate("GZ123X", "nl", rng=np.random.default_rng(7))
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize(
    ("display", "n_chars"),
    [("GZ-123-T", 6), ("B MW 1234", 7), ("CD-1234", 6), ("AA-12", 4), ("M-81-NTK", 6)],
)
def test_render_plate_detailed_char_boxes_one_per_character_inside_plate(
    display: str, n_chars: int
) -> None:
    style = PlateStyle.NL_MOTORCYCLE if display.startswith("M-") else PlateStyle.NL
    plate = render_plate_detailed(display, style, rng=np.random.default_rng(0))
    h, w = plate.image.shape[:2]
    assert len(plate.char_boxes) == n_chars
    for x1, y1, x2, y2 in plate.char_boxes:
        assert 0 <= x1 < x2 <= w
        assert 0 <= y1 < y2 <= h
        assert (y2 - y1) > 0.3 * h
    xs = [b[0] for b in plate.char_boxes if b[1] == plate.char_boxes[0][1]]
    assert xs == sorted(xs)


def _ink_of_char(plate_img: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    x1, y1, x2, y2 = box
    gray = cv2.cvtColor(plate_img[y1:y2, x1:x2], cv2.COLOR_BGR2GRAY)
    return np.asarray(gray < 100)  # black ink on a yellow or light blue plate


def _ink_width(ink: np.ndarray) -> int:
    cols = np.flatnonzero(ink.any(axis=0))
    return int(cols[-1] - cols[0] + 1)


@pytest.mark.parametrize(
    ("display", "style"),
    [
        ("JS-43-PB", PlateStyle.NL),
        ("56-JTT-5", PlateStyle.NL),
        ("CDJ-123", PlateStyle.NL_DIPLOMATIC),
    ],
)
def test_render_plate_dutch_j_is_the_plate_font_j(display: str, style: PlateStyle) -> None:
    # shape of the J on real Dutch plates (shared/data/plates-nl-dev): no descender, a stem on
    # the right, a foot over the whole width with a flat, rounded bottom whose left end rises
    # to about a quarter of the height, 0.8 x as wide as the other characters
    plate = render_plate_detailed(display, style, rng=np.random.default_rng(3))
    chars = display.replace("-", "")
    inks = [_ink_of_char(plate.image, box) for box in plate.char_boxes]
    ink = inks[chars.index("J")]
    h = ink.shape[0]
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    left, width = int(cols[0]), _ink_width(ink)
    assert rows[0] <= 1
    assert rows[-1] >= h - 2  # stands on the baseline, nothing squashed below it
    others = [_ink_width(i) for c, i in zip(chars, inks, strict=True) if c != "J"]
    assert 0.7 <= width / float(np.median(others)) <= 0.9
    upper = np.flatnonzero(ink[: round(0.6 * h)].any(axis=0))
    assert upper[0] - left >= 0.5 * width  # only the stem up there
    assert ink[round(0.8 * h), left : left + width].mean() >= 0.9  # the foot spans the width
    end_top = np.flatnonzero(ink[:, left : left + max(1, round(0.15 * width))].any(axis=1))[0]
    assert 0.7 * h <= end_top <= 0.82 * h
    bottom = np.flatnonzero(ink[rows[-1]])
    assert bottom[0] > left  # rounded, not a pointed tail
    assert bottom[-1] - bottom[0] + 1 >= 0.4 * width  # flat bottom


def test_render_plate_foreign_j_is_not_the_dutch_one() -> None:
    gb = render_plate_detailed("JA12 JKL", PlateStyle.GB, rng=np.random.default_rng(0))
    nl = render_plate_detailed("JS-43-PB", PlateStyle.NL, rng=np.random.default_rng(0))
    gb_j, nl_j = (_ink_of_char(p.image, p.char_boxes[0]) for p in (gb, nl))
    # the font's own J (descender squashed onto the baseline) is much narrower for its height
    assert _ink_width(gb_j) / gb_j.shape[0] < 0.85 * _ink_width(nl_j) / nl_j.shape[0]


def test_render_plate_formats_normalised_dutch_text_with_sidecode_dashes() -> None:
    rng_a, rng_b = np.random.default_rng(5), np.random.default_rng(5)
    assert np.array_equal(
        render_plate("GZ123T", "nl", rng=rng_a), render_plate("GZ-123-T", "nl", rng=rng_b)
    )


@pytest.mark.parametrize(
    ("text", "style", "expected"),
    [
        ("GZ123T", "nl", ("GZ123T", "GZ-123-T", "NL", 9, None)),
        ("gz-123-t", "nl_taxi", ("GZ123T", "GZ-123-T", "NL", 9, "taxi")),
        ("CD1234", "nl_diplomatic", ("CD1234", "CD-1234", "NL", None, "diplomatic")),
        ("AA12", "nl_royal", ("AA12", "AA-12", "NL", None, "royal")),
        ("MX123B", "nl_motorcycle", ("MX123B", "MX-123-B", "NL", 9, "motorcycle")),
        ("B MW 1234", "de", ("BMW1234", "B MW 1234", "DE", None, None)),
        ("1-ABC-123", "be", ("1ABC123", "1-ABC-123", "BE", None, None)),
    ],
)
def test_plate_text_classifies_given_plates(
    text: str, style: str, expected: tuple[object, ...]
) -> None:
    p = plate_text(text, style)
    assert (p.text, p.display, p.country, p.sidecode, p.series) == expected


def test_plate_text_rejects_bad_characters() -> None:
    with pytest.raises(InvalidSpecError, match=r"plate text='GZ_123'"):
        plate_text("GZ_123", "nl")
