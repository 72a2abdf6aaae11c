"""The optional ONNX detector's pre- and post-processing (with a stand-in session)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from scancar.lpr.detector import OnnxPlateDetector, letterbox
from scancar.lpr.errors import InvalidSettingError


@dataclass
class _Input:
    name: str
    shape: list[Any]


class StandInSession:
    """Returns fixed rows; records the tensor it was fed."""

    def __init__(self, rows: list[list[float]], shape: list[Any] | None = None) -> None:
        self.rows = np.asarray(rows, dtype=np.float32)
        self.shape = shape or [1, 3, 384, 384]
        self.fed: np.ndarray | None = None

    def get_inputs(self) -> list[Any]:
        return [_Input("images", self.shape)]

    def run(self, output_names, feed):
        self.fed = feed["images"]
        return [self.rows]


def test_letterbox_keeps_the_aspect_and_pads_grey():
    image = np.zeros((720, 1280, 3), dtype=np.uint8)
    tensor, box = letterbox(image, 384)
    assert tensor.shape == (1, 3, 384, 384)
    assert tensor.dtype == np.float32
    assert box.scale == pytest.approx(0.3)
    assert (box.pad_x, box.pad_y) == (0, 84)
    assert tensor[0, 0, 0, 0] == pytest.approx(114 / 255)  # padding row
    assert tensor[0, 0, 200, 10] == 0.0  # image


def test_detector_maps_boxes_back_to_frame_pixels_and_drops_weak_ones():
    rows = [[0, 30, 184, 90, 204, 0, 0.9], [0, 0, 100, 10, 110, 0, 0.1]]
    session = StandInSession(rows)
    cands = OnnxPlateDetector(session, min_score=0.4).find(np.zeros((720, 1280, 3), np.uint8))
    assert [c.bbox.as_list() for c in cands] == [[100, 333, 300, 400]]
    assert cands[0].method == "detector"
    assert session.fed is not None
    assert session.fed.shape == (1, 3, 384, 384)


def test_detector_refuses_a_dynamic_input_size():
    with pytest.raises(InvalidSettingError, match=r"detector input shape .*fixed size"):
        OnnxPlateDetector(StandInSession([], shape=[1, 3, "h", "w"]))
