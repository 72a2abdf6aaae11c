"""The real fast-plate-ocr model on real Dutch frames and on synthetic frames."""

from __future__ import annotations

import csv
import shutil
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import cv2
import numpy as np
import pytest

from fixtures.synth import FrameSpec, PlateRequest, generate_frame, render_vehicle_pass
from scancar.lpr.errors import ModelNotFoundError, UnknownModelError
from scancar.lpr.fastplate import load_plate_reader
from scancar.lpr.model import Frame
from scancar.lpr.tracking import PassTracker
from tests.integration.lpr.conftest import DEV_DIR, MODEL_DIR, need

pytestmark = pytest.mark.model


def _dev_labels() -> dict[str, list[str]]:
    by_image: dict[str, list[str]] = defaultdict(list)
    with need(DEV_DIR / "labels.csv").open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            by_image[row["image"]].append(row["plate_text"])
    return by_image


@pytest.mark.parametrize("kind", ["localisationFrames", "recognitionPlates"])
def test_real_dutch_frames_are_read_exactly_with_no_wrong_plates(recognizer, kind):
    exact = total = wrong = 0
    for image, plates in _dev_labels().items():
        if kind not in image:
            continue
        reads = recognizer.recognise(cv2.imread(str(DEV_DIR / image)))
        hits = {r.plate for r in reads if r.is_hit_eligible}
        exact += len(hits & set(plates))
        total += len(plates)
        wrong += len(hits - set(plates))
    assert wrong == 0
    assert exact / total >= 0.95


def test_real_dutch_frame_read_carries_confidences_country_and_box(recognizer):
    image = cv2.imread(
        str(need(DEV_DIR / "TrainingSet/localisationFrames/Category I and II/6.jpg"))
    )
    (read,) = [r for r in recognizer.recognise(image) if r.is_hit_eligible]
    assert (read.plate, read.display, read.country, read.sidecode) == (
        "VD020P",
        "VD-020-P",
        "NL",
        9,
    )
    assert len(read.char_confidences) == 6
    assert min(read.char_confidences) >= 0.85
    assert read.region == "Netherlands"
    assert read.bbox.overlap_of_smaller(type(read.bbox)(349, 216, 498, 256)) > 0.8


def test_real_foreign_plate_is_flagged_with_its_country(recognizer):
    image = cv2.imread(str(need(DEV_DIR / "TrainingSet/localisationFrames/Category IV/2.jpg")))
    reads = recognizer.recognise(image)
    italian = [r for r in reads if r.plate == "CM852DJ"]
    assert [(r.country, r.is_foreign, r.valid) for r in italian] == [("IT", True, True)]


def test_synthetic_clear_frames_have_no_wrong_valid_reads(recognizer):
    exact = total = wrong = 0
    for seed in range(15):
        frame = generate_frame(FrameSpec(conditions=("clear",)), 50_000 + seed)
        _, buf = cv2.imencode(".jpg", frame.image, [cv2.IMWRITE_JPEG_QUALITY, 90])
        image = cv2.imdecode(buf, cv2.IMREAD_COLOR)
        hits = {r.plate for r in recognizer.recognise(image) if r.is_hit_eligible}
        truth = {p.text for p in frame.truth.plates}
        readable = {p.text for p in frame.truth.plates if p.readable}
        exact += len(hits & readable)
        total += len(readable)
        wrong += len(hits - truth)
    assert wrong == 0
    assert exact / total >= 0.8


def test_vehicle_pass_is_voted_from_synthetic_frames(recognizer):
    frames = render_vehicle_pass(
        11, n_frames=8, plate=PlateRequest("GZ123T"), neighbours=0, conditions=("clear",)
    )
    tracker = PassTracker()
    t0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    passes = []
    for i, f in enumerate(frames):
        frame = Frame(f.image, t0 + timedelta(seconds=i / 10), "right", i, "synth")
        passes += tracker.update(frame, recognizer.recognise(frame))
    passes += tracker.flush()
    target = [p for p in passes if p.plate == "GZ123T"]
    assert len(target) == 1
    p = target[0]
    assert p.is_hit_eligible
    assert p.agreeing_frames >= 3
    assert p.overview_image is frames[p.overview_index].image
    assert [r.plate for r in passes if r.is_hit_eligible and r.plate != "GZ123T"] == []


def test_plate_reader_reads_a_batch_in_order(plate_reader):
    plates = []
    for text in ("GZ123T", "XK52GV", "5TXB21"):
        spec = FrameSpec(conditions=("clear",), plates=(PlateRequest(text),), n_plates=None)
        frame = generate_frame(spec, 7)
        x1, y1, x2, y2 = frame.truth.plates[0].bbox
        pad_x, pad_y = (x2 - x1) // 10, (y2 - y1) // 4
        plates.append(frame.image[y1 - pad_y : y2 + pad_y, x1 - pad_x : x2 + pad_x])
    texts = plate_reader.read(plates)
    assert [len(t.char_confidences) == len(t.text) for t in texts] == [True, True, True]
    assert (
        sum(t.text == want for t, want in zip(texts, ("GZ123T", "XK52GV", "5TXB21"), strict=True))
        >= 2
    )
    assert plate_reader.read([]) == []


def test_load_plate_reader_names_the_missing_folder(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(ModelNotFoundError, match=r"nope'?: no such folder"):
        load_plate_reader(str(missing))


def test_load_plate_reader_names_the_missing_config(tmp_path):
    shutil.copy(need(MODEL_DIR) / "cct_xs_v2_global.onnx", tmp_path / "model.onnx")
    with pytest.raises(
        ModelNotFoundError, match=r"exactly one \*plate_config\*\.yaml file, found 0"
    ):
        load_plate_reader(str(tmp_path))


def test_load_plate_reader_names_the_missing_onnx(tmp_path):
    (tmp_path / "x_plate_config.yaml").write_text("max_plate_slots: 10\n")
    with pytest.raises(ModelNotFoundError, match=r"exactly one \.onnx file, found 0"):
        load_plate_reader(str(tmp_path))


def test_load_plate_reader_refuses_an_unknown_hub_name():
    with pytest.raises(UnknownModelError, match=r"unknown OCR model 'no-such-model'.*cct-xs-v2"):
        load_plate_reader("no-such-model")


def test_recognise_on_an_empty_frame_reads_nothing(recognizer):
    assert recognizer.recognise(np.zeros((720, 1280, 3), dtype=np.uint8)) == []
