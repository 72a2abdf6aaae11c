"""Two-line plates: the rows cut apart and placed side by side; the recognizer's choice
between the whole read and the rows read."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from fixtures.synth import render_plate
from scancar.lpr.candidates import text_row
from scancar.lpr.model import BBox, Candidate
from scancar.lpr.recognizer import PlateRecognizer
from scancar.lpr.tworow import find_rows, is_two_line_shape, side_by_side_rows
from tests.unit.lpr.fakes import FakePlateReader, ocr


@pytest.mark.parametrize(
    ("text", "style", "top", "bottom"),
    [
        ("MX123B", "nl_motorcycle", 2, 4),  # MX / 123-B (the dash is no character)
        ("B MW 123", "de_square", 3, 3),
        ("KG73 CNS", "gb_square", 4, 3),
    ],
)
def test_find_rows_splits_the_characters_into_the_two_rows(text, style, top, bottom):
    plate = render_plate(text, style, rng=np.random.default_rng(1))
    margin = cv2.copyMakeBorder(plate, 40, 60, 25, 25, cv2.BORDER_CONSTANT, value=(60, 60, 60))
    rows = find_rows(cv2.cvtColor(margin, cv2.COLOR_BGR2GRAY))
    assert rows is not None
    assert (len(rows.top), len(rows.bottom)) == (top, bottom)
    assert rows.top[:, 1].max() < rows.bottom[:, 1].min()


def test_side_by_side_rows_makes_one_line_of_the_characters():
    plate = render_plate("B MW 123", "de_square", rng=np.random.default_rng(1))
    # a dark bumper above and a dealer's name below: the crop's middle is not the row gap
    crop = cv2.copyMakeBorder(plate, 30, 80, 25, 25, cv2.BORDER_CONSTANT, value=(40, 40, 40))
    cv2.putText(crop, "AUTO JANSEN", (70, 320), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (230, 230, 230), 2)
    line = side_by_side_rows(crop)
    assert line is not None
    h, w = line.shape[:2]
    assert w / h >= 3.0  # one line, like a one-line plate crop
    gray = cv2.cvtColor(line, cv2.COLOR_BGR2GRAY)
    assert find_rows(gray) is None  # no second row left in it
    # B, M, W, 1, 2, 3 on one row (+ the EU band's edge next to the B), no dealer text
    assert text_row(gray, enough=10).count in {6, 7}


def test_side_by_side_rows_finds_no_rows_on_a_one_line_plate():
    plate = render_plate("GZ123T", "nl", rng=np.random.default_rng(2))
    assert side_by_side_rows(plate[:, 40:200]) is None
    assert side_by_side_rows(plate) is None


def test_two_line_shape_is_square_ish():
    assert is_two_line_shape(210, 140)
    assert not is_two_line_shape(520, 110)


def _read_square_plate(whole, rows):
    plate = render_plate("MX123B", "nl_motorcycle", rng=np.random.default_rng(3))
    image = np.full((400, 600, 3), 90, np.uint8)
    image[100:240, 200:410] = plate
    reader = FakePlateReader([whole, rows])
    cand = Candidate(BBox(200, 100, 410, 240), 1.0, "text")
    reads = PlateRecognizer(reader).read(image, [cand])
    assert len(reader.crops) == 2  # whole and rows side by side, in one batch
    whole, line = reader.crops
    assert whole.shape[1] / whole.shape[0] < 2.2 < line.shape[1] / line.shape[0]
    return reads


def test_recognizer_keeps_the_rows_read_when_only_it_is_a_valid_plate():
    (read,) = _read_square_plate(ocr("MX12B"), ocr("MX123B"))
    assert (read.plate, read.is_hit_eligible) == ("MX123B", True)


def test_recognizer_keeps_the_whole_read_when_it_is_valid():
    (read,) = _read_square_plate(ocr("MX123B"), ocr("MX123B", 0.5))
    assert (read.plate, read.is_hit_eligible) == ("MX123B", True)


def test_recognizer_trusts_neither_when_whole_and_rows_read_different_valid_plates():
    (read,) = _read_square_plate(ocr("MX123B"), ocr("MX128B"))
    assert read.plate == "MX123B"
    assert read.low_confidence
    assert not read.is_hit_eligible


def test_recognizer_judges_a_plate_with_two_rows_of_characters_as_two_line():
    # a German WA XC / 2495 fits the Polish one-line pattern too, not a Polish two-line plate
    plate = render_plate("WA XC 2495", "de_square", rng=np.random.default_rng(3))
    image = np.full((400, 600, 3), 90, np.uint8)
    image[100:300, 150:490] = plate
    read_as = ocr("WAXC2495", region="Bulgaria", region_conf=0.97)
    reader = FakePlateReader([read_as, read_as])
    cand = Candidate(BBox(150, 100, 490, 300), 1.0, "text")
    (read,) = PlateRecognizer(reader).read(image, [cand])
    assert (read.two_line, read.country, read.is_hit_eligible) == (True, "DE", True)
