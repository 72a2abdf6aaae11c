"""CSV import / export of permits: row-numbered errors, all or nothing, round trip."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta, timezone

import pytest

from permits.csvio import COLUMNS, read_permits_csv, write_permits_csv
from permits.errors import CsvImportError
from permits.model import PermitStatus, PermitType, PlatePeriod

HEADER = ",".join(COLUMNS)
GOOD = [
    "P1,resident,H1,gz-123-t,A1,2026-01-01T00:00:00+01:00,,active,",
    "P2,business,H2,XX99XX;YY11YY,A1;B2,2026-01-01T00:00:00Z,2027-01-01T00:00:00Z,,",
    "P3,visitor,H3,,A1,2026-01-01T00:00:00Z,,active,600",
    "P4,disabled,H4,AB12CD,,2026-01-01T00:00:00Z,,granted,",
]


def _csv(*rows: str, header: str = HEADER) -> io.StringIO:
    return io.StringIO("\n".join([header, *rows]) + "\n")


def test_read_permits_csv_parses_good_rows() -> None:
    permits = read_permits_csv(_csv(*GOOD))
    assert [p.id for p in permits] == ["P1", "P2", "P3", "P4"]
    p1, p2, p3, p4 = permits
    assert p1.plate_periods == (
        PlatePeriod("GZ123T", datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=1)))),
    )
    assert (p1.status, p1.valid_to) == (PermitStatus.ACTIVE, None)
    assert p2.open_plates == {"XX99XX", "YY11YY"}
    assert p2.area_codes == {"A1", "B2"}
    assert p2.valid_to == datetime(2027, 1, 1, tzinfo=UTC)
    assert p2.status is PermitStatus.ACTIVE  # empty status means active
    assert (p3.type, p3.visitor_budget_minutes, p3.plate_periods) == (PermitType.VISITOR, 600, ())
    assert (p4.is_city_wide, p4.status) == (True, PermitStatus.GRANTED)


BAD_ROWS = [
    ("P9,parking,H,AB12CD,A1,2026-01-01T00:00:00Z,,,", "type", "allowed: resident"),
    ("P9,resident,H,AB-12!CD,A1,2026-01-01T00:00:00Z,,,", "plates", "'!'"),
    ("P9,resident,H,AB12CD,A1,2026-01-01T00:00:00,,,", "valid_from", "no UTC offset"),
    ("P9,resident,H,AB12CD,A1,1 jan 2026,,,", "valid_from", "not an ISO 8601"),
    ("P9,resident,H,AB12CD,A1,2026-01-01T00:00:00Z,2025-01-01T00:00:00Z,,", "end", "before start"),
    ("P9,resident,H,AB12CD,,2026-01-01T00:00:00Z,,,", "area_codes", "at least one area"),
    ("P9,resident,H,,A1,2026-01-01T00:00:00Z,,,", "plate_periods", "at least one plate"),
    ("P9,resident,,AB12CD,A1,2026-01-01T00:00:00Z,,,", "holder_ref", "needs a holder"),
    ("P9,resident,H,AB12CD,A1,2026-01-01T00:00:00Z,,sleeping,", "status", "allowed: applied"),
    ("P9,visitor,H,,A1,2026-01-01T00:00:00Z,,,-5", "visitor_budget_minutes", "whole number"),
    ("P9,resident,H,AB12CD;ab-12-cd,A1,2026-01-01T00:00:00Z,,,", "plates", "listed twice"),
    ("P9,resident,H,AB12CD,A1,2026-01-01T00:00:00Z,,,,extra", None, "more fields"),
    ("P1,resident,H,AB12CD,A1,2026-01-01T00:00:00Z,,,", "id", "already used on line 2"),
]


@pytest.mark.parametrize(("row", "column", "match"), BAD_ROWS)
def test_read_permits_csv_reports_bad_row_with_line_and_imports_nothing(
    row: str, column: str | None, match: str
) -> None:
    with pytest.raises(CsvImportError) as info:
        read_permits_csv(_csv(*GOOD, row))
    (error,) = info.value.errors
    assert (error.line, error.column) == (len(GOOD) + 2, column)
    assert match in str(error)
    assert f"line {len(GOOD) + 2}" in str(info.value)
    assert "nothing imported" in str(info.value)


def test_read_permits_csv_reports_every_bad_row() -> None:
    rows = [GOOD[0], BAD_ROWS[0][0], GOOD[1], BAD_ROWS[1][0].replace("P9", "P8")]
    with pytest.raises(CsvImportError) as info:
        read_permits_csv(_csv(*rows))
    assert [e.line for e in info.value.errors] == [3, 5]


@pytest.mark.parametrize(
    ("header", "match"),
    [
        ("id,type,holder_ref,plates,valid_from", "missing columns area_codes"),
        (HEADER + ",colour", "unknown columns colour"),
    ],
)
def test_read_permits_csv_checks_header(header: str, match: str) -> None:
    with pytest.raises(CsvImportError, match=match) as info:
        read_permits_csv(_csv(header=header))
    assert info.value.errors[0].line == 1


def test_write_then_read_round_trips() -> None:
    permits = read_permits_csv(_csv(*GOOD))
    out = io.StringIO()
    assert write_permits_csv(permits, out) == 4
    assert out.getvalue().splitlines()[0] == HEADER
    again = read_permits_csv(io.StringIO(out.getvalue()))
    assert again == permits
