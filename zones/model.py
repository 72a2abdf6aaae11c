"""Parking zones and their regulation schedules (pure domain: stdlib + shapely).

A `Zone` is an area on the map (WGS84 lon/lat polygon) with the rules that apply in it: when
parking is regulated (`TimeWindow`s in Europe/Amsterdam wall-clock time), what it costs, how
long one may stay and how an offence is fined. Build zones from files with `zones.geojson` or
`zones.npr`; answer "which zone, regulated now?" with `zones.index.ZoneIndex`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from itertools import pairwise

from shapely.geometry import MultiPolygon, Polygon

from zones.errors import InvalidZoneError, ProblemCode

MINUTES_PER_DAY = 1440
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY
MAX_STEP_MINUTES = 366 * MINUTES_PER_DAY * 2  # NPR has day, week, month and year steps


class ZoneKind(StrEnum):
    PAID = "paid"  # betaald parkeren
    PERMIT = "permit"  # vergunninghoudersgebied
    BLUE = "blue"  # blauwe zone: parking disc, max stay
    LOADING = "loading"  # laad- en losplaats
    NO_PARKING = "no_parking"  # parkeerverbod


class FineTrack(StrEnum):
    """How an offence in the zone is sanctioned."""

    TAX = "tax"  # naheffingsaanslag parkeerbelasting (fiscal, municipality)
    WAHV = "wahv"  # Mulder fine (Wet administratiefrechtelijke handhaving verkeersvoorschriften)


class HolidayPolicy(StrEnum):
    """What a public holiday does to a zone's schedule."""

    FREE = "free"  # not regulated on holidays
    REGULATED = "regulated"  # regulated as on the weekday it falls on
    SCHEDULE = "schedule"  # only the windows with day type `holiday` apply (NPR FEESTDAG)


class DayType(StrEnum):
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"
    HOLIDAY = "holiday"  # NPR: FEESTDAG


WEEKDAYS: tuple[DayType, ...] = (
    DayType.MON,
    DayType.TUE,
    DayType.WED,
    DayType.THU,
    DayType.FRI,
    DayType.SAT,
    DayType.SUN,
)

DEFAULT_FINE_TRACK: dict[ZoneKind, FineTrack] = {
    ZoneKind.PAID: FineTrack.TAX,
    ZoneKind.PERMIT: FineTrack.TAX,
    ZoneKind.BLUE: FineTrack.WAHV,
    ZoneKind.LOADING: FineTrack.WAHV,
    ZoneKind.NO_PARKING: FineTrack.WAHV,
}

_CLOCK = re.compile(r"^([0-9]{2}):([0-9]{2})$")


def parse_clock(text: str, *, is_end: bool = False) -> int:
    """Parse `HH:MM` into minutes after midnight; `24:00` is allowed as an end only."""
    match = _CLOCK.fullmatch(text)
    if match is None:
        raise InvalidZoneError(
            "time", text, "expected HH:MM, e.g. '09:00' or '24:00'", ProblemCode.TIME_FORMAT
        )
    hours, minutes = int(match.group(1)), int(match.group(2))
    if hours == 24 and minutes == 0:
        if not is_end:
            raise InvalidZoneError(
                "time",
                text,
                "24:00 is allowed only as a window end",
                ProblemCode.TIME_2400_AS_START,
            )
        return MINUTES_PER_DAY
    if hours > 23 or minutes > 59:
        raise InvalidZoneError(
            "time",
            text,
            "hours must be 00-23 (or 24:00), minutes 00-59",
            ProblemCode.TIME_OUT_OF_RANGE,
        )
    return hours * 60 + minutes


def format_clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _check_max_stay(minutes: int | None) -> None:
    """A maximum stay (a window's or a zone's) is more than 0 minutes, or none."""
    if minutes is not None and minutes <= 0:
        raise InvalidZoneError(
            "max_stay_minutes", minutes, "> 0 or null", ProblemCode.NOT_ABOVE, limit=0
        )


