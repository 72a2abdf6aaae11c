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

import csv
import io
import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import shapely
from shapely.errors import ShapelyError
from shapely.geometry import MultiPolygon, Polygon

from zones.crs import WGS84
from zones.errors import InvalidZoneError, Notice, Problem, ZoneFileError
from zones.geojson import GeometryReader, ZoneImport
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
from zones.rules import AMSTERDAM

Row = dict[str, Any]
Table = Path | str | Iterable[Row]

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
FAR_FUTURE = "29991231"


def read_table(source: Table) -> list[Row]:
    """Rows of an NPR table: a JSON array of objects or a CSV file (`,` or `;`), or rows."""
    if not isinstance(source, str | Path):
        return [_lower_keys(r) for r in source]
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ZoneFileError(
            [Problem(None, None, "file", f"cannot read {path}: {exc.strerror or exc}")]
        ) from exc
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            rows = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ZoneFileError(
                [Problem(None, None, "file", f"{path} is not valid JSON: {exc.msg}")]
            ) from exc
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise ZoneFileError([Problem(None, None, "file", f"{path}: expected a JSON array")])
        return [_lower_keys(r) for r in rows]
    dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t") if text.strip() else csv.excel
    return [_lower_keys(r) for r in csv.DictReader(io.StringIO(text), dialect=dialect)]


def _lower_keys(row: Row) -> Row:
    return {str(k).strip().lower(): v for k, v in row.items()}


def _s(row: Row, key: str) -> str:
    value = row.get(key)
    return "" if value is None else str(value).strip()


def _valid_on(start: str, end: str, day: str) -> bool:
    """`start`/`end` are NPR dates (YYYYMMDD or YYYYMMDDHHMMSS); `day` is YYYYMMDD."""
    start = (start or "00000000")[:8]
    end = (end or FAR_FUTURE)[:8]
    return start <= day < end


def _frame_valid_on(row: Row, moment: str) -> bool:
    """Time frames change at a time of day; `moment` is YYYYMMDDHHMMSS (noon of `on`)."""
    start = _s(row, "startdatetimeframe").ljust(14, "0")
    end = _s(row, "enddatetimeframe").ljust(14, "0") if _s(row, "enddatetimeframe") else "9" * 14
    return start <= moment < end


def _clock(value: str, *, is_end: bool) -> int:
    number = int(value)
    hours, minutes = divmod(number, 100)
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise ValueError(f"{value!r} is not an HHMM time")
    minute = hours * 60 + minutes
    if is_end and minute in (0, MINUTES_PER_DAY - 1):  # 0 and 2359 mean end of day
        return MINUTES_PER_DAY
    return minute


class _Builder:
    def __init__(self, on: date, fix: bool) -> None:
        self.day = on.strftime("%Y%m%d")
        self.moment = self.day + "120000"
        self.fix = fix
        self.problems: list[Problem] = []
        self.repairs: list[Notice] = []
        self.warnings: list[Notice] = []

    def problem(self, index: int | None, zone_id: str | None, field: str, message: str) -> None:
        self.problems.append(Problem(index, zone_id, field, message))

    def warn(self, index: int | None, zone_id: str | None, field: str, message: str) -> None:
        notice = Notice(index, zone_id, field, message)
        if notice not in self.warnings:
            self.warnings.append(notice)


def _current_fare_parts(rows: list[Row], day: str) -> dict[tuple[str, str], list[Row]]:
    by_code: dict[tuple[str, str], dict[int, Row]] = defaultdict(dict)
    for row in rows:
        if ("startdatefarepart" in row or "enddatefarepart" in row) and not _valid_on(
            _s(row, "startdatefarepart"), _s(row, "enddatefarepart"), day
        ):
            continue
        key = (_s(row, "areamanagerid"), _s(row, "farecalculationcode"))
        try:
            start = int(_s(row, "startdurationfarepart") or "0")
        except ValueError:
            start = 0
        by_code[key][start] = row  # later rows win: the dump lists versions oldest first
    return {k: [v[s] for s in sorted(v)] for k, v in by_code.items()}


