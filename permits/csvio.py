"""CSV import and export of permits (first load of a municipality's permits, and back out).

Columns (header required, order free)::

    id,type,holder_ref,plates,area_codes,valid_from,valid_to,status,visitor_budget_minutes

- ``plates`` and ``area_codes``: several values separated by ``;``. Plates are normalised
  ("gz-123-t" -> "GZ123T"). ``area_codes`` may be empty only for disabled and exemption permits
  (city-wide); ``plates`` must be empty for visitor permits.
- ``valid_from`` / ``valid_to``: ISO 8601 with a UTC offset (``2026-01-01T00:00:00+01:00``);
  ``valid_to`` empty means open-ended.
- ``status`` empty means ``active``; ``visitor_budget_minutes`` only for visitor permits.

Import is all or nothing: every bad row is reported with its line number (the header is line 1)
and nothing is returned unless all rows are good. Export writes the plates currently registered
(the plate history stays in the database).

Files as spreadsheet programs save them are read too (``decode_csv`` for the bytes): a UTF-8
byte-order mark, UTF-16 ("Unicode text"), Windows-1252 (Excel's "CSV (comma delimited)" on a
Dutch Windows), ``;`` or tab as the separator (read from the header line), header names in any
case with spaces for underscores, several plates or area codes separated by ``;`` or ``,``
inside one cell, and dates without a time (``2026-01-01`` or ``1-1-2026``: ``valid_from`` from
00:00, ``valid_to`` to the end of that day, Europe/Amsterdam). Messages quote the file's own
values and name its columns.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TextIO, TypeVar
from zoneinfo import ZoneInfo

from permits.errors import (
    CsvEncodingError,
    CsvImportError,
    CsvRowError,
    InvalidPermitError,
    PermitsError,
)
from permits.model import Permit, PermitStatus, PermitType, PlatePeriod
from permits.plates import normalise_plate

COLUMNS: tuple[str, ...] = (
    "id",
    "type",
    "holder_ref",
    "plates",
    "area_codes",
    "valid_from",
    "valid_to",
    "status",
    "visitor_budget_minutes",
)
REQUIRED_COLUMNS = frozenset({"id", "type", "holder_ref", "plates", "area_codes", "valid_from"})
SEPARATOR = ";"
LOCAL = ZoneInfo("Europe/Amsterdam")  # dates without a time are local days
_VALUE_SEPARATORS = re.compile(r"[;,]")
_DUTCH_DATE = re.compile(r"^(\d{1,2})-(\d{1,2})-(\d{4})$")
# the domain's field names as the file's columns
_FIELD_COLUMNS = {"start": "valid_from", "end": "valid_to", "plate_periods": "plates"}
SAVE_AS = (
    "save it from the spreadsheet program as 'CSV UTF-8 (comma delimited)' "
    "(Excel: File > Save As > CSV UTF-8)"
)


def decode_csv(data: bytes) -> str:
    """The text of a CSV file as spreadsheet programs save it: UTF-8 (with or without a
    byte-order mark), UTF-16 with a byte-order mark, or Windows-1252; else
    ``CsvEncodingError`` saying how to save the file."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise CsvEncodingError(f"the file is damaged UTF-16 text; {SAVE_AS}") from None
    if b"\x00" in data:
        raise CsvEncodingError(f"the file is not a text file (it holds NUL bytes); {SAVE_AS}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise CsvEncodingError(
            f"line {line}: byte 0x{data[exc.start]:02x} is neither UTF-8 nor Windows-1252 text; "
            f"{SAVE_AS}"
        ) from None


def _quoted(value: str) -> str:
    return f'"{value}"'


def _split(value: str) -> list[str]:
    return [part.strip() for part in _VALUE_SEPARATORS.split(value) if part.strip()]


