"""Frames, conditions and ground truth of the synthetic data generator."""

from __future__ import annotations

import itertools
from functools import lru_cache

import cv2
import numpy as np
import pytest

from fixtures.synth import (
    CONDITIONS,
    FrameSpec,
    InvalidSpecError,
    PlateRequest,
    SyntheticFrame,
    UnknownChoiceError,
    generate_frame,
    render_street,
    render_vehicle_pass,
)
from permits.dutch import parse_dutch_plate


@lru_cache(maxsize=64)
def _frames(
    condition: str, n: int = 6, size: tuple[int, int] = (1280, 720)
) -> tuple[SyntheticFrame, ...]:
    """Frames of seeds 0..n-1, shared by the tests (read-only)."""
    spec = FrameSpec(conditions=(condition,), size=size)  # type: ignore[arg-type]
    return tuple(generate_frame(spec, seed) for seed in range(n))


def test_generate_frame_same_seed_gives_identical_frame() -> None:
    spec = FrameSpec(conditions=("multi",))
    a, b = generate_frame(spec, 42), generate_frame(spec, 42)
    assert np.array_equal(a.image, b.image)
    assert a.truth == b.truth
    assert a.truth.to_dict() == b.truth.to_dict()


def test_generate_frame_different_seed_gives_different_frame() -> None:
    spec = FrameSpec(conditions=("clear",))
    a, b = generate_frame(spec, 1), generate_frame(spec, 2)
    assert not np.array_equal(a.image, b.image)
    assert [p.text for p in a.truth.plates] != [p.text for p in b.truth.plates]


@pytest.mark.parametrize("condition", CONDITIONS)
def test_generate_frame_truth_boxes_inside_frame_and_around_quad(condition: str) -> None:
    for frame in _frames(condition, 4):
        h, w = frame.image.shape[:2]
        assert (w, h) == (frame.truth.width, frame.truth.height) == (1280, 720)
        assert frame.image.dtype == np.uint8
        assert frame.truth.plates
        for p in frame.truth.plates:
            x1, y1, x2, y2 = p.bbox
            assert 0 <= x1 < x2 <= w
            assert 0 <= y1 < y2 <= h
            quad = np.array(p.quad)
            assert quad[:, 0].min() == pytest.approx(x1, abs=1.0)
            assert quad[:, 0].max() == pytest.approx(x2, abs=1.0)
            assert quad[:, 1].min() == pytest.approx(y1, abs=1.0)
            assert quad[:, 1].max() == pytest.approx(y2, abs=1.0)
            assert p.readable == (p.unreadable_reason is None)
            assert p.text.isalnum()
            assert p.text.isupper() or p.text.isdigit()


@pytest.mark.parametrize("seed", range(5))
def test_generate_frame_bbox_matches_the_drawn_yellow_plate(seed: int) -> None:
    spec = FrameSpec(conditions=("clear",), n_plates=1, plates=(PlateRequest("GZ123T"),))
    frame = generate_frame(spec, seed)
    (plate,) = frame.truth.plates
    x1, y1, x2, y2 = plate.bbox
    pad = 20
    ox, oy = max(0, x1 - pad), max(0, y1 - pad)
    region = frame.image[oy : y2 + pad, ox : x2 + pad]
    hsv = cv2.cvtColor(region, cv2.COLOR_BGR2HSV)
    yellow = cv2.inRange(hsv, (18, 150, 150), (32, 255, 255))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(yellow)
    biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    bx, by, bw, bh = stats[biggest, :4]
    band = (x2 - x1) * 50 / 520  # blue EU band + rim on the left
    assert bx + ox == pytest.approx(x1 + band / 1.1, abs=band * 0.5 + 4)
    assert bx + bw + ox == pytest.approx(x2, abs=6)
    assert by + oy == pytest.approx(y1, abs=6)
    assert by + bh + oy == pytest.approx(y2, abs=6)
    assert n >= 2
    assert labels.max() >= 1


def test_generate_frame_uses_requested_plates() -> None:
    spec = FrameSpec(plates=(PlateRequest("GZ123T"), PlateRequest("B MW 1234", style="de")))
    truth = generate_frame(spec, 0).truth
    assert [(p.text, p.display, p.country, p.sidecode) for p in truth.plates] == [
        ("GZ123T", "GZ-123-T", "NL", 9),
        ("BMW1234", "B MW 1234", "DE", None),
    ]