@dataclass(frozen=True)
class TimeWindow:
    """A regulated period on some day types, in Europe/Amsterdam wall-clock time.

    `end_minute` may be 1440 (24:00). A window whose end is before its start crosses midnight
    and belongs to the day it starts on (Sat 20:00-02:00 runs into Sunday night).
    `max_stay_minutes` overrides the zone's for this window (NPR: maxdurationright).
    """

    days: frozenset[DayType]
    start_minute: int
    end_minute: int
    tariff_cents_per_hour: Decimal = Decimal(0)
    step_minutes: int = 1
    max_stay_minutes: int | None = None

    def __post_init__(self) -> None:
        if not self.days:
            raise InvalidZoneError(
                "days",
                sorted(self.days),
                "at least one day type",
                ProblemCode.TOO_FEW_ITEMS,
                minimum=1,
            )
        for day in self.days:
            if not isinstance(day, DayType):
                allowed = ", ".join(d.value for d in DayType)
                raise InvalidZoneError(
                    "days", day, f"allowed: {allowed}", ProblemCode.NOT_ALLOWED, allowed=allowed
                )
        if not 0 <= self.start_minute < MINUTES_PER_DAY:
            raise InvalidZoneError(
                "start",
                self.start_minute,
                "00:00 to 23:59",
                ProblemCode.OUT_OF_RANGE,
                minimum="00:00",
                maximum="23:59",
            )
        if not 0 < self.end_minute <= MINUTES_PER_DAY:
            raise InvalidZoneError(
                "end",
                self.end_minute,
                "00:01 to 24:00",
                ProblemCode.OUT_OF_RANGE,
                minimum="00:01",
                maximum="24:00",
            )
        if self.end_minute == self.start_minute:
            raise InvalidZoneError(
                "end",
                format_clock(self.end_minute),
                "must differ from start (use 00:00-24:00)",
                ProblemCode.END_EQUALS_START,
            )
        if self.tariff_cents_per_hour < 0:
            raise InvalidZoneError(
                "tariff_cents_per_hour",
                self.tariff_cents_per_hour,
                ">= 0",
                ProblemCode.BELOW_MINIMUM,
                minimum=0,
            )
        if not 1 <= self.step_minutes <= MAX_STEP_MINUTES:
            raise InvalidZoneError(
                "step_minutes",
                self.step_minutes,
                f"1 to {MAX_STEP_MINUTES}",
                ProblemCode.OUT_OF_RANGE,
                minimum=1,
                maximum=MAX_STEP_MINUTES,
            )
        _check_max_stay(self.max_stay_minutes)

    @property
    def crosses_midnight(self) -> bool:
        return self.end_minute < self.start_minute

    @property
    def duration_minutes(self) -> int:
        if self.crosses_midnight:
            return MINUTES_PER_DAY - self.start_minute + self.end_minute
        return self.end_minute - self.start_minute

    @property
    def start(self) -> str:
        return format_clock(self.start_minute)

    @property
    def end(self) -> str:
        return format_clock(self.end_minute)

    def __str__(self) -> str:
        order = {d: i for i, d in enumerate(DayType)}
        days = ",".join(d.value for d in sorted(self.days, key=order.__getitem__))
        return f"{days} {self.start}-{self.end}"


def _weekly_intervals(window: TimeWindow) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for day in window.days:
        if day is DayType.HOLIDAY:
            continue
        begin = WEEKDAYS.index(day) * MINUTES_PER_DAY + window.start_minute
        end = begin + window.duration_minutes
        if end > MINUTES_PER_WEEK:  # Sunday night into Monday
            out.append((begin, MINUTES_PER_WEEK))
            out.append((0, end - MINUTES_PER_WEEK))
        else:
            out.append((begin, end))
    return out


def find_overlapping_windows(
    schedule: tuple[TimeWindow, ...],
) -> tuple[TimeWindow, TimeWindow] | None:
    """The first two windows that are regulated at the same moment, or None."""
    spans: list[tuple[int, int, int]] = []
    holiday_spans: list[tuple[int, int, int]] = []
    for i, window in enumerate(schedule):
        spans.extend((b, e, i) for b, e in _weekly_intervals(window))
        if DayType.HOLIDAY in window.days:
            holiday_spans.append(
                (window.start_minute, window.start_minute + window.duration_minutes, i)
            )
    for group in (spans, holiday_spans):
        group.sort()
        for (_, end_a, a), (begin_b, _, b) in pairwise(group):
            if begin_b < end_a and a != b:
                return schedule[a], schedule[b]
    return None


