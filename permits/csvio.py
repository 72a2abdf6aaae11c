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
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TextIO, TypeVar

from permits.errors import CsvImportError, CsvRowError, PermitsError
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


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(SEPARATOR) if part.strip()]


def _parse_time(line: int, column: str, value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise CsvRowError(
            line, column, f"{value!r} is not an ISO 8601 time such as 2026-01-01T00:00:00+01:00"
        ) from None
    if parsed.utcoffset() is None:
        raise CsvRowError(line, column, f"{value!r} has no UTC offset; add one, e.g. +01:00 or Z")
    return parsed


_E = TypeVar("_E", PermitType, PermitStatus)


def _parse_enum(line: int, column: str, value: str, enum_type: type[_E]) -> _E:
    try:
        return enum_type(value.strip().lower())
    except ValueError:
        allowed = ", ".join(m.value for m in enum_type)
        raise CsvRowError(line, column, f"{value!r} is not allowed; allowed: {allowed}") from None


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
    valid_to = _parse_time(line, "valid_to", valid_to_text) if valid_to_text else None
    plates: list[str] = []
    for raw in _split(get.get("plates", "")):
        try:
            plates.append(normalise_plate(raw))
        except PermitsError as exc:
            raise CsvRowError(line, "plates", str(exc)) from None
    if len(set(plates)) != len(plates):
        raise CsvRowError(line, "plates", f"a plate is listed twice: {';'.join(plates)}")
    budget_text = get.get("visitor_budget_minutes", "")
    budget: int | None = None
    if budget_text:
        if not budget_text.isdigit():
            raise CsvRowError(
                line, "visitor_budget_minutes", f"{budget_text!r} is not a whole number >= 0"
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
    reader = csv.DictReader(stream)
    header = reader.fieldnames or []
    missing = sorted(REQUIRED_COLUMNS - set(header))
    unknown = sorted(set(header) - set(COLUMNS))
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"missing columns {', '.join(missing)}")
        if unknown:
            parts.append(f"unknown columns {', '.join(unknown)}")
        raise CsvImportError(
            [CsvRowError(1, None, "; ".join(parts) + f"; expected: {','.join(COLUMNS)}")]
        )
    permits: list[CsvPermit] = []
    errors: list[CsvRowError] = []
    first_line: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if None in row:
            errors.append(CsvRowError(line, None, f"more fields than the {len(header)} columns"))
            continue
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
                    f"permit id {permit.id!r} already used on line {first_line[permit.id]}",
                )
            )
            continue
        first_line[permit.id] = line
        permits.append(CsvPermit(line, permit))
    if errors:
        raise CsvImportError(errors)
    return permits


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
