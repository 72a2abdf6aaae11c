"""OpenCV plate candidates on synthetic frames (no OCR model)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from fixtures.synth import FrameSpec, generate_frame, render_plate
from scancar.lpr.candidates import (
    FinderSettings,
    count_char_blobs,
    crop_for_ocr,
    find_candidates,
    is_colour_image,
    plate_colour,
    plate_obstruction,
    text_row,
)
from scancar.lpr.errors import InvalidSettingError
from scancar.lpr.model import BBox, Candidate
from tests.unit.lpr.images import plate_crop, with_glare, with_pole


def _found(frame_seed: int, conditions: tuple[str, ...]) -> tuple[int, int, int]:
    frame = generate_frame(FrameSpec(conditions=conditions), frame_seed)  # type: ignore[arg-type]
    cands = find_candidates(frame.image)
    truths = [BBox(*p.bbox) for p in frame.truth.plates if p.readable]
    hit = sum(1 for t in truths if any(c.bbox.overlap_of_smaller(t) > 0.5 for c in cands))
    return hit, len(truths), len(cands)


def test_find_candidates_finds_most_plates_on_clear_synthetic_frames():
    hits = total = 0
    for seed in range(12):
        hit, n, n_cands = _found(1000 + seed, ("clear",))
        hits += hit
        total += n
        assert n_cands <= FinderSettings().max_candidates
    assert hits / total >= 0.9


def test_find_candidates_on_a_plain_image_is_empty():
    assert find_candidates(np.full((720, 1280, 3), 128, dtype=np.uint8)) == []
    assert find_candidates(np.zeros((5, 5, 3), dtype=np.uint8)) == []


def _frame_with(plate: np.ndarray, size: tuple[int, int], at: tuple[int, int]) -> np.ndarray:
    """``plate`` at ``size`` on a car-grey frame, in front of a grille of vertical bars (its
    edges join the plate's into one wide blob, so only the colour search can find it)."""
    frame = np.full((720, 1280, 3), (70, 75, 80), dtype=np.uint8)
    x, y = at
    for bar in range(x - 120, x + size[0] + 120, 6):
        frame[y - 4 : y + size[1] + 4, bar : bar + 3] = 15
    frame[y : y + size[1], x : x + size[0]] = cv2.resize(plate, size, interpolation=cv2.INTER_AREA)
    return frame


@pytest.mark.parametrize(
    ("text", "style", "size"),
    [("D-248-FX", "nl_moped", (42, 28)), ("MF-012-G", "nl_motorcycle", (46, 31))],
)
def test_find_candidates_finds_small_two_line_plates(text, style, size):
    plate = render_plate(text, style, rng=np.random.default_rng(5))
    frame = _frame_with(plate, size, (600, 420))
    truth = BBox(600, 420, 600 + size[0], 420 + size[1])
    found = [c for c in find_candidates(frame) if c.bbox.overlap_of_smaller(truth) > 0.6]
    assert [c.method for c in found] == ["colour"]


def test_find_candidates_checks_small_colour_blobs_after_larger_plates():
    small = render_plate("D-248-FX", "nl_moped", rng=np.random.default_rng(5))
    large = render_plate("GZ-123-T", "nl", rng=np.random.default_rng(5))
    frame = _frame_with(small, (42, 28), (300, 420))
    frame[500:536, 700:870] = cv2.resize(large, (170, 36), interpolation=cv2.INTER_AREA)
    found = find_candidates(frame)
    assert found[0].bbox.overlap_of_smaller(BBox(700, 500, 870, 536)) > 0.6
    assert any(c.bbox.overlap_of_smaller(BBox(300, 420, 342, 448)) > 0.6 for c in found)


def test_find_candidates_accepts_grey_images():
    frame = generate_frame(FrameSpec(conditions=("clear",)), 1003)
    grey = frame.image.mean(axis=2).astype(np.uint8)
    assert find_candidates(grey)  # edge candidates still work without colour


def test_count_char_blobs_counts_the_characters_of_a_plate():
    plate = render_plate("GZ123T", "nl", rng=np.random.default_rng(1))
    grey = plate.mean(axis=2).astype(np.uint8)
    assert count_char_blobs(grey) in {6, 7}  # the six characters (+ the EU band)
    assert count_char_blobs(np.full((30, 120), 200, dtype=np.uint8)) == 0


def test_crop_for_ocr_keeps_a_margin_around_the_plate():
    image = np.zeros((200, 400, 3), dtype=np.uint8)
    cand = Candidate(BBox(100, 80, 300, 120), 1.0, "edge")
    crop = crop_for_ocr(image, cand, FinderSettings(margin_x=0.1, margin_y=0.25))
    assert crop.shape[:2] == (60, 240)  # 40 + 2*10 high, 200 + 2*20 wide


def test_crop_for_ocr_is_clipped_to_the_image():
    image = np.zeros((100, 100, 3), dtype=np.uint8)
    crop = crop_for_ocr(image, Candidate(BBox(0, 0, 50, 20), 1.0, "edge"))
    assert crop.shape[:2] == (24, 54)


def test_plate_colour_tells_yellow_from_white_and_dark():
    yellow = render_plate("GZ123T", "nl", rng=np.random.default_rng(2))
    white = render_plate("AB123CD", "fr", rng=np.random.default_rng(2))
    assert plate_colour(yellow) == "yellow"
    assert plate_colour(white) == "white_dark"
    assert plate_colour((yellow // 8).astype(np.uint8)) == "unknown"


@pytest.mark.parametrize(
    ("text", "style", "colour"),
    [
        ("1-ABC-123", "be", "white_red"),  # Belgian red characters
        ("ABC-123", "be", "white_red"),  # the old Belgian series, which German ABC123 also fits
        ("P XV 135", "de", "white_dark"),
        ("P XV 135", "de_square", "white_dark"),  # two lines, EU band not counted as ink
        ("AB 12345", "pl", "white_dark"),
    ],
)
def test_plate_colour_tells_red_from_black_characters_on_white(text, style, colour):
    assert plate_colour(plate_crop(text, style)) == colour


def test_plate_colour_does_not_call_a_red_plate_black_over_a_dark_bumper():
    crop = plate_crop("ABC-123", "be")
    dark = cv2.copyMakeBorder(crop[:, 21:-21], 0, 0, 60, 60, cv2.BORDER_CONSTANT, value=(15,) * 3)
    assert plate_colour(dark) != "white_dark"


def test_plate_colour_does_not_call_a_black_plate_red_over_a_red_car():
    # a loose box: red car body above, below and beside a German plate's black characters
    plate = render_plate("P XV 135", "de", rng=np.random.default_rng(3))
    small = cv2.resize(plate, (260, 55), interpolation=cv2.INTER_AREA)
    crop = cv2.copyMakeBorder(small, 30, 30, 40, 40, cv2.BORDER_CONSTANT, value=(40, 20, 170))
    assert plate_colour(crop) == "other"


def test_plate_colour_tells_nothing_of_the_characters_of_a_tinted_plate():
    crop = plate_crop("P XV 135", "de").astype(np.float32)
    green = np.clip(crop * np.array([0.6, 1.0, 0.6], np.float32), 0, 255).astype(np.uint8)
    assert plate_colour(green) == "other"


def test_is_colour_image_is_false_for_grey_frames():
    frame = generate_frame(FrameSpec(conditions=("clear",)), 1004).image
    assert is_colour_image(frame) is True
    grey = np.repeat(frame.mean(axis=2, keepdims=True), 3, axis=2).astype(np.uint8)
    assert is_colour_image(grey) is False


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"max_candidates": 0}, r"max_candidates 0; allowed: 1\.\.32"),
        ({"working_width": 50}, r"working_width 50"),
        ({"margin_x": 0.9}, r"margin_x 0\.9; allowed: 0\.0\.\.0\.5"),
        ({"min_aspect": 5.0, "max_aspect": 2.0}, r"min_aspect/max_aspect"),
    ],
)
def test_finder_settings_name_the_bad_value(kwargs, match):
    with pytest.raises(InvalidSettingError, match=match):
        FinderSettings(**kwargs)