@dataclass(frozen=True)
class Zone:
    """A parking zone: where (WGS84 polygon), and the rules that apply there.

    Overlapping zones: the higher `priority` wins; on a tie the smaller area wins.
    `holiday_dates` None means the Dutch public holidays (`zones.rules.dutch_public_holidays`).
    `grace_minutes` is the coulance a BOA grants before a fine.
    `remote_enforcement_allowed`: whether a BOA may confirm an offence from photos alone.
    """

    id: str
    name: str
    kind: ZoneKind
    area_code: str
    geometry: Polygon | MultiPolygon
    schedule: tuple[TimeWindow, ...] = ()
    priority: int = 0
    holidays: HolidayPolicy = HolidayPolicy.REGULATED
    holiday_dates: frozenset[date] | None = None
    max_stay_minutes: int | None = None
    grace_minutes: int = 10
    fine_track: FineTrack = field(default=FineTrack.TAX)
    remote_enforcement_allowed: bool = False
    permit_types: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self._check_fields()
        self._check_geometry()
        self._check_rules()

    def _check_fields(self) -> None:
        if not self.id or not self.id.strip():
            raise InvalidZoneError("id", self.id, "a non-empty string", ProblemCode.TEXT_EMPTY)
        if not self.area_code:
            raise InvalidZoneError(
                "area_code", self.area_code, "a non-empty string", ProblemCode.TEXT_EMPTY
            )
        for name, enum in (
            ("kind", ZoneKind),
            ("holidays", HolidayPolicy),
            ("fine_track", FineTrack),
        ):
            if not isinstance(getattr(self, name), enum):
                raise InvalidZoneError(
                    name,
                    getattr(self, name),
                    f"allowed: {_values(enum)}",
                    ProblemCode.NOT_ALLOWED,
                    allowed=_values(enum),
                )
        _check_max_stay(self.max_stay_minutes)
        if self.grace_minutes < 0:
            raise InvalidZoneError(
                "grace_minutes", self.grace_minutes, ">= 0", ProblemCode.BELOW_MINIMUM, minimum=0
            )

    def _check_geometry(self) -> None:
        if not isinstance(self.geometry, Polygon | MultiPolygon):
            raise InvalidZoneError(
                "geometry",
                self.geometry.geom_type,
                "allowed: Polygon, MultiPolygon",
                ProblemCode.GEOMETRY_TYPE_NOT_ALLOWED,
                allowed="Polygon, MultiPolygon",
            )
        if self.geometry.is_empty or self.geometry.area <= 0:
            raise InvalidZoneError(
                "geometry", "empty", "a polygon with a positive area", ProblemCode.POLYGON_NO_AREA
            )
        if not self.geometry.is_valid:
            raise InvalidZoneError(
                "geometry", self.geometry.wkt[:80], "a valid polygon", ProblemCode.GEOMETRY_INVALID
            )

    def _check_rules(self) -> None:
        overlap = find_overlapping_windows(self.schedule)
        if overlap is not None:
            raise InvalidZoneError(
                "schedule",
                f"{overlap[0]} / {overlap[1]}",
                "windows must not overlap",
                ProblemCode.WINDOWS_OVERLAP,
                first=str(overlap[0]),
                second=str(overlap[1]),
            )
        if self.kind is ZoneKind.BLUE and self.max_stay_minutes is None:
            missing = [str(w) for w in self.schedule if w.max_stay_minutes is None]
            if missing or not self.schedule:
                raise InvalidZoneError(
                    "max_stay_minutes",
                    None,
                    "a blue zone needs a max stay (zone or every window)",
                    ProblemCode.BLUE_ZONE_NEEDS_MAX_STAY,
                )


def default_fine_track(kind: ZoneKind) -> FineTrack:
    return DEFAULT_FINE_TRACK[kind]


def _values(enum: type[StrEnum]) -> str:
    return ", ".join(m.value for m in enum)
