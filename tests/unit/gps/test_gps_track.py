"""Unit tests of the track: interpolation, accuracy and the uncertain flag."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from scancar.gps.errors import GpsConfigError
from scancar.gps.filters import MotionFilter, MotionLimits
from scancar.gps.geometry import distance_m, from_local_m
from scancar.gps.model import DropReason, Fix, FixQuality, ParseStats, UncertainReason
from scancar.gps.track import Track, TrackConfig

T0 = datetime(2026, 3, 2, 10, 0, 0, tzinfo=UTC)
ORIGIN = (4.3571, 52.0116)


def fix_at(
    seconds: float,
    north_m: float = 0.0,
    east_m: float = 0.0,
    *,
    speed: float | None = 10.0,
    course: float | None = 0.0,
    hdop: float | None = 1.0,
    error_m: float | None = None,
) -> Fix:
    lon, lat = from_local_m(east_m, north_m, *ORIGIN)
    return Fix(
        time=T0 + timedelta(seconds=seconds),
        lon=lon,
        lat=lat,
        speed_mps=speed,
        course_deg=course,
        hdop=hdop,
        quality=FixQuality.GPS,
        satellites=8,
        source_line=1,
        error_m=error_m,
    )


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_track_without_fixes_has_no_position() -> None:
    assert Track().position_at(T0) is None


def test_track_interpolates_between_fixes() -> None:
    track = Track(fixes=[fix_at(0, 0.0), fix_at(1, 10.0), fix_at(2, 20.0)])
    pos = track.position_at(at(1.25))
    assert pos is not None
    want = from_local_m(0.0, 12.5, *ORIGIN)
    assert distance_m(pos.lon, pos.lat, *want) == pytest.approx(0.0, abs=1e-3)
    assert pos.heading_deg == pytest.approx(0.0)
    assert pos.speed_mps == pytest.approx(10.0)
    assert pos.accuracy_m == pytest.approx(4.0)  # hdop 1 x UERE 4 m, straight line
    assert pos.uncertain is False
    assert pos.reason is None


def test_track_returns_the_fix_at_its_exact_time() -> None:
    fixes = [fix_at(0, 0.0), fix_at(1, 10.0)]
    pos = Track(fixes=fixes).position_at(at(1))
    assert pos is not None
    assert (pos.lon, pos.lat) == (fixes[1].lon, fixes[1].lat)


def test_track_interpolates_heading_across_north() -> None:
    track = Track(fixes=[fix_at(0, course=350.0), fix_at(1, 10.0, course=10.0)])
    pos = track.position_at(at(0.5))
    assert pos is not None
    assert pos.heading_deg == pytest.approx(0.0, abs=1e-9) or pos.heading_deg == pytest.approx(
        360.0
    )


def test_track_uses_bearing_when_course_is_missing_or_slow() -> None:
    track = Track(
        fixes=[fix_at(0, course=None, speed=None), fix_at(1, 0.0, 10.0, course=None, speed=None)]
    )
    pos = track.position_at(at(1))
    assert pos is not None
    assert pos.heading_deg == pytest.approx(90.0, abs=1e-6)


def test_track_keeps_last_heading_when_standing_still() -> None:
    fixes = [fix_at(0, course=90.0), fix_at(1, 10.0, course=90.0, speed=10.0)]
    fixes.append(fix_at(2, 10.0, course=0.0, speed=0.0))  # parked: receiver course is noise
    pos = Track(fixes=fixes).position_at(at(2))
    assert pos is not None
    assert pos.heading_deg == pytest.approx(90.0)


@pytest.mark.parametrize(
    ("query_s", "reason"),
    [
        (-1.0, UncertainReason.NO_FIX_YET),
        (2.5, None),  # 0.5 s past the newest fix: short dead reckoning
        (4.0, UncertainReason.STALE),
        (30.0, UncertainReason.STALE),
    ],
)
def test_track_flags_positions_outside_the_fixes(query_s: float, reason: UncertainReason) -> None:
    pos = Track(fixes=[fix_at(0, 0.0), fix_at(1, 10.0), fix_at(2, 20.0)]).position_at(at(query_s))
    assert pos is not None
    assert pos.reason is reason
    assert pos.uncertain is (reason is not None)


def test_track_extrapolates_a_little_along_the_heading() -> None:
    pos = Track(fixes=[fix_at(0, 0.0), fix_at(1, 10.0)]).position_at(at(1.5))
    assert pos is not None
    want = from_local_m(0.0, 15.0, *ORIGIN)
    assert distance_m(pos.lon, pos.lat, *want) == pytest.approx(0.0, abs=1e-3)
    assert pos.accuracy_m == pytest.approx(4.0 + 0.5 * 10.0 * 0.5)


def test_track_flags_a_gap_between_fixes() -> None:
    pos = Track(fixes=[fix_at(0, 0.0), fix_at(10, 100.0)]).position_at(at(5))
    assert pos is not None
    assert pos.reason is UncertainReason.GAP


@pytest.mark.parametrize(
    ("hdop", "error_m", "want_accuracy", "uncertain"),
    [
        (1.0, None, 4.0, False),
        (3.0, None, 12.0, False),
        (4.5, None, 18.0, True),
        (None, None, 10.0, False),
        (1.0, 25.0, 25.0, True),
    ],
)
def test_track_accuracy_from_hdop_or_error(
    hdop: float | None, error_m: float | None, want_accuracy: float, uncertain: bool
) -> None:
    fixes = [fix_at(0, hdop=hdop, error_m=error_m), fix_at(1, 10.0, hdop=hdop, error_m=error_m)]
    pos = Track(fixes=fixes).position_at(at(0.5))
    assert pos is not None
    assert pos.accuracy_m == pytest.approx(want_accuracy)
    assert pos.uncertain is uncertain
    assert pos.reason is (UncertainReason.POOR_ACCURACY if uncertain else None)


def test_track_accuracy_grows_when_the_car_turns_between_fixes() -> None:
    fixes = [fix_at(0, course=0.0), fix_at(2, 10.0, 10.0, course=90.0)]
    pos = Track(fixes=fixes).position_at(at(1))
    assert pos is not None
    # |v1 - v2| = 10 * sqrt(2) m/s over 2 s -> 0.25 * 14.14 * 2 = 7.07 m extra
    assert pos.accuracy_m == pytest.approx(4.0 + 7.0711, abs=1e-3)


def test_track_restarts_when_time_jumps_back() -> None:
    track = Track(fixes=[fix_at(100, 0.0), fix_at(101, 10.0)])
    track.add(fix_at(0, 500.0))
    assert len(track) == 1
    assert track.resets == 1
    pos = track.position_at(at(100.5))
    assert pos is not None
    assert pos.reason is UncertainReason.STALE


def test_track_forgets_fixes_older_than_keep_s() -> None:
    track = Track(TrackConfig(keep_s=10.0), fixes=[fix_at(s, s * 10.0) for s in range(30)])
    assert len(track) == 11
    assert track.latest is not None
    assert track.latest.time == at(29)


def test_track_requires_aware_time() -> None:
    with pytest.raises(GpsConfigError, match="timezone-aware"):
        Track(fixes=[fix_at(0)]).position_at(datetime(2026, 3, 2, 10, 0, 0))  # noqa: DTZ001


@pytest.mark.parametrize("name", ["max_gap_s", "uere_m", "max_accuracy_m"])
def test_track_config_refuses_non_positive(name: str) -> None:
    with pytest.raises(GpsConfigError, match=name):
        TrackConfig(**{name: 0.0})  # type: ignore[arg-type]


def test_motion_filter_drops_duplicate_time() -> None:
    stats = ParseStats()
    motion = MotionFilter(MotionLimits(), stats)
    assert len(motion.check(fix_at(0))) == 1
    assert motion.check(fix_at(0, 1.0)) == []
    assert stats.dropped[DropReason.DUPLICATE_TIME] == 1


@pytest.mark.parametrize(
    ("times", "accepted", "implausible"),
    [
        # a corrupted time 60 s ahead, the stream goes on: dropped
        ([0, 1, 61, 2, 3], [0, 1, 2, 3], 1),
        # a corrupted time 50 s back: dropped, no new segment
        ([100, 101, 51, 102, 103], [100, 101, 102, 103], 1),
        # a real gap (tunnel): confirmed by the next fix
        ([0, 1, 40, 41, 42], [0, 1, 40, 41, 42], 0),
        # sparse fixes: every step is a "jump" but each is confirmed by the next one
        ([0, 20, 40, 60], [0, 20, 40, 60], 0),
        # a jump at the very end is accepted at flush
        ([0, 1, 2, 90], [0, 1, 2, 90], 0),
    ],
)
def test_motion_filter_holds_time_discontinuities_until_confirmed(
    times: list[int], accepted: list[int], implausible: int
) -> None:
    stats = ParseStats()
    motion = MotionFilter(MotionLimits(), stats)
    out = [f for s in times for f in motion.check(fix_at(s, s * 1.0))] + motion.flush()
    assert [round((f.time - T0).total_seconds()) for f in out] == accepted
    assert stats.dropped[DropReason.IMPLAUSIBLE_TIME] == implausible
    assert stats.time_jumps_backwards == 0
