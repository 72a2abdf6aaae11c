from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from shapely.geometry import box

from fixtures.zones.make_town import town_zones
from zones.errors import InvalidZoneError, NaiveDatetimeError
from zones.model import DayType, HolidayPolicy, TimeWindow, Zone, ZoneKind
from zones.rules import (
    dutch_public_holidays,
    easter_sunday,
    is_holiday,
    parking_fee_cents,
    regulation_at,
)

AMS = ZoneInfo("Europe/Amsterdam")
TOWN = {z.id: z for z in town_zones()}
CENTRUM = TOWN["centrum"]
D = DayType


def local(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=AMS)


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


def zone_with(*windows: TimeWindow, **kw: object) -> Zone:
    base: dict[str, object] = {
        "id": "z",
        "name": "Z",
        "kind": ZoneKind.PAID,
        "area_code": "9999_Z",
        "geometry": box(4.35, 52.01, 4.36, 52.02),
        "schedule": windows,
    }
    return Zone(**(base | kw))  # type: ignore[arg-type]


def w(days: set[DayType], start: int, end: int, cents: int = 0, step: int = 1) -> TimeWindow:
    return TimeWindow(frozenset(days), start * 60, end * 60, Decimal(cents), step)


# --------------------------------------------------------------------------- holidays


@pytest.mark.parametrize(
    ("year", "easter"),
    [
        (2024, date(2024, 3, 31)),
        (2025, date(2025, 4, 20)),
        (2026, date(2026, 4, 5)),
        (2027, date(2027, 3, 28)),
        (2038, date(2038, 4, 25)),
        (2000, date(2000, 4, 23)),
    ],
)
def test_easter_sunday_known_years(year: int, easter: date) -> None:
    assert easter_sunday(year) == easter


def test_dutch_public_holidays_2026() -> None:
    assert sorted(dutch_public_holidays(2026)) == [
        date(2026, 1, 1),
        date(2026, 4, 5),
        date(2026, 4, 6),
        date(2026, 4, 27),
        date(2026, 5, 5),
        date(2026, 5, 14),
        date(2026, 5, 24),
        date(2026, 5, 25),
        date(2026, 12, 25),
        date(2026, 12, 26),
    ]


@pytest.mark.parametrize(
    ("year", "kings_day"),
    [(2025, date(2025, 4, 26)), (2026, date(2026, 4, 27)), (2031, date(2031, 4, 26))],
)
def test_kings_day_moves_to_saturday_when_27_april_is_sunday(year: int, kings_day: date) -> None:
    holidays = dutch_public_holidays(year)
    assert kings_day in holidays
    assert date(year, 4, 27 if kings_day.day == 26 else 26) not in holidays


def test_liberation_day_can_be_left_out() -> None:
    assert date(2026, 5, 5) in dutch_public_holidays(2026)
    assert date(2026, 5, 5) not in dutch_public_holidays(2026, include_liberation_day=False)


def test_zone_holiday_dates_replace_the_dutch_calendar() -> None:
    zone = zone_with(holiday_dates=frozenset({date(2026, 11, 24)}))
    assert is_holiday(zone, date(2026, 11, 24))
    assert not is_holiday(zone, date(2026, 12, 25))
    assert is_holiday(zone_with(), date(2026, 12, 25))


# --------------------------------------------------------------------------- weekdays
# Week of Monday 23 November 2026; centrum: Mon-Sat 09-18 450c, Mon-Thu 18-24 300c,
# Fri-Sat 18-02 300c (crosses midnight), Sun 13-18 450c.


@pytest.mark.parametrize(
    ("moment", "regulated", "cents"),
    [
        (local(2026, 11, 23, 8, 59), False, None),  # Mon before 09:00
        (local(2026, 11, 23, 9, 0), True, 450),
        (local(2026, 11, 23, 17, 59), True, 450),
        (local(2026, 11, 23, 18, 0), True, 300),  # evening tariff
        (local(2026, 11, 23, 23, 59), True, 300),
        (local(2026, 11, 24, 0, 30), False, None),  # Mon evening ended at 24:00
        (local(2026, 11, 24, 12, 0), True, 450),  # Tue
        (local(2026, 11, 25, 12, 0), True, 450),  # Wed
        (local(2026, 11, 26, 20, 0), True, 300),  # Thu evening
        (local(2026, 11, 27, 23, 0), True, 300),  # Fri evening
        (local(2026, 11, 28, 0, 30), True, 300),  # Sat night: Fri 18-02 window
        (local(2026, 11, 28, 2, 0), False, None),  # Fri window ended
        (local(2026, 11, 28, 10, 0), True, 450),  # Sat
        (local(2026, 11, 29, 1, 59), True, 300),  # Sun night: Sat 18-02 window
        (local(2026, 11, 29, 2, 0), False, None),
        (local(2026, 11, 29, 12, 59), False, None),  # Sun morning free
        (local(2026, 11, 29, 13, 0), True, 450),  # Sun afternoon
        (local(2026, 11, 29, 18, 0), False, None),
    ],
)
def test_regulation_at_each_weekday(moment: datetime, regulated: bool, cents: int | None) -> None:
    reg = regulation_at(CENTRUM, moment)
    assert reg.regulated is regulated
    assert reg.tariff_cents_per_hour == (None if cents is None else Decimal(cents))
    assert (reg.window is not None) is regulated


