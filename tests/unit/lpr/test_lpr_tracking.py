"""Following plates across frames and voting one read per vehicle pass."""

from __future__ import annotations

import pytest

from scancar.lpr.errors import InvalidSettingError
from scancar.lpr.tracking import PassTracker, TrackerSettings, text_similarity, vote
from tests.unit.lpr.fakes import frame, plate_read


def _drive(tracker, reads_per_frame, camera="cam0"):
    passes = []
    for i, reads in enumerate(reads_per_frame):
        passes += tracker.update(frame(i, camera), reads)
    return passes + tracker.flush()


def test_tracker_votes_one_pass_per_vehicle():
    seq = [[plate_read("GZ123T", (100 - 8 * i, 40, 160 - 8 * i, 52))] for i in range(4)] + [
        [plate_read("GZ128T", (68, 40, 128, 52), conf=0.9)]
    ]
    passes = _drive(PassTracker(), seq)
    assert len(passes) == 1
    p = passes[0]
    assert (p.plate, p.agreeing_frames, p.frames_seen, p.valid, p.sidecode) == (
        "GZ123T",
        4,
        5,
        True,
        9,
    )
    assert p.first_seen < p.last_seen


def test_tracker_does_not_let_reads_of_a_hidden_plate_vote():
    box = (100, 40, 160, 52)
    clean = [[plate_read("GZ123T", box)] for _ in range(2)]
    hidden = [[plate_read("GZ128T", box, obstructed=True)] for _ in range(3)]  # a post in front
    p = _drive(PassTracker(), clean + hidden)[0]
    assert (p.plate, p.agreeing_frames, p.frames_seen, p.is_hit_eligible) == ("GZ123T", 2, 5, True)


def test_tracker_pass_of_only_hidden_reads_is_never_a_hit():
    seq = [[plate_read("GZ128T", (100, 40, 160, 52), obstructed=True)] for _ in range(4)]
    p = _drive(PassTracker(), seq)[0]
    assert (p.plate, p.agreeing_frames, p.low_confidence, p.is_hit_eligible) == (
        "GZ128T",
        0,
        True,
        False,
    )


def test_tracker_overview_is_the_exact_frame_of_the_best_crop():
    seq = [[plate_read("GZ123T", (100 - 8 * i, 40, 160 - 8 * i, 52), conf=c)] for i, c in
           enumerate([0.9, 0.95, 0.999, 0.93])]  # fmt: skip
    p = _drive(PassTracker(), seq)[0]
    assert p.overview_index == 2
    assert int(p.overview_image[0, 0, 0]) == 2  # the fake frame's pixels carry its index
    assert p.bbox.as_list() == [84, 40, 144, 52]


def test_tracker_reports_the_other_plates_of_the_overview_frame():
    seq = [[plate_read("GZ123T", (10, 10, 70, 22)), plate_read("XK52GV", (200, 10, 260, 22))]
           for _ in range(3)]  # fmt: skip
    passes = sorted(_drive(PassTracker(), seq), key=lambda p: p.plate)
    assert [p.plate for p in passes] == ["GZ123T", "XK52GV"]
    assert [b.as_list() for b in passes[0].other_bboxes] == [[200, 10, 260, 22]]


@pytest.mark.parametrize(("two_line", "valid"), [(True, True), (False, False)])
def test_tracker_judges_the_vote_of_a_two_line_plate_as_two_line(two_line, valid):
    # German two-line WA XC / 2495: on one line it also fits the Polish pattern (ambiguous);
    # a Polish two-line plate has seven characters at most
    seq = [
        [plate_read("WAXC2495", colour="white_dark", region="Bulgaria", two_line=two_line)]
        for _ in range(3)
    ]
    (p,) = _drive(PassTracker(), seq)
    assert (p.plate, p.valid, p.country if valid else "") == (
        "WAXC2495",
        valid,
        "DE" if valid else "",
    )