def test_text_row_counts_two_row_motorcycle_plates():
    plate = render_plate("MZV95Z", "nl_motorcycle", rng=np.random.default_rng(4))
    grey = plate.mean(axis=2).astype(np.uint8)
    assert text_row(grey).count >= 5


def test_text_row_follows_a_sloped_row():
    plate = render_plate("GZ123T", "nl", rng=np.random.default_rng(5))
    h, w = plate.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), -12, 1.0)
    big = cv2.warpAffine(plate, m, (w, h + 120), borderMode=cv2.BORDER_REPLICATE)
    row = text_row(big.mean(axis=2).astype(np.uint8))
    assert row.count >= 5
    assert row.slope == pytest.approx(np.tan(np.radians(12)), abs=0.06)


@pytest.mark.parametrize(
    ("make", "hidden"),
    [
        (plate_crop, False),
        (lambda: with_pole(plate_crop(), 150, 26), True),  # a post hides the "2"
        (lambda: with_pole(plate_crop(), 150, 5), False),  # a thin wire hides nothing
        (lambda: with_glare(plate_crop(), 160, 37, 1.2), True),  # washed out to white
        (lambda: with_glare(plate_crop(), 160, 37, 0.45), False),  # the ink still shows
        (lambda: plate_crop("MX352K", seed=8), False),
    ],
)
def test_plate_obstruction_sees_glare_and_posts_in_front_of_a_yellow_plate(make, hidden):
    assert (plate_obstruction(make()) > 0.15) is hidden


def test_plate_obstruction_measures_nothing_on_plates_that_are_not_yellow():
    white = with_pole(plate_crop("AB123CD", "fr"), 150, 26)
    assert plate_obstruction(white) == 0.0
    grey = cv2.cvtColor(cv2.cvtColor(with_pole(plate_crop(), 150, 26), cv2.COLOR_BGR2GRAY),
                        cv2.COLOR_GRAY2BGR)  # fmt: skip
    assert plate_obstruction(grey) == 0.0


def test_plate_obstruction_grows_with_the_hidden_part():
    crop = plate_crop()
    sizes = [plate_obstruction(with_pole(crop, 150, w)) for w in (12, 26, 40)]
    assert sizes[0] < sizes[1] < sizes[2]
    assert sizes[1] == pytest.approx(26 * 0.9 * 55 / 55**2, rel=0.25)  # post x plate height