def _parse_time(line: int, column: str, value: str, *, is_end: bool = False) -> datetime:
    day = _parse_date(value)
    if day is not None:  # a whole local day: from its start, or to its end
        return datetime.combine(day + timedelta(days=1 if is_end else 0), time(), LOCAL)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise CsvRowError(
            line,
            column,
            f"{_quoted(value)} is not a date or time; write 2026-01-01, 1-1-2026 or "
            "2026-01-01T00:00:00+01:00",
        ) from None
    if parsed.utcoffset() is None:
        raise CsvRowError(
            line, column, f"{_quoted(value)} has no UTC offset; add one, e.g. +01:00 or Z"
        )
    return parsed


def _parse_date(value: str) -> date | None:
    try:
        if len(value) == 10 and value[4] == "-":
            return date.fromisoformat(value)
        match = _DUTCH_DATE.match(value)
        if match:
            day, month, year = (int(g) for g in match.groups())
            return date(year, month, day)
    except ValueError:
        return None
    return None


_E = TypeVar("_E", PermitType, PermitStatus)


def _parse_enum(line: int, column: str, value: str, enum_type: type[_E]) -> _E:
    try:
        return enum_type(value.strip().lower())
    except ValueError:
        allowed = ", ".join(m.value for m in enum_type)
        raise CsvRowError(
            line, column, f"{_quoted(value)} is not allowed; allowed: {allowed}"
        ) from None


def _parse_row(line: int, row: dict[str, str]) -> Permit:
    get = {k: (v or "").strip() for k, v in row.items() if k is not None}
    permit_type = _parse_enum(line, "type", get.get("type", ""), PermitType)
    status_text = get.get("status", "")
    status = (
        _parse_enum(line, "status", status_text, PermitStatus)
        if status_text
        else PermitStatus.ACTIVE
    )
    valid_from = _parse_time(line, "valid_from", get.get("valid_from", ""))
    valid_to_text = get.get("valid_to", "")
    valid_to = _parse_time(line, "valid_to", valid_to_text, is_end=True) if valid_to_text else None
    plates: list[str] = []
    for raw in _split(get.get("plates", "")):
        try:
            plates.append(normalise_plate(raw))
        except PermitsError as exc:
            raise CsvRowError(line, "plates", str(exc)) from None
    if len(set(plates)) != len(plates):
        raise CsvRowError(line, "plates", f"a plate is listed twice: {_quoted(get['plates'])}")
    budget_text = get.get("visitor_budget_minutes", "")
    budget: int | None = None
    if budget_text:
        if not budget_text.isdigit():
            raise CsvRowError(
                line,
                "visitor_budget_minutes",
                f"{_quoted(budget_text)} is not a whole number of minutes (0 or more)",
            )
        budget = int(budget_text)
    try:
        return Permit(
            id=get.get("id", ""),
            type=permit_type,
            holder_ref=get.get("holder_ref", ""),
            plate_periods=tuple(PlatePeriod(p, valid_from) for p in plates),
            area_codes=frozenset(_split(get.get("area_codes", ""))),
            valid_from=valid_from,
            valid_to=valid_to,
            status=status,
            visitor_budget_minutes=budget,
        )
    except InvalidPermitError as exc:
        column = _FIELD_COLUMNS.get(exc.field, exc.field)
        if column not in COLUMNS:
            raise CsvRowError(line, None, exc.why) from None
        raw = get.get(column, "")
        raise CsvRowError(line, column, f"{_quoted(raw)}: {exc.why}" if raw else exc.why) from None
    except PermitsError as exc:
        raise CsvRowError(line, getattr(exc, "field", None), str(exc)) from None


@dataclass(frozen=True, slots=True)
class CsvPermit:
    """A permit read from CSV with its line number (the header is line 1)."""

    line: int
    permit: Permit


def read_permits_csv(stream: TextIO | Iterable[str]) -> list[Permit]:
    """All permits of a CSV file, or ``CsvImportError`` listing every bad row (none imported)."""
    return [row.permit for row in read_permit_rows(stream)]