def test_tracker_single_read_is_not_enough_by_default():
    p = _drive(PassTracker(), [[plate_read("GZ123T")]])[0]
    assert (p.agreeing_frames, p.low_confidence, p.is_hit_eligible) == (1, True, False)
    p1 = _drive(PassTracker(TrackerSettings(min_agreeing_frames=1)), [[plate_read("GZ123T")]])[0]
    assert p1.is_hit_eligible is True


def test_tracker_small_disagreement_is_outvoted():
    seq = [[plate_read("GZ123T")], [plate_read("GZ128T")], [plate_read("GZ123T")]]
    p = _drive(PassTracker(), seq)[0]
    assert (p.plate, p.agreeing_frames, p.low_confidence) == ("GZ123T", 2, False)
    assert p.char_confidences[4] == pytest.approx(0.99)


def test_tracker_character_needs_half_of_its_frames_sure():
    weak = (0.99, 0.99, 0.99, 0.99, 0.99, 0.7)
    seq = [
        [plate_read("GZ123T")],
        [plate_read("GZ123T", conf=weak)],
        [plate_read("GZ123T", conf=weak)],
    ]
    p = _drive(PassTracker(), seq)[0]
    assert p.char_confidences[5] == pytest.approx(0.7)  # only one of three frames was sure
    assert p.low_confidence is True
    seq += [[plate_read("GZ123T")], [plate_read("GZ123T")]]
    p = _drive(PassTracker(), seq)[0]
    assert p.char_confidences[5] == pytest.approx(0.99)  # three of five were sure
    assert p.is_hit_eligible is True


def test_tracker_split_vote_is_low_confidence():
    seq = [[plate_read(t)] for t in ("GZ123T", "GZ128T", "GZ123T", "GZ128T")]
    p = _drive(PassTracker(), seq)[0]
    assert p.char_confidences[4] == pytest.approx(0.99 * 0.5)
    assert p.low_confidence is True


def test_tracker_car_seen_again_after_a_gap_is_a_new_pass():
    tracker = PassTracker(TrackerSettings(max_gap_frames=3))
    passes = []
    for i in (0, 1, 2, 20, 21):
        passes += tracker.update(frame(i), [plate_read("GZ123T")])
    passes += tracker.flush()
    assert [(p.agreeing_frames, p.overview_index in (0, 1, 2)) for p in passes] == [
        (3, True),
        (2, False),
    ]


def test_tracker_keeps_cameras_apart():
    tracker = PassTracker()
    tracker.update(frame(0, "left"), [plate_read("GZ123T")])
    tracker.update(frame(0, "right"), [plate_read("GZ123T")])
    passes = tracker.flush()
    assert sorted(p.camera for p in passes) == ["left", "right"]


def test_tracker_does_not_join_different_plates_at_the_same_place():
    seq = [[plate_read("GZ123T")], [plate_read("XK52GV")]]
    assert sorted(p.plate for p in _drive(PassTracker(), seq)) == ["GZ123T", "XK52GV"]


def test_vote_prefers_the_best_supported_length():
    reads = [plate_read("GZ123T"), plate_read("GZ123T"), plate_read("Z123T")]
    voted = vote(reads)
    assert (voted.text, voted.length_confidence) == ("GZ123T", 1.0)  # 2 of 3: settled
    split = vote([plate_read("GZ123T"), plate_read("Z123T")])
    assert split.length_confidence == 0.5


@pytest.mark.parametrize(("a", "b", "sim"), [("GZ123T", "GZ123T", 1.0), ("GZ123T", "GZ128T", 5 / 6),
                                             ("GZ123T", "XKVBNM", 0.0), ("", "", 1.0)])  # fmt: skip
def test_text_similarity(a, b, sim):
    assert text_similarity(a, b) == pytest.approx(sim)


def test_tracker_settings_name_the_bad_value():
    with pytest.raises(InvalidSettingError, match=r"min_agreeing_frames 0; allowed: 1\.\.100"):
        TrackerSettings(min_agreeing_frames=0)
