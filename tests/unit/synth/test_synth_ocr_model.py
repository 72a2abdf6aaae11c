"""Sanity check with the real OCR model: a clear synthetic plate is read correctly.

Skipped when the model is absent (outside CI); fails in CI (``CI`` set) instead.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from fixtures.synth import FrameSpec, PlateRequest, generate_frame, render_plate

MODEL_DIR = (
    Path(__file__).resolve().parents[3] / ".." / "shared" / "models" / "cct-xs-v2-global-model"
)
ONNX = MODEL_DIR / "cct_xs_v2_global.onnx"
CONFIG = MODEL_DIR / "cct_xs_v2_global_plate_config.yaml"

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def recognizer():  # type: ignore[no-untyped-def]
    if not ONNX.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"OCR model missing at {ONNX}")
        pytest.skip(f"OCR model not found at {ONNX}")
    from fast_plate_ocr import LicensePlateRecognizer

    return LicensePlateRecognizer(onnx_model_path=ONNX, plate_config_path=CONFIG, device="cpu")


@pytest.mark.parametrize("text", ["GZ123T", "52JJKZ", "TX45BB", "1KBB99", "ZN706X"])
def test_ocr_reads_a_rendered_clear_plate(recognizer, text: str) -> None:  # type: ignore[no-untyped-def]
    plate = render_plate(text, "nl", rng=np.random.default_rng(0))
    small = cv2.resize(plate, (200, 42), interpolation=cv2.INTER_AREA)
    padded = cv2.copyMakeBorder(small, 6, 6, 8, 8, cv2.BORDER_CONSTANT, value=(90, 90, 90))
    rgb = cv2.cvtColor(padded, cv2.COLOR_BGR2RGB)
    assert recognizer.run(rgb)[0].plate == text


def test_ocr_reads_clear_frame_crops(recognizer) -> None:  # type: ignore[no-untyped-def]
    texts = ["GZ123T", "52JJKZ", "TX45BB"]
    spec = FrameSpec(plates=tuple(PlateRequest(t) for t in texts))
    frame = generate_frame(spec, 1)
    rgb = cv2.cvtColor(frame.image, cv2.COLOR_BGR2RGB)
    crops = []
    for p in frame.truth.plates:
        x1, y1, x2, y2 = p.bbox
        mx, my = (x2 - x1) // 16 + 2, (y2 - y1) // 6 + 2
        crops.append(rgb[max(0, y1 - my) : y2 + my, max(0, x1 - mx) : x2 + mx])
    assert [r.plate for r in recognizer.run(crops)] == texts