def test_regulation_reports_window_bounds_in_utc() -> None:
    reg = regulation_at(CENTRUM, local(2026, 11, 27, 23, 0))
    assert reg.window_start == utc(2026, 11, 27, 17, 0)
    assert reg.window_end == utc(2026, 11, 28, 1, 0)
    assert reg.step_minutes == 1
    assert reg.max_stay_minutes is None


def test_regulation_max_stay_window_overrides_zone() -> None:
    blue = TOWN["blauw"]
    assert regulation_at(blue, local(2026, 11, 23, 10)).max_stay_minutes == 120
    zone = zone_with(
        TimeWindow(frozenset({D.MON}), 540, 1080, max_stay_minutes=30), max_stay_minutes=120
    )
    assert regulation_at(zone, local(2026, 11, 23, 10)).max_stay_minutes == 30


def test_regulation_at_rejects_naive_datetime() -> None:
    with pytest.raises(NaiveDatetimeError, match="naive datetime"):
        regulation_at(CENTRUM, datetime(2026, 11, 23, 10))  # noqa: DTZ001


def test_regulation_same_for_any_timezone_of_the_same_instant() -> None:
    instant = local(2026, 11, 23, 17, 30)
    tokyo = instant.astimezone(ZoneInfo("Asia/Tokyo"))
    assert regulation_at(CENTRUM, tokyo) == regulation_at(CENTRUM, instant.astimezone(UTC))


# --------------------------------------------------------------------------- holidays


@pytest.mark.parametrize(
    ("zone_id", "moment", "regulated"),
    [
        ("centrum", local(2026, 12, 25, 12), False),  # Christmas, holidays free
        ("centrum", local(2026, 12, 26, 0, 30), False),  # Fri-night window of a holiday
        ("centrum", local(2026, 12, 27, 1, 0), False),  # Sat 26th (holiday) window
        ("centrum", local(2026, 12, 24, 12), True),  # Christmas Eve is a normal Thursday
        ("centrum", local(2026, 4, 27, 12), False),  # Koningsdag
        ("centrum", local(2026, 5, 5, 12), False),  # Bevrijdingsdag
        ("centrum", local(2026, 5, 14, 12), False),  # Hemelvaart
        ("centrum", local(2026, 4, 6, 12), False),  # Tweede Paasdag
        ("noord", local(2026, 12, 25, 12), True),  # holidays regulated as the weekday
        ("noord", local(2026, 12, 25, 8), False),
        ("verbod-markt", local(2026, 12, 25, 3), True),  # no-parking always applies
    ],
)
def test_regulation_on_public_holidays(zone_id: str, moment: datetime, regulated: bool) -> None:
    reg = regulation_at(TOWN[zone_id], moment)
    assert reg.regulated is regulated


def test_holiday_schedule_uses_only_holiday_windows() -> None:
    zone = zone_with(
        w({D.MON, D.TUE, D.WED, D.THU, D.FRI, D.SAT}, 9, 18, 300),
        w({D.HOLIDAY}, 12, 16, 100),
        holidays=HolidayPolicy.SCHEDULE,
    )
    christmas = 25
    assert regulation_at(zone, local(2026, 12, christmas, 10)).regulated is False
    reg = regulation_at(zone, local(2026, 12, christmas, 13))
    assert reg.regulated is True
    assert reg.is_holiday is True
    assert reg.tariff_cents_per_hour == 100
    assert regulation_at(zone, local(2026, 12, 24, 13)).tariff_cents_per_hour == 300


def test_holiday_list_from_the_zone_file() -> None:
    zone = zone_with(
        w({D.TUE}, 9, 18, 300),
        holidays=HolidayPolicy.FREE,
        holiday_dates=frozenset({date(2026, 11, 24)}),
    )
    assert regulation_at(zone, local(2026, 11, 24, 12)).regulated is False
    assert regulation_at(zone, local(2026, 12, 1, 12)).regulated is True


# --------------------------------------------------------------------------- DST
# 2026: summer time starts Sun 29 March 02:00 -> 03:00, ends Sun 25 October 03:00 -> 02:00.

NIGHT = zone_with(w(set(DayType) - {D.HOLIDAY}, 0, 4, 60))