def test_generate_frame_clear_plates_are_readable_dutch_plates() -> None:
    for frame in _frames("clear", 8):
        for p in frame.truth.plates:
            assert p.readable
            assert p.country == "NL"
            parsed = parse_dutch_plate(p.text)
            assert parsed is not None
            assert parsed.sidecode == p.sidecode
            assert 90 <= p.width_px <= 310


def test_generate_frame_multi_has_two_to_four_plates() -> None:
    counts = {len(f.truth.plates) for f in _frames("multi", 12)}
    assert counts <= {2, 3, 4}
    assert len(counts) >= 2


def test_generate_frame_far_plates_are_small() -> None:
    widths = [p.width_px for f in _frames("far") for p in f.truth.plates]
    assert max(widths) < 95
    assert min(widths) > 45


def test_generate_frame_perspective_has_strong_yaw() -> None:
    yaws = [abs(p.yaw_deg) for f in _frames("perspective") for p in f.truth.plates]
    assert min(yaws) >= 35


def test_generate_frame_foreign_has_non_dutch_plates() -> None:
    plates = [p for f in _frames("foreign") for p in f.truth.plates]
    foreign = [p for p in plates if p.country != "NL"]
    assert len(foreign) >= 6
    assert all(parse_dutch_plate(p.text) is None and p.sidecode is None for p in foreign)


def test_generate_frame_ir_is_grayscale() -> None:
    image = _frames("ir", 1)[0].image
    assert np.array_equal(image[..., 0], image[..., 1])
    assert np.array_equal(image[..., 1], image[..., 2])


def test_generate_frame_low_light_is_darker_than_clear() -> None:
    clear = np.mean([f.image.mean() for f in _frames("clear", 3)])
    dark = np.mean([f.image.mean() for f in _frames("low_light", 3)])
    assert dark < 0.6 * clear


def test_generate_frame_occlusion_marks_covered_plates_unreadable() -> None:
    plates = [p for f in _frames("occlusion", 20) for p in f.truth.plates]
    hidden = [p for p in plates if not p.readable]
    assert hidden
    assert all(p.unreadable_reason == "occluded" for p in hidden)
    assert all(p.occluded_fraction > 0.12 for p in hidden)
    assert any(p.readable for p in plates)


def test_generate_frame_distractors_are_reported() -> None:
    truths = [f.truth for f in _frames("distractors", 4)]
    assert all(len(t.distractors) >= 2 for t in truths)
    for t in truths:
        for d in t.distractors:
            x1, y1, x2, y2 = d.bbox
            assert 0 <= x1 < x2 <= t.width
            assert 0 <= y1 < y2 <= t.height


def test_generate_frame_special_series_present() -> None:
    styles = {p.style for f in _frames("special", 12) for p in f.truth.plates}
    assert len(styles - {"nl"}) >= 4


def test_generate_frame_small_size_option() -> None:
    for frame in _frames("multi", 3, size=(640, 480)):
        assert frame.image.shape == (480, 640, 3)
        assert all(p.bbox[2] <= 640 and p.bbox[3] <= 480 for p in frame.truth.plates)


def test_frame_spec_rejects_unknown_condition_naming_allowed_ones() -> None:
    with pytest.raises(UnknownChoiceError, match=r"unknown condition 'fog'; allowed: clear, blur"):
        FrameSpec(conditions=("fog",))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"size": (100, 100)}, "size"),
        ({"n_plates": 9}, "n_plates"),
        ({"conditions": ()}, "conditions"),
    ],
)
def test_frame_spec_rejects_out_of_range_values(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidSpecError, match=field):
        FrameSpec(**kwargs)  # type: ignore[arg-type]


def test_render_vehicle_pass_moves_the_plate_across_the_frame() -> None:
    frames = render_vehicle_pass(3, n_frames=8, plate=PlateRequest("GZ123T"), neighbours=1)
    assert [f.truth.frame_index for f in frames] == list(range(8))
    assert [f.truth.timestamp_s for f in frames] == pytest.approx([i / 10 for i in range(8)])
    target = [f.truth.plates[0] for f in frames]
    assert {p.text for p in target} == {"GZ123T"}
    centres = [(p.bbox[0] + p.bbox[2]) / 2 for p in target]
    assert all(a > b for a, b in itertools.pairwise(centres))
    assert centres[0] > 1000
    assert centres[-1] < 280
    assert all(p.readable for p in target)
    widths = [p.width_px for p in target]
    assert max(widths) / min(widths) < 1.5


