"""When is a zone regulated, and what does parking there cost? (pure: stdlib only)

Schedules are Europe/Amsterdam wall-clock times; every instant passed in or returned is a
timezone-aware datetime (returned in UTC). Window occurrences are turned into real instants
with zoneinfo, so a window spanning a DST change lasts its true elapsed time (00:00-04:00 is
5 h on the last Sunday of October and 3 h on the last Sunday of March).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from zoneinfo import ZoneInfo

from zones.errors import InvalidZoneError, NaiveDatetimeError
from zones.model import MINUTES_PER_DAY, WEEKDAYS, DayType, HolidayPolicy, TimeWindow, Zone

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def easter_sunday(year: int) -> date:
    """Gregorian Easter Sunday (anonymous Gregorian algorithm, Meeus/Jones/Butcher)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month, day = divmod(h + ell - 7 * m + 114, 31)
    return date(year, month, day + 1)


@lru_cache(maxsize=256)
def dutch_public_holidays(year: int, *, include_liberation_day: bool = True) -> frozenset[date]:
    """The Dutch public holidays (feestdagen) of `year`.

    Nieuwjaarsdag, Eerste and Tweede Paasdag, Koningsdag (27 April; 26 April when the 27th is a
    Sunday), Bevrijdingsdag (5 May, every year; a municipality may leave it out), Hemelvaartsdag,
    Eerste and Tweede Pinksterdag, Eerste and Tweede Kerstdag. Goede Vrijdag is not included.
    """
    easter = easter_sunday(year)
    kings_day = date(year, 4, 27)
    if kings_day.weekday() == 6:
        kings_day = date(year, 4, 26)
    days = {
        date(year, 1, 1),
        easter,
        easter + timedelta(days=1),
        kings_day,
        easter + timedelta(days=39),  # Hemelvaartsdag
        easter + timedelta(days=49),  # Eerste Pinksterdag
        easter + timedelta(days=50),  # Tweede Pinksterdag
        date(year, 12, 25),
        date(year, 12, 26),
    }
    if include_liberation_day:
        days.add(date(year, 5, 5))
    return frozenset(days)


def is_holiday(zone: Zone, day: date) -> bool:
    """Whether `day` (a local date) is a holiday for `zone` (its own dates, else the Dutch ones)."""
    if zone.holiday_dates is not None:
        return day in zone.holiday_dates
    return day in dutch_public_holidays(day.year)


def require_aware(name: str, value: datetime) -> datetime:
    if not isinstance(value, datetime):
        raise InvalidZoneError(name, value, "a timezone-aware datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise NaiveDatetimeError(name, value)
    return value


def windows_starting_on(zone: Zone, day: date) -> tuple[TimeWindow, ...]:
    """The windows of `zone` that start on local date `day`, after the holiday policy."""
    if is_holiday(zone, day):
        if zone.holidays is HolidayPolicy.FREE:
            return ()
        if zone.holidays is HolidayPolicy.SCHEDULE:
            return tuple(w for w in zone.schedule if DayType.HOLIDAY in w.days)
    weekday = WEEKDAYS[day.weekday()]
    return tuple(w for w in zone.schedule if weekday in w.days)


def _local_instant(day: date, minute: int) -> datetime:
    """Wall-clock `minute` after local midnight of `day` as an aware UTC datetime.

    24:00 is the next day's 00:00. A wall time in the spring-forward gap maps to the instant
    one hour later in summer time (02:30 -> 03:30 CEST); an ambiguous autumn time takes its
    first (summer-time) occurrence.
    """
    if minute >= MINUTES_PER_DAY:
        day = day + timedelta(days=minute // MINUTES_PER_DAY)
        minute %= MINUTES_PER_DAY
    local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=AMSTERDAM)
    return local.astimezone(UTC)


@dataclass(frozen=True)
class WindowOccurrence:
    window: TimeWindow
    local_date: date  # the local date the window starts on
    start: datetime  # UTC
    end: datetime  # UTC


def occurrences(zone: Zone, start: datetime, end: datetime) -> Iterator[WindowOccurrence]:
    """Window occurrences of `zone` that overlap [start, end), in time order."""
    require_aware("start", start)
    require_aware("end", end)
    first = start.astimezone(AMSTERDAM).date() - timedelta(days=1)
    last = end.astimezone(AMSTERDAM).date()
    found: list[WindowOccurrence] = []
    day = first
    while day <= last:
        for window in windows_starting_on(zone, day):
            begin = _local_instant(day, window.start_minute)
            finish = _local_instant(day, window.start_minute + window.duration_minutes)
            if begin < end and finish > start:
                found.append(WindowOccurrence(window, day, begin, finish))
        day += timedelta(days=1)
    found.sort(key=lambda o: o.start)
    yield from found


@dataclass(frozen=True)
class Regulation:
    """Whether a zone is regulated at one moment, and under which window.

    For a `paid` zone regulated means one must pay (or hold a valid permit); for `permit` a
    permit is required; for `blue` the max stay (parking disc) applies; for `loading` only
    loading/unloading is allowed; for `no_parking` parking is prohibited.
    """

    regulated: bool
    window: TimeWindow | None = None
    tariff_cents_per_hour: Decimal | None = None
    step_minutes: int | None = None
    max_stay_minutes: int | None = None
    window_start: datetime | None = None  # UTC
    window_end: datetime | None = None  # UTC
    is_holiday: bool = False


def regulation_at(zone: Zone, at: datetime) -> Regulation:
    """The regulation of `zone` at instant `at` (timezone-aware)."""
    require_aware("at", at)
    local_day = at.astimezone(AMSTERDAM).date()
    holiday = is_holiday(zone, local_day)
    for occ in occurrences(zone, at, at + timedelta(microseconds=1)):
        if occ.start <= at < occ.end:
            window = occ.window
            max_stay = window.max_stay_minutes
            if max_stay is None:
                max_stay = zone.max_stay_minutes
            return Regulation(
                regulated=True,
                window=window,
                tariff_cents_per_hour=window.tariff_cents_per_hour,
                step_minutes=window.step_minutes,
                max_stay_minutes=max_stay,
                window_start=occ.start,
                window_end=occ.end,
                is_holiday=holiday,
            )
    return Regulation(regulated=False, is_holiday=holiday)


def _round_half_up(value: Fraction) -> int:
    return int((value * 2 + 1) // 2)


def parking_fee_cents(zone: Zone, start: datetime, end: datetime) -> int:
    """The parking tax due for parking in `zone` from `start` to `end` (aware datetimes).

    Each window occurrence overlapping the period is charged separately: every started step
    of `step_minutes` costs `tariff_cents_per_hour * step_minutes / 60`; the amount of each
    occurrence is rounded half-up to whole cents. Unregulated time is free. Max stay is not
    applied here (it decides whether one may park, not what it costs).
    """
    require_aware("start", start)
    require_aware("end", end)
    if end < start:
        raise InvalidZoneError("end", end.isoformat(), f"must not be before start {start}")
    total = 0
    for occ in occurrences(zone, start, end):
        span = min(end, occ.end) - max(start, occ.start)
        if span <= timedelta(0):
            continue
        steps = -(-span // timedelta(minutes=occ.window.step_minutes))
        rate = Fraction(occ.window.tariff_cents_per_hour)
        total += _round_half_up(steps * rate * occ.window.step_minutes / 60)
    return total