def import_npr(
    areas: Table,
    geometry: Table,
    regulations: Table | None = None,
    time_frames: Table | None = None,
    fare_calculations: Table | None = None,
    fare_parts: Table | None = None,
    area_regulations: Table | None = None,
    *,
    on: date | None = None,
    area_manager_id: str | None = None,
    holiday_dates: frozenset[date] | None = None,
    fix: bool = False,
) -> ZoneImport:
    """Zones for every row of `geometry`, with rules from the NPR tables valid on `on`.

    All or nothing: raises `ZoneFileError` listing every problem (row index = position in the
    geometry table, id = the zone id `<areamanagerid>_<areaid>`).
    """
    on = on or datetime.now(UTC).astimezone(AMSTERDAM).date()
    b = _Builder(on, fix)
    area_rows = read_table(areas)
    geometry_rows = read_table(geometry)
    regulation_rows = read_table(regulations) if regulations is not None else None
    frame_rows = read_table(time_frames) if time_frames is not None else None
    calc_rows = read_table(fare_calculations) if fare_calculations is not None else None
    part_rows = read_table(fare_parts) if fare_parts is not None else None
    link_rows = read_table(area_regulations) if area_regulations is not None else None

    if not geometry_rows:
        raise ZoneFileError([Problem(None, None, "geometry", "empty; at least one area row")])
    missing_cols = {"areamanagerid", "areaid", "areageometryastext"} - set(geometry_rows[0])
    if missing_cols:
        raise ZoneFileError(
            [
                Problem(
                    None,
                    None,
                    "geometry",
                    f"missing column(s) {', '.join(sorted(missing_cols))}; the NPR geometry "
                    "table has areamanagerid, areaid, areageometryastext",
                )
            ]
        )

    known_areas: dict[tuple[str, str], Row] = {}
    for row in area_rows:
        if "startdatearea" in row and not _valid_on(
            _s(row, "startdatearea"), _s(row, "enddatearea"), b.day
        ):
            continue
        known_areas[(_s(row, "areamanagerid"), _s(row, "areaid"))] = row
    regulations_by_id: dict[tuple[str, str], Row] | None = None
    if regulation_rows is not None:
        regulations_by_id = {}
        for row in regulation_rows:
            regulations_by_id[(_s(row, "areamanagerid"), _s(row, "regulationid"))] = row
    links: dict[tuple[str, str], list[str]] = defaultdict(list)
    for row in link_rows or []:
        if _valid_on(
            _s(row, "startdatearearegulation"), _s(row, "enddatearearegulation"), b.day
        ):
            links[(_s(row, "areamanagerid"), _s(row, "areaid"))].append(_s(row, "regulationid"))
    frames: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for row in frame_rows or []:
        if _frame_valid_on(row, b.moment):
            frames[(_s(row, "areamanagerid"), _s(row, "regulationid"))].append(row)
    calcs: dict[tuple[str, str], Row] | None = None
    if calc_rows is not None:
        calcs = {}
        for row in calc_rows:
            if _valid_on(_s(row, "startdatefare"), _s(row, "enddatefare"), b.day):
                calcs[(_s(row, "areamanagerid"), _s(row, "farecalculationcode"))] = row
    parts = _current_fare_parts(part_rows, b.day) if part_rows is not None else None

    zones: list[Zone] = []
    seen: dict[str, int] = {}
    for index, row in enumerate(geometry_rows):
        manager, area_id = _s(row, "areamanagerid"), _s(row, "areaid")
        if area_manager_id is not None and manager != area_manager_id:
            continue
        zone_id = _s(row, "zone_id") or f"{manager}_{area_id}"
        if not manager or not area_id:
            b.problem(index, zone_id, "areaid", "areamanagerid and areaid are required")
            continue
        if zone_id in seen:
            b.problem(index, zone_id, "areaid", f"duplicate area; first in row {seen[zone_id]}")
            continue
        seen[zone_id] = index
        area = known_areas.get((manager, area_id))
        if area is None:
            b.problem(
                index, zone_id, "areaid", f"{area_id!r} of manager {manager} is not in the areas table"
            )
        geom = _read_wkt(b, index, zone_id, _s(row, "areageometryastext"))
        regulation_ids = _regulation_ids(b, index, zone_id, row, links, regulations_by_id, frames)
        windows, has_holiday_frames = _windows(
            b, index, zone_id, manager, regulation_ids, frames, calcs, parts, frame_rows is not None
        )
        if geom is None or area is None or windows is None:
            continue
        zone = _zone(b, index, zone_id, row, area, manager, area_id, geom, windows,
                     has_holiday_frames, regulation_ids, regulations_by_id, holiday_dates)
        if zone is not None:
            zones.append(zone)
    if b.problems:
        raise ZoneFileError(b.problems)
    if not zones:
        raise ZoneFileError([Problem(None, None, "geometry", "no area rows selected")])
    return ZoneImport(tuple(zones), tuple(b.repairs), tuple(b.warnings), WGS84)


