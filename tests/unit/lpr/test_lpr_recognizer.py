"""The recogniser with a fake OCR: candidates -> crops -> rules -> merged reads."""

from __future__ import annotations

import numpy as np
import pytest

from fixtures.synth import FrameSpec, PlateRequest, generate_frame, render_plate
from scancar.lpr.errors import InvalidSettingError
from scancar.lpr.model import BBox, Candidate, Image
from scancar.lpr.recognizer import PlateRecognizer, RecognizerSettings
from tests.unit.lpr.fakes import FakePlateReader, ocr
from tests.unit.lpr.images import plate_crop, with_glare, with_pole


class FixedFinder:
    def __init__(self, candidates: list[Candidate]) -> None:
        self.candidates = candidates

    def find(self, image: Image) -> list[Candidate]:
        return list(self.candidates)


def _frame() -> np.ndarray:
    spec = FrameSpec(conditions=("clear",), plates=(PlateRequest("GZ123T"),), n_plates=None)
    return generate_frame(spec, 5).image


def test_recognise_reads_each_candidate_once_in_one_batch():
    reader = FakePlateReader([ocr("GZ123T"), ocr("XK52GV")])
    finder = FixedFinder(
        [
            Candidate(BBox(10, 10, 110, 32), 2.0, "colour"),
            Candidate(BBox(300, 10, 400, 32), 1.0, "edge"),
        ]
    )
    reads = PlateRecognizer(reader, finder).recognise(_frame())
    assert sorted(r.plate for r in reads) == ["GZ123T", "XK52GV"]
    assert len(reader.crops) == 2
    assert all(r.valid and r.is_hit_eligible for r in reads)


def test_recognise_merges_overlapping_reads_keeping_the_best():
    reader = FakePlateReader([ocr("GZ123T", 0.7), ocr("GZ123T", 0.99)])
    finder = FixedFinder(
        [
            Candidate(BBox(10, 10, 110, 32), 2.0, "colour"),
            Candidate(BBox(12, 11, 108, 31), 1.0, "edge"),
        ]
    )
    reads = PlateRecognizer(reader, finder).recognise(_frame())
    assert [(r.plate, r.confidence) for r in reads] == [("GZ123T", 0.99)]


def test_recognise_drops_reads_shorter_than_the_minimum():
    reader = FakePlateReader([ocr("G1")])
    reads = PlateRecognizer(reader, FixedFinder([Candidate(BBox(0, 0, 90, 20), 1.0, "edge")]))
    assert reads.recognise(_frame()) == []


def test_recognise_reads_a_plate_crop_whole_with_an_added_margin():
    crop = render_plate("GZ123T", "nl", rng=np.random.default_rng(3))
    crop = crop[:, 60:]  # no candidate box fits a crop that is all plate
    small = np.ascontiguousarray(crop[::4, ::4])
    reader = FakePlateReader([ocr("GZ123T")])
    reads = PlateRecognizer(reader, FixedFinder([])).recognise(small)
    assert [r.plate for r in reads] == ["GZ123T"]
    h, w = small.shape[:2]
    assert reader.crops[0].shape[0] > h
    assert reader.crops[0].shape[1] > w


def test_recognise_reports_invalid_reads_but_not_as_hits():
    reader = FakePlateReader([ocr("ABC1234567")])
    reads = PlateRecognizer(
        reader, FixedFinder([Candidate(BBox(10, 10, 110, 32), 1.0, "edge")])
    ).recognise(_frame())
    assert [(r.valid, r.is_hit_eligible) for r in reads] == [(False, False)]


def _street_with(crop: np.ndarray) -> tuple[np.ndarray, Candidate]:
    """A frame with ``crop`` (a plate plus its margin) pasted in; the candidate is the plate."""
    image = np.full((200, 500, 3), (50, 40, 170), dtype=np.uint8)  # a red car: a colour frame
    h, w = crop.shape[:2]
    image[60 : 60 + h, 100 : 100 + w] = crop
    return image, Candidate(BBox(121, 70, 381, 125), 2.0, "colour")  # the 260 x 55 plate


@pytest.mark.parametrize(
    ("crop", "hidden"),
    [
        (plate_crop(), False),
        (with_pole(plate_crop(), 150, 26), True),
        (with_glare(plate_crop(), 160, 37, 1.2), True),
    ],
)
def test_recognise_marks_a_read_of_a_partly_hidden_yellow_plate_low_confidence(crop, hidden):
    image, candidate = _street_with(crop)
    reads = PlateRecognizer(FakePlateReader([ocr("GZ123T")]), FixedFinder([candidate])).recognise(
        image
    )
    assert [(r.colour, r.valid, r.obstructed, r.low_confidence) for r in reads] == [
        ("yellow", True, hidden, hidden)
    ]
    assert reads[0].is_hit_eligible is not hidden


def test_recognise_obstruction_limit_is_a_setting():
    image, candidate = _street_with(with_pole(plate_crop(), 150, 26))
    lenient = RecognizerSettings(max_obstruction=0.6)
    reader = FakePlateReader([ocr("GZ123T")])
    reads = PlateRecognizer(reader, FixedFinder([candidate]), lenient).recognise(image)
    assert [(r.obstructed, r.is_hit_eligible) for r in reads] == [(False, True)]
    assert 0.3 < reads[0].obstruction < 0.6


def test_recognizer_settings_refuse_a_bad_obstruction_limit():
    with pytest.raises(InvalidSettingError, match=r"max_obstruction 0\.0"):
        RecognizerSettings(max_obstruction=0.0)
