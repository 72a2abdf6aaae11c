"""The RDW / NPR open-data tables read and indexed for an import (adapter): a table from a
JSON array or a CSV file (``,``, ``;`` or tab), its rows' cells, validity on a date, and the
tables joined by area manager and area, filtered to the day of the import. ``zones.npr`` turns
them into zones."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zones.errors import (
    Problem,
    ProblemCode,
    ZoneFileError,
)
from zones.model import MINUTES_PER_DAY
from zones.textfile import parse_json, read_text

Row = dict[str, Any]
Table = Path | str | Iterable[Row]

FAR_FUTURE = "29991231"


def read_table(source: Table) -> list[Row]:
    """Rows of an NPR table: a JSON array of objects or a CSV file (`,` or `;`), or rows."""
    if not isinstance(source, str | Path):
        return [lower_keys(r) for r in source]
    path = Path(source)
    text = read_text(path, "utf-8-sig")
    stripped = text.lstrip()
    if stripped.startswith("["):
        rows = parse_json(text, str(path))
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise ZoneFileError(
                [
                    Problem(
                        None,
                        None,
                        "file",
                        f"{path}: expected a JSON array",
                        code=ProblemCode.NPR_NOT_ARRAY,
                        values={"path": str(path)},
                    )
                ]
            )
        return [lower_keys(r) for r in rows]
    dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t") if text.strip() else csv.excel
    return [lower_keys(r) for r in csv.DictReader(io.StringIO(text), dialect=dialect)]


def lower_keys(row: Row) -> Row:
    return {str(k).strip().lower(): v for k, v in row.items()}


def cell(row: Row, key: str) -> str:
    value = row.get(key)
    return "" if value is None else str(value).strip()


def valid_on(start: str, end: str, day: str) -> bool:
    """`start`/`end` are NPR dates (YYYYMMDD or YYYYMMDDHHMMSS); `day` is YYYYMMDD."""
    start = (start or "00000000")[:8]
    end = (end or FAR_FUTURE)[:8]
    return start <= day < end


def frame_valid_on(row: Row, moment: str) -> bool:
    """Time frames change at a time of day; `moment` is YYYYMMDDHHMMSS (noon of `on`)."""
    start = cell(row, "startdatetimeframe").ljust(14, "0")
    end = (
        cell(row, "enddatetimeframe").ljust(14, "0") if cell(row, "enddatetimeframe") else "9" * 14
    )
    return start <= moment < end


def clock_minutes(value: str, *, is_end: bool) -> int:
    number = int(value)
    hours, minutes = divmod(number, 100)
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise ValueError(f"{value!r} is not an HHMM time")
    minute = hours * 60 + minutes
    if is_end and minute in (0, MINUTES_PER_DAY - 1):  # 0 and 2359 mean end of day
        return MINUTES_PER_DAY
    return minute


def current_fare_parts(rows: list[Row], day: str) -> dict[tuple[str, str], list[Row]]:
    by_code: dict[tuple[str, str], dict[int, Row]] = defaultdict(dict)
    for row in rows:
        if ("startdatefarepart" in row or "enddatefarepart" in row) and not valid_on(
            cell(row, "startdatefarepart"), cell(row, "enddatefarepart"), day
        ):
            continue
        key = (cell(row, "areamanagerid"), cell(row, "farecalculationcode"))
        try:
            start = int(cell(row, "startdurationfarepart") or "0")
        except ValueError:
            start = 0
        by_code[key][start] = row  # later rows win: the dump lists versions oldest first
    return {k: [v[s] for s in sorted(v)] for k, v in by_code.items()}


@dataclass(frozen=True)
class Tables:
    """The NPR tables, indexed for the join and filtered to the date of the import."""

    areas: dict[tuple[str, str], Row]
    regulations: dict[tuple[str, str], Row] | None
    links: dict[tuple[str, str], list[str]]
    frames: dict[tuple[str, str], list[Row]] | None
    calcs: dict[tuple[str, str], Row] | None
    parts: dict[tuple[str, str], list[Row]] | None


def index_tables(
    day: str,
    *,
    areas: list[Row],
    regulations: list[Row] | None,
    frames: list[Row] | None,
    calcs: list[Row] | None,
    parts: list[Row] | None,
    links: list[Row] | None,
) -> Tables:
    moment = day + "120000"
    link_map: dict[tuple[str, str], list[str]] = defaultdict(list)
    for row in links or []:
        if valid_on(cell(row, "startdatearearegulation"), cell(row, "enddatearearegulation"), day):
            link_map[(cell(row, "areamanagerid"), cell(row, "areaid"))].append(
                cell(row, "regulationid")
            )
    frame_map: dict[tuple[str, str], list[Row]] | None = None
    if frames is not None:
        frame_map = defaultdict(list)
        for row in frames:
            if frame_valid_on(row, moment):
                frame_map[(cell(row, "areamanagerid"), cell(row, "regulationid"))].append(row)
    return Tables(
        areas={
            (cell(r, "areamanagerid"), cell(r, "areaid")): r
            for r in areas
            if "startdatearea" not in r
            or valid_on(cell(r, "startdatearea"), cell(r, "enddatearea"), day)
        },
        regulations=None
        if regulations is None
        else {(cell(r, "areamanagerid"), cell(r, "regulationid")): r for r in regulations},
        links=link_map,
        frames=frame_map,
        calcs=None
        if calcs is None
        else {
            (cell(r, "areamanagerid"), cell(r, "farecalculationcode")): r
            for r in calcs
            if valid_on(cell(r, "startdatefare"), cell(r, "enddatefare"), day)
        },
        parts=None if parts is None else current_fare_parts(parts, day),
    )


def check_geometry_columns(rows: list[Row]) -> None:
    if not rows:
        raise ZoneFileError(
            [
                Problem(
                    None,
                    None,
                    "geometry",
                    "empty; at least one area row",
                    code=ProblemCode.NPR_NO_ROWS,
                )
            ]
        )
    missing = {"areamanagerid", "areaid", "areageometryastext"} - set(rows[0])
    if missing:
        message = (
            f"missing column(s) {', '.join(sorted(missing))}; the NPR geometry table has "
            "areamanagerid, areaid, areageometryastext"
        )
        raise ZoneFileError(
            [
                Problem(
                    None,
                    None,
                    "geometry",
                    message,
                    code=ProblemCode.NPR_COLUMNS_MISSING,
                    values={"columns": ", ".join(sorted(missing))},
                )
            ]
        )