def _read_wkt(b: _Builder, index: int, zone_id: str, wkt: str) -> Polygon | MultiPolygon | None:
    if not wkt:
        b.problem(index, zone_id, "areageometryastext", "missing WKT polygon")
        return None
    try:
        geom = shapely.from_wkt(wkt)
    except (ShapelyError, ValueError) as exc:
        b.problem(index, zone_id, "areageometryastext", f"not valid WKT: {exc}")
        return None
    if not isinstance(geom, Polygon | MultiPolygon) or geom.is_empty:
        b.problem(
            index,
            zone_id,
            "areageometryastext",
            f"{geom.geom_type}: allowed: POLYGON, MULTIPOLYGON (non-empty)",
        )
        return None
    reader = GeometryReader(index, zone_id, WGS84, b.fix)
    checked = reader.check(geom)
    for p in reader.problems:
        b.problems.append(Problem(p.feature_index, p.feature_id, "areageometryastext", p.message))
    b.repairs.extend(reader.repairs)
    return checked


def _regulation_ids(
    b: _Builder,
    index: int,
    zone_id: str,
    row: Row,
    links: dict[tuple[str, str], list[str]],
    regulations: dict[tuple[str, str], Row] | None,
    frames: dict[tuple[str, str], list[Row]],
) -> list[str]:
    manager, area_id = _s(row, "areamanagerid"), _s(row, "areaid")
    if links.get((manager, area_id)):
        return links[(manager, area_id)]
    explicit = _s(row, "regulationid")
    if explicit:
        return [r.strip() for r in explicit.split(";") if r.strip()]
    same = (manager, area_id)
    if (regulations is not None and same in regulations) or same in frames:
        return [area_id]
    return []


def _windows(
    b: _Builder,
    index: int,
    zone_id: str,
    manager: str,
    regulation_ids: list[str],
    frames: dict[tuple[str, str], list[Row]],
    calcs: dict[tuple[str, str], Row] | None,
    parts: dict[tuple[str, str], list[Row]] | None,
    have_frames: bool,
) -> tuple[list[TimeWindow] | None, bool]:
    if not have_frames:
        b.warn(index, zone_id, "schedule", "no time-frame table given: zone is never regulated")
        return [], False
    if not regulation_ids:
        b.problem(
            index,
            zone_id,
            "regulationid",
            "no regulation for this area: give the area-regulation table (GEBIEDSREGELING), "
            "a regulationid column in the geometry table, or a regulation with the area's id",
        )
        return None, False
    windows: list[TimeWindow] = []
    has_holiday = False
    ok = True
    for regulation_id in regulation_ids:
        rows = frames.get((manager, regulation_id), [])
        if not rows:
            b.warn(index, zone_id, "regulationid",
                   f"regulation {regulation_id!r} has no time frames valid on {b.day}")
        for row in rows:
            day = _s(row, "daytimeframe").upper()
            field = f"tijdvak[{regulation_id} {day} {_s(row, 'starttimetimeframe')}]"
            if day not in DAY_TYPES:
                b.warn(index, zone_id, "tijdvak",
                       f"regulation {regulation_id!r}: day type {day!r} is not supported; "
                       "its time frames are skipped")
                continue
            has_holiday = has_holiday or DAY_TYPES[day] == (DayType.HOLIDAY,)
            try:
                start = _clock(_s(row, "starttimetimeframe"), is_end=False)
                end = _clock(_s(row, "endtimetimeframe"), is_end=True)
                max_stay = int(_s(row, "maxdurationright") or "0") or None
            except ValueError as exc:
                b.problem(index, zone_id, field, str(exc))
                ok = False
                continue
            if start >= MINUTES_PER_DAY:
                b.problem(index, zone_id, field, "start 2400 is not allowed")
                ok = False
                continue
            tariff = _tariff(b, index, zone_id, field, manager, row, calcs, parts)
            if tariff is None:
                ok = False
                continue
            cents_per_hour, step = tariff
            if day == "FEESTDAG GRATIS":
                cents_per_hour = Decimal(0)
            if _s(row, "claimrightpossible").upper() == "N":
                b.warn(index, zone_id, field, "claimrightpossible N: no parking right can be bought")
            try:
                windows.append(
                    TimeWindow(frozenset(DAY_TYPES[day]), start, end, cents_per_hour, step, max_stay)
                )
            except InvalidZoneError as exc:
                b.problem(index, zone_id, field, f"{exc.field}={exc.value!r}: {exc.why}")
                ok = False
    return (_merge(windows) if ok else None), has_holiday