@pytest.mark.parametrize(
    ("moment", "regulated"),
    [
        (utc(2026, 10, 24, 21, 59), False),  # 23:59 CEST Saturday
        (utc(2026, 10, 24, 22, 0), True),  # 00:00 CEST
        (utc(2026, 10, 25, 0, 30), True),  # 02:30 CEST (first)
        (utc(2026, 10, 25, 1, 30), True),  # 02:30 CET (second)
        (utc(2026, 10, 25, 2, 59), True),  # 03:59 CET
        (utc(2026, 10, 25, 3, 0), False),  # 04:00 CET
        (utc(2026, 3, 28, 23, 0), True),  # 00:00 CET
        (utc(2026, 3, 29, 0, 59), True),  # 01:59 CET
        (utc(2026, 3, 29, 1, 0), True),  # 03:00 CEST
        (utc(2026, 3, 29, 1, 59), True),  # 03:59 CEST
        (utc(2026, 3, 29, 2, 0), False),  # 04:00 CEST
    ],
)
def test_regulation_across_dst_transitions(moment: datetime, regulated: bool) -> None:
    assert regulation_at(NIGHT, moment).regulated is regulated


@pytest.mark.parametrize(
    ("day", "hours"),
    [(date(2026, 10, 25), 5), (date(2026, 3, 29), 3), (date(2026, 6, 7), 4)],
)
def test_night_window_lasts_true_elapsed_time(day: date, hours: int) -> None:
    start = local(day.year, day.month, day.day)
    reg = regulation_at(NIGHT, start + timedelta(minutes=1))
    assert reg.window_start is not None
    assert reg.window_end is not None
    assert reg.window_end - reg.window_start == timedelta(hours=hours)
    fee = parking_fee_cents(
        NIGHT, start.astimezone(UTC), start.astimezone(UTC) + timedelta(hours=6)
    )
    assert fee == 60 * hours


def test_window_ending_in_autumn_night_uses_summer_time_end() -> None:
    # Sat 24 Oct 2026 18:00-02:00: ends Sunday 02:00 CEST (00:00 UTC), before the clock change
    reg = regulation_at(CENTRUM, utc(2026, 10, 24, 23, 59))
    assert reg.regulated is True
    assert reg.window_end == utc(2026, 10, 25, 0, 0)
    assert regulation_at(CENTRUM, utc(2026, 10, 25, 0, 30)).regulated is False


def test_window_ending_in_spring_gap_ends_at_the_jump() -> None:
    # Sat 28 Mar 2026 18:00-02:00: 02:00 does not exist on the 29th; it ends at 03:00 CEST
    reg = regulation_at(CENTRUM, utc(2026, 3, 29, 0, 59))
    assert reg.regulated is True
    assert reg.window_end == utc(2026, 3, 29, 1, 0)
    assert regulation_at(CENTRUM, utc(2026, 3, 29, 1, 0)).regulated is False


# --------------------------------------------------------------------------- fees


@pytest.mark.parametrize(
    ("start", "end", "cents"),
    [
        (local(2026, 11, 23, 10), local(2026, 11, 23, 11), 450),
        (local(2026, 11, 23, 10), local(2026, 11, 23, 10, 1), 8),  # 7.5 rounds half up
        (local(2026, 11, 23, 17, 30), local(2026, 11, 23, 18, 30), 225 + 150),
        (local(2026, 11, 23, 7), local(2026, 11, 23, 9), 0),  # before regulation
        (local(2026, 11, 29, 12), local(2026, 11, 29, 14), 450),  # Sunday from 13:00
        (local(2026, 11, 27, 23), local(2026, 11, 28, 3), 900),  # Fri night until 02:00
        (local(2026, 12, 25, 10), local(2026, 12, 25, 16), 0),  # Christmas
        (local(2026, 11, 23, 10), local(2026, 11, 23, 10), 0),
    ],
)
def test_parking_fee_cents_table(start: datetime, end: datetime, cents: int) -> None:
    assert parking_fee_cents(CENTRUM, start, end) == cents


@pytest.mark.parametrize(("minutes", "cents"), [(1, 50), (15, 50), (16, 100), (60, 200)])
def test_parking_fee_charges_started_steps(minutes: int, cents: int) -> None:
    zone = zone_with(w({D.MON}, 9, 18, 200, step=15))
    start = local(2026, 11, 23, 10)
    assert parking_fee_cents(zone, start, start + timedelta(minutes=minutes)) == cents


def test_parking_fee_rejects_reversed_and_naive_periods() -> None:
    with pytest.raises(InvalidZoneError, match="must not be before start"):
        parking_fee_cents(CENTRUM, local(2026, 11, 23, 11), local(2026, 11, 23, 10))
    with pytest.raises(NaiveDatetimeError):
        parking_fee_cents(CENTRUM, datetime(2026, 11, 23, 10), local(2026, 11, 23, 11))  # noqa: DTZ001


def test_zone_without_schedule_is_never_regulated() -> None:
    zone = replace(CENTRUM, schedule=())
    assert regulation_at(zone, local(2026, 11, 23, 12)).regulated is False