def test_render_vehicle_pass_is_deterministic() -> None:
    a = render_vehicle_pass(11, n_frames=5)
    b = render_vehicle_pass(11, n_frames=5)
    assert all(np.array_equal(x.image, y.image) for x, y in zip(a, b, strict=True))
    assert [x.truth for x in a] == [y.truth for y in b]
    assert 5 <= len(render_vehicle_pass(12)) <= 15


def test_generate_frame_combines_conditions() -> None:
    spec = FrameSpec(conditions=("ir", "blur", "occlusion", "multi"))
    frames = [generate_frame(spec, seed) for seed in range(4)]
    assert all(2 <= len(f.truth.plates) <= 4 for f in frames)
    assert all(np.array_equal(f.image[..., 0], f.image[..., 2]) for f in frames)
    reasons = {p.unreadable_reason for f in frames for p in f.truth.plates}
    assert reasons & {"occluded", "blur"}
    assert frames[0].truth.conditions == ("ir", "blur", "occlusion", "multi")


@pytest.mark.parametrize("condition", ["glare", "occlusion", "foreign", "special", "blur", "far"])
def test_plate_conditions_name_what_applies_to_the_plate(condition: str) -> None:
    plates = [p for f in _frames(condition) for p in f.truth.plates]
    tagged = [p for p in plates if condition in p.conditions]
    assert tagged
    if condition in ("blur", "far"):  # frame-wide: every plate
        assert len(tagged) == len(plates)
    if condition == "occlusion":
        assert all("occlusion" in p.conditions for p in plates if p.unreadable_reason == "occluded")
    if condition == "foreign":
        assert {p.country != "NL" for p in tagged} == {True}
        assert all(p.country == "NL" for p in plates if p not in tagged)
    if condition == "special":
        assert all(p.style != "nl" for p in tagged)


def test_render_street_drives_past_every_car_in_order() -> None:
    texts = ("GZ123T", "52JJKZ", "TX45BB")
    frames = render_street(4, plates=tuple(PlateRequest(t) for t in texts), size=(640, 480))
    assert [f.truth.frame_index for f in frames] == list(range(len(frames)))
    assert frames[0].truth.plates == ()
    assert frames[-1].truth.plates == ()
    first_readable: dict[str, int | None] = {}
    for f in frames:
        for p in f.truth.plates:
            if p.readable:
                first_readable.setdefault(p.text, f.truth.frame_index)
            else:
                assert p.unreadable_reason == "cut_off"
    assert list(first_readable) == list(texts)
    order = [i for i in first_readable.values() if i is not None]
    assert order == sorted(order)


def test_render_street_slower_speed_gives_more_frames() -> None:
    slow = render_street(6, n_cars=2, speed_kmh=10, size=(640, 480))
    fast = render_street(6, n_cars=2, speed_kmh=30, size=(640, 480))
    assert len(slow) > 2 * len(fast)
    assert slow[1].truth.timestamp_s == pytest.approx(0.1)


def test_render_street_rejects_bad_speed() -> None:
    with pytest.raises(InvalidSpecError, match="speed_kmh=0"):
        render_street(1, speed_kmh=0)


def test_two_line_frames_carry_two_line_plates_of_several_countries() -> None:
    plates = [p for f in _frames("two_line", 6) for p in f.truth.plates]
    two_line = [p for p in plates if "two_line" in p.conditions]
    assert {p.style for p in two_line} <= {"nl_motorcycle", "nl_moped", "de_square", "gb_square"}
    assert len({p.country for p in two_line}) >= 2
    assert any(f.truth.plates[0].style != "nl" for f in _frames("two_line", 6))


def test_night_frames_are_dark_with_lit_plates() -> None:
    for night, clear in zip(_frames("night", 4), _frames("clear", 4), strict=True):
        grey = cv2.cvtColor(night.image, cv2.COLOR_BGR2GRAY)
        assert grey.mean() < 0.6 * cv2.cvtColor(clear.image, cv2.COLOR_BGR2GRAY).mean()
        x1, y1, x2, y2 = night.truth.plates[0].bbox
        assert grey[y1:y2, x1:x2].mean() > 1.5 * grey.mean()


def test_distractor_frames_include_badges_and_taxi_signs_none_a_dutch_plate() -> None:
    frames = [generate_frame(FrameSpec(conditions=("distractors",)), s) for s in range(12)]
    kinds = {d.kind for f in frames for d in f.truth.distractors}
    assert {"badge", "taxi_sign", "shop_sign"} <= kinds
    for f in frames:
        for d in f.truth.distractors:
            words = d.text.upper().replace("-", " ").replace(".", " ").split()
            assert all(parse_dutch_plate(w) is None for w in [*words, "".join(words)])
