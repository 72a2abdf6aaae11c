from __future__ import annotations

from decimal import Decimal

import pytest
from shapely.geometry import LineString, Polygon, box

from zones.errors import InvalidZoneError
from zones.model import (
    DayType,
    FineTrack,
    TimeWindow,
    Zone,
    ZoneKind,
    default_fine_track,
    find_overlapping_windows,
    format_clock,
    parse_clock,
)

SQUARE = box(4.35, 52.01, 4.36, 52.02)
D = DayType


def window(days: set[DayType], start: str, end: str, **kw: object) -> TimeWindow:
    return TimeWindow(frozenset(days), parse_clock(start), parse_clock(end, is_end=True), **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "is_end", "minutes"),
    [
        ("00:00", False, 0),
        ("09:00", False, 540),
        ("23:59", False, 1439),
        ("24:00", True, 1440),
        ("13:30", True, 810),
    ],
)
def test_parse_clock_accepts_hh_mm(text: str, is_end: bool, minutes: int) -> None:
    assert parse_clock(text, is_end=is_end) == minutes


@pytest.mark.parametrize(
    ("text", "is_end", "why"),
    [
        ("9:00", False, "HH:MM"),
        ("24:00", False, "only as a window end"),
        ("24:01", True, "hours must be"),
        ("12:60", False, "minutes 00-59"),
        ("noon", False, "HH:MM"),
    ],
)
def test_parse_clock_rejects_bad_times(text: str, is_end: bool, why: str) -> None:
    with pytest.raises(InvalidZoneError, match=why):
        parse_clock(text, is_end=is_end)


def test_format_clock_round_trips() -> None:
    assert [format_clock(m) for m in (0, 545, 1440)] == ["00:00", "09:05", "24:00"]


@pytest.mark.parametrize(
    ("start", "end", "crosses", "duration"),
    [
        ("09:00", "18:00", False, 540),
        ("18:00", "24:00", False, 360),
        ("22:00", "02:00", True, 240),
        ("00:00", "24:00", False, 1440),
        ("23:30", "00:30", True, 60),
    ],
)
def test_time_window_duration_and_midnight(
    start: str, end: str, crosses: bool, duration: int
) -> None:
    w = window({D.MON}, start, end)
    assert w.crosses_midnight is crosses
    assert w.duration_minutes == duration
    assert str(w) == f"mon {start}-{end}"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"days": frozenset()}, "days"),
        ({"start_minute": 600, "end_minute": 600}, "end"),
        ({"tariff_cents_per_hour": Decimal(-1)}, "tariff_cents_per_hour"),
        ({"step_minutes": 0}, "step_minutes"),
        ({"max_stay_minutes": 0}, "max_stay_minutes"),
        ({"start_minute": 1440}, "start"),
        ({"end_minute": 0}, "end"),
    ],
)
def test_time_window_rejects_bad_values(kwargs: dict[str, object], field: str) -> None:
    base: dict[str, object] = {"days": frozenset({D.MON}), "start_minute": 540, "end_minute": 1080}
    with pytest.raises(InvalidZoneError) as info:
        TimeWindow(**(base | kwargs))  # type: ignore[arg-type]
    assert info.value.field == field


@pytest.mark.parametrize(
    ("windows", "overlapping"),
    [
        ([({D.MON}, "09:00", "18:00"), ({D.MON}, "18:00", "24:00")], False),
        ([({D.MON}, "09:00", "18:00"), ({D.MON}, "17:00", "20:00")], True),
        ([({D.FRI}, "20:00", "02:00"), ({D.SAT}, "01:00", "05:00")], True),
        ([({D.FRI}, "20:00", "02:00"), ({D.SAT}, "02:00", "05:00")], False),
        ([({D.SUN}, "22:00", "03:00"), ({D.MON}, "02:00", "04:00")], True),  # wraps the week
        ([({D.HOLIDAY}, "09:00", "12:00"), ({D.MON}, "10:00", "11:00")], False),
        ([({D.HOLIDAY}, "09:00", "12:00"), ({D.HOLIDAY}, "11:00", "13:00")], True),
    ],
)
def test_find_overlapping_windows(
    windows: list[tuple[set[DayType], str, str]], overlapping: bool
) -> None:
    schedule = tuple(window(days, s, e) for days, s, e in windows)
    assert (find_overlapping_windows(schedule) is not None) is overlapping


def make_zone(**kw: object) -> Zone:
    base: dict[str, object] = {
        "id": "z",
        "name": "Z",
        "kind": ZoneKind.PAID,
        "area_code": "9999_Z",
        "geometry": SQUARE,
    }
    return Zone(**(base | kw))  # type: ignore[arg-type]


def test_zone_defaults() -> None:
    zone = make_zone()
    assert zone.grace_minutes == 10
    assert zone.priority == 0
    assert zone.fine_track is FineTrack.TAX
    assert zone.remote_enforcement_allowed is False


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"id": ""}, "id"),
        ({"kind": "pay"}, "kind"),
        ({"area_code": ""}, "area_code"),
        ({"geometry": LineString([(4.35, 52.01), (4.36, 52.02)])}, "geometry"),
        (
            {"geometry": Polygon([(4.35, 52.01), (4.36, 52.02), (4.36, 52.01), (4.35, 52.02)])},
            "geometry",
        ),
        ({"grace_minutes": -1}, "grace_minutes"),
        ({"max_stay_minutes": 0}, "max_stay_minutes"),
        ({"kind": ZoneKind.BLUE}, "max_stay_minutes"),
        (
            {
                "schedule": (
                    window({D.MON}, "09:00", "18:00"),
                    window({D.MON, D.TUE}, "12:00", "13:00"),
                )
            },
            "schedule",
        ),
    ],
)
def test_zone_rejects_bad_values(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidZoneError) as info:
        make_zone(**kwargs)
    assert info.value.field == field


def test_blue_zone_accepts_max_stay_on_every_window() -> None:
    zone = make_zone(
        kind=ZoneKind.BLUE, schedule=(window({D.MON}, "09:00", "18:00", max_stay_minutes=120),)
    )
    assert zone.schedule[0].max_stay_minutes == 120


@pytest.mark.parametrize(
    ("kind", "track"),
    [
        (ZoneKind.PAID, FineTrack.TAX),
        (ZoneKind.PERMIT, FineTrack.TAX),
        (ZoneKind.BLUE, FineTrack.WAHV),
        (ZoneKind.LOADING, FineTrack.WAHV),
        (ZoneKind.NO_PARKING, FineTrack.WAHV),
    ],
)
def test_default_fine_track_per_kind(kind: ZoneKind, track: FineTrack) -> None:
    assert default_fine_track(kind) is track