def read_permit_rows(stream: TextIO | Iterable[str]) -> list[CsvPermit]:
    """Like ``read_permits_csv``, with each permit's line number (for later per-line checks,
    such as the area quota on import)."""
    lines = _lines(stream)
    first = next(lines, "")
    delimiter = _delimiter(first)
    reader = csv.reader(_chain(first, lines), delimiter=delimiter)
    raw_header = next(reader, [])
    header = [_column_key(name) for name in raw_header]
    _check_header(raw_header, header, delimiter)
    permits: list[CsvPermit] = []
    errors: list[CsvRowError] = []
    first_line: dict[str, int] = {}
    for fields in reader:
        line = reader.line_num
        if not any(f.strip() for f in fields):
            continue  # spreadsheet programs leave empty rows (;;;;;) at the end
        if len(fields) > len(header) and any(f.strip() for f in fields[len(header) :]):
            errors.append(CsvRowError(line, None, f"more fields than the {len(header)} columns"))
            continue
        row = dict(zip(header, fields, strict=False))
        try:
            permit = _parse_row(line, row)
        except CsvRowError as exc:
            errors.append(exc)
            continue
        if permit.id in first_line:
            errors.append(
                CsvRowError(
                    line,
                    "id",
                    f"permit id {_quoted(permit.id)} already used on line {first_line[permit.id]}",
                )
            )
            continue
        first_line[permit.id] = line
        permits.append(CsvPermit(line, permit))
    if errors:
        raise CsvImportError(errors)
    return permits


def _lines(stream: TextIO | Iterable[str]) -> Iterator[str]:
    for i, text in enumerate(stream):
        yield text.removeprefix("\ufeff") if i == 0 else text


def _chain(first: str, rest: Iterator[str]) -> Iterator[str]:
    if first:
        yield first
    yield from rest


def _delimiter(header_line: str) -> str:
    """The separator of the header line (no column name holds one): ``,``, ``;`` or tab."""
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


def _column_key(name: str) -> str:
    return name.strip().lower().replace(" ", "_").replace("-", "_")


def _check_header(raw: list[str], header: list[str], delimiter: str) -> None:
    missing = sorted(REQUIRED_COLUMNS - set(header))
    unknown = [
        name.strip() for name, key in zip(raw, header, strict=True) if key and key not in COLUMNS
    ]
    doubled = sorted({key for key in header if key and header.count(key) > 1})
    if not (missing or unknown or doubled):
        return
    parts = []
    if missing:
        parts.append(f"missing columns {', '.join(missing)}")
    if unknown:
        parts.append(f"unknown columns {', '.join(_quoted(u) for u in unknown)}")
    if doubled:
        parts.append(f"columns given twice: {', '.join(doubled)}")
    hint = f"; expected: {','.join(COLUMNS)}"
    if len(raw) == 1 and delimiter == ",":
        hint += " (separated by ',' or ';')"
    raise CsvImportError([CsvRowError(1, None, "; ".join(parts) + hint)])


def write_permits_csv(permits: Iterable[Permit], out: TextIO) -> int:
    """Write ``permits`` as CSV (header first); returns the number of rows written."""
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    count = 0
    for permit in permits:
        writer.writerow(
            {
                "id": permit.id,
                "type": permit.type.value,
                "holder_ref": permit.holder_ref,
                "plates": SEPARATOR.join(sorted(permit.open_plates)),
                "area_codes": SEPARATOR.join(sorted(permit.area_codes)),
                "valid_from": permit.valid_from.isoformat(),
                "valid_to": "" if permit.valid_to is None else permit.valid_to.isoformat(),
                "status": permit.status.value,
                "visitor_budget_minutes": (
                    "" if permit.visitor_budget_minutes is None else permit.visitor_budget_minutes
                ),
            }
        )
        count += 1
    return count


def unknown_area_codes(rows: Iterable[CsvPermit], known: Iterable[str]) -> list[CsvRowError]:
    """A ``CsvRowError`` for each row naming an area code that matches no zone (``known``:
    the area codes of the current zone set)."""
    known_codes = frozenset(known)
    errors = []
    for row in rows:
        unknown = sorted(row.permit.area_codes - known_codes)
        if unknown:
            names = ", ".join(_quoted(code) for code in unknown)
            errors.append(
                CsvRowError(row.line, "area_codes", f"{names} matches no zone's area code")
            )
    return errors
