"""Two-line plates: the rows cut apart and placed side by side; the recognizer's choice
between the whole read and the rows read."""

from __future__ import annotations

import numpy as np
import pytest

from fixtures.synth import render_plate
from scancar.lpr.model import BBox, Candidate
from scancar.lpr.recognizer import PlateRecognizer
from scancar.lpr.tworow import is_two_line_shape, row_gap, side_by_side_rows
from tests.unit.lpr.fakes import FakePlateReader, ocr


@pytest.mark.parametrize(
    ("text", "style"), [("MX123B", "nl_motorcycle"), ("B MW 123", "de_square")]
)
def test_side_by_side_rows_cuts_between_the_rows(text, style):
    plate = render_plate(text, style, rng=np.random.default_rng(1))
    h, w = plate.shape[:2]
    gap = row_gap(plate[:, :, 1])
    assert gap is not None
    assert 0.4 * h <= gap <= 0.6 * h
    rows = side_by_side_rows(plate)
    assert rows is not None
    assert rows.shape[0] == max(gap, h - gap)
    assert rows.shape[1] >= 2 * w - 2


def test_side_by_side_rows_finds_no_gap_on_a_one_line_plate():
    plate = render_plate("GZ123T", "nl", rng=np.random.default_rng(2))
    assert side_by_side_rows(plate[:, 40:200]) is None


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
    assert reader.crops[1].shape[1] > 1.8 * reader.crops[0].shape[1]
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