def _tariff(
    b: _Builder,
    index: int,
    zone_id: str,
    field: str,
    manager: str,
    row: Row,
    calcs: dict[tuple[str, str], Row] | None,
    parts: dict[tuple[str, str], list[Row]] | None,
) -> tuple[Decimal, int] | None:
    code = _s(row, "farecalculationcode")
    if not code or parts is None:
        return Decimal(0), 1
    if calcs is not None and (manager, code) not in calcs:
        b.warn(index, zone_id, "tariefberekening", f"fare calculation {code!r} not valid on {b.day}")
    code_parts = parts.get((manager, code))
    if not code_parts:
        b.problem(index, zone_id, field, f"fare calculation {code!r} has no fare parts")
        return None
    first = code_parts[0]
    try:
        amount = Decimal(_s(first, "amountfarepart"))
        step = int(_s(first, "stepsizefarepart"))
    except (InvalidOperation, ValueError):
        b.problem(index, zone_id, field, f"fare part of {code!r} has a bad amount or step: {first}")
        return None
    if step <= 0 or amount < 0:
        b.problem(index, zone_id, field, f"fare part of {code!r}: step {step}, amount {amount}")
        return None
    if len(code_parts) > 1:
        later = ", ".join(_s(p, "startdurationfarepart") for p in code_parts[1:])
        b.warn(index, zone_id, "tariefdeel",
               f"fare {code!r} changes after minute(s) {later}; only the first part is used")
    cents_per_hour = (amount * 100 * 60 / step).quantize(Decimal("0.0001"))
    if cents_per_hour == cents_per_hour.to_integral_value():
        cents_per_hour = Decimal(int(cents_per_hour))
    else:
        cents_per_hour = cents_per_hour.normalize()
    return cents_per_hour, step


def _merge(windows: list[TimeWindow]) -> list[TimeWindow]:
    """One window per distinct (times, tariff, stay), days united; exact duplicates dropped."""
    merged: dict[tuple[Any, ...], set[DayType]] = {}
    for w in windows:
        key = (w.start_minute, w.end_minute, w.tariff_cents_per_hour, w.step_minutes,
               w.max_stay_minutes, DayType.HOLIDAY in w.days)
        merged.setdefault(key, set()).update(w.days)
    out = [
        TimeWindow(frozenset(days), k[0], k[1], k[2], k[3], k[4]) for k, days in merged.items()
    ]
    order = {d: i for i, d in enumerate(DayType)}
    out.sort(key=lambda w: (min(order[d] for d in w.days), w.start_minute))
    return out


def _zone(
    b: _Builder,
    index: int,
    zone_id: str,
    row: Row,
    area: Row,
    manager: str,
    area_id: str,
    geom: Polygon | MultiPolygon,
    windows: list[TimeWindow],
    has_holiday_frames: bool,
    regulation_ids: list[str],
    regulations: dict[tuple[str, str], Row] | None,
    holiday_dates: frozenset[date] | None,
) -> Zone | None:
    kind_text = _s(row, "kind")
    try:
        if kind_text:
            kind = ZoneKind(kind_text)
        elif any(w.tariff_cents_per_hour > 0 for w in windows):
            kind = ZoneKind.PAID
        elif any(w.max_stay_minutes for w in windows):
            kind = ZoneKind.BLUE
        else:
            kind = ZoneKind.PAID
        fine_track = FineTrack(_s(row, "fine_track")) if _s(row, "fine_track") else None
        priority = int(_s(row, "priority") or "0")
        grace = int(_s(row, "grace_minutes") or "10")
    except ValueError as exc:
        b.problem(index, zone_id, "kind/fine_track/priority/grace_minutes", str(exc))
        return None
    if kind is ZoneKind.PAID:  # free and unlimited = not regulated
        windows = [w for w in windows if w.tariff_cents_per_hour > 0 or w.max_stay_minutes]
    if not windows:
        b.warn(index, zone_id, "schedule", "no regulated time frames: zone is never regulated")
    name = _s(row, "name") or _s(area, "areadesc")
    if not name and regulations is not None and regulation_ids:
        name = _s(regulations.get((manager, regulation_ids[0]), {}), "regulationdesc")
    remote = _s(row, "remote_enforcement_allowed").lower() in {"1", "true", "j", "ja", "yes"}
    permit_types = tuple(p.strip() for p in _s(row, "permit_types").split(";") if p.strip())
    try:
        return Zone(
            id=zone_id,
            name=name or area_id,
            kind=kind,
            area_code=area_id,
            geometry=geom,
            schedule=tuple(windows),
            priority=priority,
            holidays=HolidayPolicy.SCHEDULE if has_holiday_frames else HolidayPolicy.REGULATED,
            holiday_dates=holiday_dates,
            grace_minutes=grace,
            fine_track=fine_track or default_fine_track(kind),
            remote_enforcement_allowed=remote,
            permit_types=permit_types,
        )
    except InvalidZoneError as exc:
        b.problem(index, zone_id, exc.field, f"{exc.value!r}: {exc.why}")
        return None
