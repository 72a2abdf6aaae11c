"""Zones from the RDW / NPR open-data tables (adapter).

Joins the Nationaal Parkeer Register tables (column names as RDW publishes them):

- geometry (required, one row per zone): `areamanagerid, areaid, areageometryastext` (WKT,
  WGS84), the NPR geometry-table shape; optional extra columns `regulationid`, `name`, `kind`,
  `priority`, `permit_types` (`;`-separated), `remote_enforcement_allowed`, `grace_minutes`,
  `fine_track`, `zone_id`;
- areas (GEBIED, required): every geometry row must name a known area;
- area regulations (GEBIEDSREGELING: `areamanagerid, areaid, regulationid` + optional dates):
  which regulation applies in an area. Without it the geometry's `regulationid` column is
  used, else a regulation whose id equals the area id (common in NPR data);
- regulations (REGELING), time frames (TIJDVAK), fare calculations (TARIEFBEREKENING) and
  fare parts (TARIEFDEEL).

Rows are filtered to the ones valid on the date `on` (default: today in Amsterdam). The
public fare-part dump has no validity dates; then, per fare code and start duration, the last
row in table order is taken as the current one (the dump lists versions oldest first).
Only the first fare part (from parking minute 0) becomes the window tariff; later parts
(progressive or capped tariffs) are reported in `ZoneImport.warnings`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import shapely
from shapely.errors import ShapelyError
from shapely.geometry import MultiPolygon, Polygon

from zones.crs import WGS84
from zones.errors import (
    InvalidZoneError,
    Notice,
    NoticeCode,
    Problem,
    ProblemCode,
    ZoneFileError,
    scalar,
)
from zones.geojson import ZoneImport
from zones.georeader import GeometryReader
from zones.model import (
    MINUTES_PER_DAY,
    DayType,
    FineTrack,
    HolidayPolicy,
    TimeWindow,
    Zone,
    ZoneKind,
    default_fine_track,
)
from zones.nprtables import (
    Row,
    Table,
    Tables,
    cell,
    check_geometry_columns,
    clock_minutes,
    index_tables,
    read_table,
)
from zones.rules import AMSTERDAM

DAY_TYPES: dict[str, tuple[DayType, ...]] = {
    "MAANDAG": (DayType.MON,),
    "DINSDAG": (DayType.TUE,),
    "WOENSDAG": (DayType.WED,),
    "DONDERDAG": (DayType.THU,),
    "VRIJDAG": (DayType.FRI,),
    "ZATERDAG": (DayType.SAT,),
    "ZONDAG": (DayType.SUN,),
    "FEESTDAG": (DayType.HOLIDAY,),
    "FEESTDAG GRATIS": (DayType.HOLIDAY,),
    "DAGELIJKS": (
        DayType.MON,
        DayType.TUE,
        DayType.WED,
        DayType.THU,
        DayType.FRI,
        DayType.SAT,
        DayType.SUN,
    ),
}


def import_npr(
    areas: Table,
    geometry: Table,
    *,
    regulations: Table | None = None,
    time_frames: Table | None = None,
    fare_calculations: Table | None = None,
    fare_parts: Table | None = None,
    area_regulations: Table | None = None,
    on: date | None = None,
    area_manager_id: str | None = None,
    holiday_dates: frozenset[date] | None = None,
    fix: bool = False,
) -> ZoneImport:
    """Zones for every row of `geometry`, with rules from the NPR tables valid on `on`.

    Each table is a path (JSON array or CSV) or an iterable of row dicts. All or nothing:
    raises `ZoneFileError` listing every problem (index = row of the geometry table, id = the
    zone id `<areamanagerid>_<areaid>`).
    """
    on = on or datetime.now(UTC).astimezone(AMSTERDAM).date()
    geometry_rows = read_table(geometry)
    check_geometry_columns(geometry_rows)

    def optional(table: Table | None) -> list[Row] | None:
        return read_table(table) if table is not None else None

    day = on.strftime("%Y%m%d")
    tables = index_tables(
        day,
        areas=read_table(areas),
        regulations=optional(regulations),
        frames=optional(time_frames),
        calcs=optional(fare_calculations),
        parts=optional(fare_parts),
        links=optional(area_regulations),
    )
    builder = _NprImport(tables, day, fix, holiday_dates)
    seen: dict[str, int] = {}
    for index, row in enumerate(geometry_rows):
        manager, area_id = cell(row, "areamanagerid"), cell(row, "areaid")
        if area_manager_id is not None and manager != area_manager_id:
            continue
        zone_id = cell(row, "zone_id") or f"{manager}_{area_id}"
        if zone_id in seen:
            builder.problem(
                index,
                zone_id,
                "areaid",
                f"duplicate area; first in row {seen[zone_id]}",
                ProblemCode.NPR_DUPLICATE_AREA,
                first_row=seen[zone_id],
            )
            continue
        seen[zone_id] = index
        builder.add(index, zone_id, row)
    if builder.problems:
        raise ZoneFileError(builder.problems)
    if not builder.zones:
        raise ZoneFileError(
            [
                Problem(
                    None,
                    None,
                    "geometry",
                    "no area rows selected",
                    code=ProblemCode.NPR_NO_ROWS_SELECTED,
                )
            ]
        )
    return ZoneImport(tuple(builder.zones), tuple(builder.repairs), tuple(builder.warnings), WGS84)


class _NprImport:
    """Turns geometry rows into zones, collecting problems, repairs and warnings."""

    def __init__(
        self, tables: Tables, day: str, fix: bool, holiday_dates: frozenset[date] | None
    ) -> None:
        self.t = tables
        self.day = day
        self.fix = fix
        self.holiday_dates = holiday_dates
        self.zones: list[Zone] = []
        self.problems: list[Problem] = []
        self.repairs: list[Notice] = []
        self.warnings: list[Notice] = []
        self._index = 0
        self._zone_id = ""

    def problem(
        self,
        index: int,
        zone_id: str,
        field: str,
        message: str,
        code: ProblemCode,
        **values: Any,
    ) -> None:
        self.problems.append(Problem(index, zone_id, field, message, code=code, values=values))

    def _problem(self, field: str, message: str, code: ProblemCode, **values: Any) -> None:
        self.problem(self._index, self._zone_id, field, message, code, **values)

    def _warn(self, field: str, message: str, code: NoticeCode, **values: Any) -> None:
        notice = Notice(self._index, self._zone_id, field, message, code=code, values=values)
        if notice not in self.warnings:
            self.warnings.append(notice)

    def add(self, index: int, zone_id: str, row: Row) -> None:
        self._index, self._zone_id = index, zone_id
        manager, area_id = cell(row, "areamanagerid"), cell(row, "areaid")
        if not manager or not area_id:
            self._problem(
                "areaid", "areamanagerid and areaid are required", ProblemCode.NPR_AREA_IDS_MISSING
            )
            return
        area = self.t.areas.get((manager, area_id))
        if area is None:
            self._problem(
                "areaid",
                f"{area_id!r} of manager {manager} is not in the areas table",
                ProblemCode.NPR_AREA_UNKNOWN,
                area_id=area_id,
                manager=manager,
            )
        geom = self._read_wkt(cell(row, "areageometryastext"))
        regulation_ids = self._regulation_ids(row)
        windows, has_holiday_frames = self._windows(manager, regulation_ids)
        if geom is None or area is None or windows is None:
            return
        zone = self._zone(
            row,
            area,
            geom,
            windows,
            has_holiday_frames=has_holiday_frames,
            regulation_ids=regulation_ids,
        )
        if zone is not None:
            self.zones.append(zone)

    def _read_wkt(self, wkt: str) -> Polygon | MultiPolygon | None:
        field = "areageometryastext"
        if not wkt:
            self._problem(field, "missing WKT polygon", ProblemCode.NPR_WKT_MISSING)
            return None
        try:
            geom = shapely.from_wkt(wkt)
        except (ShapelyError, ValueError) as exc:
            self._problem(
                field, f"not valid WKT: {exc}", ProblemCode.NPR_WKT_INVALID, reason=str(exc)
            )
            return None
        if not isinstance(geom, Polygon | MultiPolygon) or geom.is_empty:
            self._problem(
                field,
                f"{geom.geom_type}: allowed: POLYGON, MULTIPOLYGON (non-empty)",
                ProblemCode.NPR_WKT_NOT_POLYGON,
                got=geom.geom_type,
            )
            return None
        reader = GeometryReader(self._index, self._zone_id, WGS84, self.fix)
        checked = reader.check(geom)
        for p in reader.problems:
            self._problem(field, p.message, p.code, **p.values)
        self.repairs.extend(reader.repairs)
        return checked

    def _regulation_ids(self, row: Row) -> list[str]:
        key = (cell(row, "areamanagerid"), cell(row, "areaid"))
        if self.t.links.get(key):
            return self.t.links[key]
        explicit = cell(row, "regulationid")
        if explicit:
            return [r.strip() for r in explicit.split(";") if r.strip()]
        if (self.t.regulations is not None and key in self.t.regulations) or (
            self.t.frames is not None and key in self.t.frames
        ):
            return [key[1]]
        return []

    def _windows(
        self, manager: str, regulation_ids: list[str]
    ) -> tuple[list[TimeWindow] | None, bool]:
        if self.t.frames is None:
            self._warn(
                "schedule",
                "no time-frame table given: zone is never regulated",
                NoticeCode.NPR_NO_TIME_FRAMES_TABLE,
            )
            return [], False
        if not regulation_ids:
            self._problem(
                "regulationid",
                "no regulation for this area: give the area-regulation table (GEBIEDSREGELING), "
                "a regulationid column in the geometry table, or a regulation with the area's id",
                ProblemCode.NPR_NO_REGULATION,
            )
            return None, False
        windows: list[TimeWindow] = []
        has_holiday = False
        ok = True
        for regulation_id in regulation_ids:
            rows = self.t.frames.get((manager, regulation_id), [])
            if not rows:
                self._warn(
                    "regulationid",
                    f"regulation {regulation_id!r} has no time frames valid on {self.day}",
                    NoticeCode.NPR_REGULATION_WITHOUT_FRAMES,
                    regulation=regulation_id,
                    day=self.day,
                )
            for row in rows:
                day = cell(row, "daytimeframe").upper()
                if day not in DAY_TYPES:
                    self._warn(
                        "tijdvak",
                        f"regulation {regulation_id!r}: day type {day!r} is not supported; "
                        "its time frames are skipped",
                        NoticeCode.NPR_DAY_TYPE_UNSUPPORTED,
                        regulation=regulation_id,
                        day_type=day,
                    )
                    continue
                has_holiday = has_holiday or DAY_TYPES[day] == (DayType.HOLIDAY,)
                window = self._window(manager, regulation_id, day, row)
                if window is None:
                    ok = False
                else:
                    windows.append(window)
        return (_merge(windows) if ok else None), has_holiday

    def _window(self, manager: str, regulation_id: str, day: str, row: Row) -> TimeWindow | None:
        field = f"tijdvak[{regulation_id} {day} {cell(row, 'starttimetimeframe')}]"
        try:
            start = clock_minutes(cell(row, "starttimetimeframe"), is_end=False)
            end = clock_minutes(cell(row, "endtimetimeframe"), is_end=True)
            max_stay = int(cell(row, "maxdurationright") or "0") or None
        except ValueError as exc:
            self._problem(field, str(exc), ProblemCode.NPR_TIME_FRAME_INVALID, reason=str(exc))
            return None
        if start >= MINUTES_PER_DAY:
            self._problem(
                field, "start 2400 is not allowed", ProblemCode.TIME_2400_AS_START, got="2400"
            )
            return None
        tariff = self._tariff(field, manager, cell(row, "farecalculationcode"))
        if tariff is None:
            return None
        cents_per_hour, step = tariff
        if day == "FEESTDAG GRATIS":
            cents_per_hour = Decimal(0)
        if cell(row, "claimrightpossible").upper() == "N":
            self._warn(
                field,
                "claimrightpossible N: no parking right can be bought",
                NoticeCode.NPR_NO_RIGHT_TO_BUY,
            )
        try:
            return TimeWindow(frozenset(DAY_TYPES[day]), start, end, cents_per_hour, step, max_stay)
        except InvalidZoneError as exc:
            self._problem(
                field, f"{exc.field}={exc.value!r}: {exc.why}", exc.problem, **exc.problem_values()
            )
            return None

    def _tariff(self, field: str, manager: str, code: str) -> tuple[Decimal, int] | None:
        if not code or self.t.parts is None:
            return Decimal(0), 1
        if self.t.calcs is not None and (manager, code) not in self.t.calcs:
            self._warn(
                "tariefberekening",
                f"fare calculation {code!r} not valid on {self.day}",
                NoticeCode.NPR_FARE_NOT_VALID,
                fare=code,
                day=self.day,
            )
        code_parts = self.t.parts.get((manager, code))
        if not code_parts:
            self._problem(
                field,
                f"fare calculation {code!r} has no fare parts",
                ProblemCode.NPR_FARE_NO_PARTS,
                fare=code,
            )
            return None
        first = code_parts[0]
        try:
            amount = Decimal(cell(first, "amountfarepart"))
            step = int(cell(first, "stepsizefarepart"))
        except (InvalidOperation, ValueError):
            self._problem(
                field,
                f"fare part of {code!r} has a bad amount or step: {first}",
                ProblemCode.NPR_FARE_PART_INVALID,
                fare=code,
                part=scalar(first),
            )
            return None
        if step <= 0 or amount < 0:
            self._problem(
                field,
                f"fare part of {code!r}: step {step}, amount {amount}",
                ProblemCode.NPR_FARE_PART_OUT_OF_RANGE,
                fare=code,
                step=step,
                amount=str(amount),
            )
            return None
        if len(code_parts) > 1:
            later = ", ".join(cell(p, "startdurationfarepart") for p in code_parts[1:])
            self._warn(
                "tariefdeel",
                f"fare {code!r} changes after minute(s) {later}; only the first part is used",
                NoticeCode.NPR_FARE_CHANGES,
                fare=code,
                minutes=later,
            )
        cents_per_hour = (amount * 100 * 60 / step).quantize(Decimal("0.0001"))
        if cents_per_hour == cents_per_hour.to_integral_value():
            return Decimal(int(cents_per_hour)), step
        return cents_per_hour.normalize(), step

    def _zone(
        self,
        row: Row,
        area: Row,
        geom: Polygon | MultiPolygon,
        windows: list[TimeWindow],
        *,
        has_holiday_frames: bool,
        regulation_ids: list[str],
    ) -> Zone | None:
        try:
            kind = _kind(cell(row, "kind"), windows)
            fine_track = FineTrack(cell(row, "fine_track")) if cell(row, "fine_track") else None
            priority = int(cell(row, "priority") or "0")
            grace = int(cell(row, "grace_minutes") or "10")
        except ValueError as exc:
            self._problem(
                "kind/fine_track/priority/grace_minutes",
                str(exc),
                ProblemCode.NPR_ZONE_COLUMNS_INVALID,
                reason=str(exc),
            )
            return None
        if kind is ZoneKind.PAID:  # free and unlimited = not regulated
            windows = [w for w in windows if w.tariff_cents_per_hour > 0 or w.max_stay_minutes]
        if not windows:
            self._warn(
                "schedule",
                "no regulated time frames: zone is never regulated",
                NoticeCode.NPR_NEVER_REGULATED,
            )
        area_id = cell(row, "areaid")
        name = cell(row, "name") or cell(area, "areadesc")
        if not name and self.t.regulations is not None and regulation_ids:
            key = (cell(row, "areamanagerid"), regulation_ids[0])
            name = cell(self.t.regulations.get(key, {}), "regulationdesc")
        remote = cell(row, "remote_enforcement_allowed").lower() in {"1", "true", "j", "ja", "yes"}
        permit_types = tuple(p.strip() for p in cell(row, "permit_types").split(";") if p.strip())
        try:
            return Zone(
                id=self._zone_id,
                name=name or area_id,
                kind=kind,
                area_code=area_id,
                geometry=geom,
                schedule=tuple(windows),
                priority=priority,
                holidays=HolidayPolicy.SCHEDULE if has_holiday_frames else HolidayPolicy.REGULATED,
                holiday_dates=self.holiday_dates,
                grace_minutes=grace,
                fine_track=fine_track or default_fine_track(kind),
                remote_enforcement_allowed=remote,
                permit_types=permit_types,
            )
        except InvalidZoneError as exc:
            self._problem(
                exc.field, f"{exc.value!r}: {exc.why}", exc.problem, **exc.problem_values()
            )
            return None


def _kind(text: str, windows: list[TimeWindow]) -> ZoneKind:
    if text:
        return ZoneKind(text)
    if any(w.tariff_cents_per_hour > 0 for w in windows):
        return ZoneKind.PAID
    if any(w.max_stay_minutes for w in windows):
        return ZoneKind.BLUE
    return ZoneKind.PAID


def _merge(windows: list[TimeWindow]) -> list[TimeWindow]:
    """One window per distinct (times, tariff, stay), days united; exact duplicates dropped."""
    merged: dict[tuple[Any, ...], set[DayType]] = {}
    for w in windows:
        key = (
            w.start_minute,
            w.end_minute,
            w.tariff_cents_per_hour,
            w.step_minutes,
            w.max_stay_minutes,
            DayType.HOLIDAY in w.days,
        )
        merged.setdefault(key, set()).update(w.days)
    out = [TimeWindow(frozenset(days), k[0], k[1], k[2], k[3], k[4]) for k, days in merged.items()]
    order = {d: i for i, d in enumerate(DayType)}
    out.sort(key=lambda w: (min(order[d] for d in w.days), w.start_minute))
    return out
