"""The DB text detector's post-processing on known probability maps, and its input feeding
(with a stand-in session; the real model is in tests/integration/lpr/test_lpr_text_finder.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import pytest

from scancar.lpr.errors import InvalidSettingError
from scancar.lpr.model import BBox, Candidate
from scancar.lpr.textdetect import (
    DbSettings,
    DbTextDetector,
    TextBox,
    TextDetectorSettings,
    db_boxes,
)
from scancar.lpr.textfinder import CombinedPlateFinder, join_lines


def _map_with(rect: tuple[tuple[float, float], tuple[float, float], float], p: float = 0.9):
    prob = np.zeros((200, 320), np.float32)
    pts = cv2.boxPoints(rect).astype(np.float32)
    cv2.fillConvexPoly(prob, np.round(pts).astype(np.int32), p)
    return prob


def test_db_boxes_unclips_an_upright_region_by_area_ratio_over_perimeter():
    prob = _map_with(((160.0, 100.0), (80.0, 16.0), 0.0))
    (box,) = db_boxes(prob, DbSettings(unclip_ratio=1.5))
    # the outline through the border pixels' centres is 80 x 16; grown by
    # 80 * 16 * 1.5 / (2 * (80 + 16)) = 10 per side
    assert box.width == pytest.approx(80 + 2 * 10, abs=0.5)
    assert box.height == pytest.approx(16 + 2 * 10, abs=0.5)
    assert (box.cx, box.cy) == (pytest.approx(160.0, abs=0.6), pytest.approx(100.0, abs=0.6))
    assert box.angle == pytest.approx(0.0, abs=0.5)
    assert box.score == pytest.approx(0.9, abs=0.01)


def test_db_boxes_keeps_the_angle_of_a_rotated_region_with_the_long_side_horizontal():
    prob = _map_with(((160.0, 100.0), (100.0, 20.0), 12.0))
    (box,) = db_boxes(prob)
    assert abs(box.angle) == pytest.approx(12.0, abs=1.5)
    assert (box.width, box.height) == (pytest.approx(125, abs=2), pytest.approx(45, abs=2))


def test_db_boxes_drops_faint_and_tiny_regions():
    prob = _map_with(((80.0, 50.0), (60.0, 14.0), 0.0), p=0.4)  # mean below box_threshold
    prob[150:152, 200:260] = 0.95  # 2 px high: under min_size
    cv2.rectangle(prob, (200, 100), (280, 120), 0.8, -1)
    boxes = db_boxes(prob, DbSettings(threshold=0.3, box_threshold=0.5, min_size=3))
    assert len(boxes) == 1
    assert boxes[0].cx == pytest.approx(240.0, abs=1.0)


def test_db_boxes_maps_to_image_pixels_with_scale_and_offset():
    prob = _map_with(((100.0, 50.0), (40.0, 10.0), 0.0))
    (plain,) = db_boxes(prob)
    (mapped,) = db_boxes(prob, scale=(2.0, 2.0), offset=(0.0, 300.0))
    assert mapped.cx == pytest.approx((plain.cx + 0.5) * 2 - 0.5, abs=0.6)
    assert mapped.cy == pytest.approx((plain.cy + 0.5) * 2 - 0.5 + 300, abs=0.6)
    assert mapped.width == pytest.approx(2 * plain.width, abs=1.0)


def test_db_boxes_refuses_a_map_that_is_not_two_dimensional():
    with pytest.raises(InvalidSettingError, match="probability map shape"):
        db_boxes(np.zeros((1, 1, 8, 8), np.float32))


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"threshold": 1.2}, "threshold"),
        ({"box_threshold": 0.0}, "box_threshold"),
        ({"unclip_ratio": 0.5}, "unclip_ratio"),
    ],
)
def test_db_settings_name_the_bad_value(kwargs, name):
    with pytest.raises(InvalidSettingError, match=name):
        DbSettings(**kwargs)


def test_detector_settings_refuse_an_empty_region_of_interest():
    with pytest.raises(InvalidSettingError, match="roi_top/roi_bottom"):
        TextDetectorSettings(roi_top=0.6, roi_bottom=0.5)


@dataclass
class _Input:
    name: str
    shape: list[Any]


class StandInSession:
    """Returns a map with one text line at a fixed place of each fed tensor; records feeds."""

    def __init__(self) -> None:
        self.fed: list[np.ndarray] = []

    def get_inputs(self) -> list[Any]:
        return [_Input("x", ["n", 3, "h", "w"])]

    def run(self, output_names, feed):
        x = feed["x"]
        self.fed.append(x)
        maps = np.zeros((x.shape[0], 1, x.shape[2], x.shape[3]), np.float32)
        maps[:, 0, 20:30, 40:120] = 0.9
        return [maps]


def test_detector_feeds_a_region_of_interest_in_multiples_of_32_and_maps_boxes_back():
    session = StandInSession()
    settings = TextDetectorSettings(max_side=640, roi_top=0.5)
    det = DbTextDetector(session, settings)
    image = np.full((720, 1280, 3), 128, np.uint8)
    (box,) = det.detect(image)
    fed = session.fed[0]
    assert fed.shape == (1, 3, 192, 640)  # 1280 x 360 halved, height rounded to 32
    assert fed.dtype == np.float32
    # grey 128 in B, G, R: (128 - 255 * mean) / (255 * std) per channel
    assert fed[0, 0, 0, 0] == pytest.approx((128 / 255 - 0.485) / 0.229, abs=1e-3)
    assert fed[0, 2, 0, 0] == pytest.approx((128 / 255 - 0.406) / 0.225, abs=1e-3)
    assert box.cx == pytest.approx(2 * 80, abs=2)  # map x 40..119 -> frame x 80..240
    assert 360 + 2 * 20 < box.cy < 360 + 2 * 30  # below the skipped top half


def test_detector_batches_images_of_the_same_size():
    session = StandInSession()
    det = DbTextDetector(session)
    images = [np.zeros((720, 1280, 3), np.uint8)] * 2 + [np.zeros((480, 640), np.uint8)]
    found = det.detect_many(images)
    assert [len(f) for f in found] == [1, 1, 1]
    assert sorted(x.shape[0] for x in session.fed) == [1, 2]


def _box(cx, cy, w, h, angle=0.0):
    return TextBox(cx, cy, w, h, angle, 0.9)


def test_join_lines_joins_two_rows_of_a_two_line_plate():
    top, bottom = _box(100, 50, 60, 22), _box(102, 76, 70, 22)
    lines = join_lines([top, bottom])
    joined = [line for line in lines if line.rows == 2]
    assert len(joined) == 1
    assert joined[0].box.height == pytest.approx(22 + 26, abs=2)
    assert joined[0].box.width == pytest.approx(70, abs=2)
    assert len(lines) == 3  # the rows are kept as single lines too


def test_join_lines_joins_the_pieces_of_one_line_but_not_distant_text():
    left, right, far = _box(50, 40, 60, 20), _box(125, 41, 70, 20), _box(400, 40, 60, 20)
    lines = join_lines([right, far, left])
    widths = sorted(round(line.box.width) for line in lines)
    assert widths == [60, 140]  # 20..80 and 90..160 joined


def test_join_lines_does_not_stack_rows_far_apart_or_side_by_side():
    lines = join_lines([_box(100, 50, 60, 20), _box(100, 120, 60, 20), _box(300, 75, 60, 20)])
    assert all(line.rows == 1 for line in lines)


class _Fixed:
    def __init__(self, cands: list[Candidate]) -> None:
        self.cands = cands

    def find(self, image):
        return list(self.cands)


def test_combined_finder_reads_one_box_per_plate_the_best_fitting_method_first():
    opencv = [
        Candidate(BBox(100, 100, 200, 130), 1.0, "edge"),
        Candidate(BBox(300, 100, 400, 130), 1.0, "colour"),
    ]
    text = [
        Candidate(BBox(98, 98, 204, 133), 1.5, "text"),  # beats the edge box of its plate
        Candidate(BBox(302, 99, 398, 131), 3.0, "text"),  # loses to the colour box
    ]
    found = CombinedPlateFinder((_Fixed(opencv), _Fixed(text))).find(np.zeros((8, 8), np.uint8))
    assert sorted((c.method, c.bbox.x1) for c in found) == [("colour", 300), ("text", 98)]


def test_combined_finder_keeps_every_finders_plates_up_to_the_sum_of_their_caps():
    opencv = [Candidate(BBox(100, 100, 200, 130), 1.0, "edge")]
    signs = [Candidate(BBox(10 + 40 * i, 10, 40 + 40 * i, 20), 2.0, "text") for i in range(6)]
    found = CombinedPlateFinder((_Fixed(opencv), _Fixed(signs)), max_candidates=7).find(
        np.zeros((8, 8, 3), np.uint8)
    )
    assert len(found) == 7
    assert found[-1].bbox == BBox(100, 100, 200, 130)


class _Counting(_Fixed):
    def __init__(self, cands: list[Candidate]) -> None:
        super().__init__(cands)
        self.calls = 0

    def find(self, image):
        self.calls += 1
        return super().find(image)


def test_combined_finder_runs_later_finders_on_every_nth_frame_of_each_camera():
    from tests.unit.lpr.fakes import frame

    opencv, text = _Counting([]), _Counting([Candidate(BBox(0, 0, 40, 10), 1.0, "text")])
    combined = CombinedPlateFinder((opencv, text), later_every=2)
    found = [len(combined.find_frame(frame(i, camera))) for i in range(4) for camera in ("a", "b")]
    assert found == [1, 1, 0, 0, 1, 1, 0, 0]  # frames 0 and 2 of both cameras
    assert (opencv.calls, text.calls) == (8, 4)
    assert len(combined.find(np.zeros((8, 8, 3), np.uint8))) == 1  # a still image: all finders
