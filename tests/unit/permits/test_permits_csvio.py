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
    ("P9,resident,H,AB12CD,A1,1 jan 2026,,,", "valid_from", '"1 jan 2026" is not a date'),
    (
        "P9,resident,H,AB12CD,A1,2026-01-01T00:00:00Z,2025-01-01T00:00:00Z,,",
        "valid_to",
        '"2025-01-01T00:00:00Z": must not be before start',
    ),
    ("P9,resident,H,AB12CD,,2026-01-01T00:00:00Z,,,", "area_codes", "at least one area"),
    ("P9,resident,H,,A1,2026-01-01T00:00:00Z,,,", "plates", "at least one plate"),
    ("P9,resident,,AB12CD,A1,2026-01-01T00:00:00Z,,,", "holder_ref", "needs a holder"),
    ("P9,resident,H,AB12CD,A1,2026-01-01T00:00:00Z,,sleeping,", "status", "allowed: applied"),
    ("P9,visitor,H,,A1,2026-01-01T00:00:00Z,,,-5", "visitor_budget_minutes", "whole number"),
    ("P9,resident,H,AB12CD;ab-12-cd,A1,2026-01-01T00:00:00Z,,,", "plates", "listed twice"),
    ("P9,resident,H,AB12CD,A1,2026-01-01T00:00:00Z,,,,extra", None, "more fields"),
    ("P1,resident,H,AB12CD,A1,2026-01-01T00:00:00Z,,,", "id", "already used on line 2"),
    # values the database cannot hold (permits.bounds)
    ("P9,resident,H,AB12CD,A1,0001-01-01T00:00:00+01:00,,,", "valid_from", "from 1970-01-01"),
    (
        "P9,resident,H,AB12CD,A1,2026-01-01T00:00:00Z,9999-12-31T23:59:59-01:00,,",
        "valid_to",
        "up to 2100-01-01",
    ),
    ("P9,resident,H,AB12CD,A1,1-1-1969,,,", "valid_from", "from 1970-01-01"),
    ("P9,resident," + "H" * 129 + ",AB12CD,A1,2026-01-01T00:00:00Z,,,", "holder_ref", "128"),
    ("P" * 65 + ",resident,H,AB12CD,A1,2026-01-01T00:00:00Z,,,", "id", "at most 64"),
    ("P9,resident,H,AB12CD," + "A" * 65 + ",2026-01-01T00:00:00Z,,,", "area_codes", "64"),
    (
        "P9,resident,H,AB12CD,"
        + ";".join(f"{i:03d}" + "A" * 60 for i in range(40))
        + ",2026-01-01T00:00:00Z,,,",
        "area_codes",
        "2000 characters together",
    ),
    ("P9,visitor,H,,A1,2026-01-01T00:00:00Z,,,99999999999", "visitor_budget_minutes", "at most"),
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
        (HEADER + ",colour", 'unknown columns "colour"'),
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


# ---------------------------------------------------------------- files as spreadsheets save them
SPREADSHEET_ROWS = [
    "Id;Type;Holder ref;Plates;Area codes;Valid from;Valid to;Status;Visitor budget minutes",
    "R-1;resident;Müller-Ødegård;gz-123-t;A1;1-1-2026;31-12-2026;;",
    'B-2;business;Café "De Zon";"XX99XX;YY11YY";A1, B2;2026-01-01T00:00:00+01:00;;active;',
    ";;;;;;;;",
]


def _read_bytes(data: bytes):
    from permits.csvio import decode_csv, read_permit_rows

    return read_permit_rows(io.StringIO(decode_csv(data), newline=""))


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: text.encode("utf-8"),
        lambda text: b"\xef\xbb\xbf" + text.encode("utf-8"),  # Excel's "CSV UTF-8"
        lambda text: text.encode("cp1252"),  # Excel's "CSV (comma delimited)" on Windows
        lambda text: text.encode("utf-16"),  # "Unicode text" (with a byte-order mark)
    ],
    ids=["utf8", "utf8-bom", "cp1252", "utf16"],
)
def test_read_permits_csv_reads_spreadsheet_files(encode) -> None:
    rows = _read_bytes(encode("\r\n".join(SPREADSHEET_ROWS) + "\r\n"))
    assert [(r.line, r.permit.id) for r in rows] == [(2, "R-1"), (3, "B-2")]
    r1, b2 = (r.permit for r in rows)
    assert r1.holder_ref == "Müller-Ødegård"
    amsterdam = timezone(timedelta(hours=1))
    assert r1.valid_from == datetime(2026, 1, 1, tzinfo=amsterdam)
    assert r1.valid_to == datetime(2027, 1, 1, tzinfo=amsterdam)  # to the end of 31-12-2026
    assert b2.holder_ref == 'Café "De Zon"'
    assert b2.open_plates == {"XX99XX", "YY11YY"}
    assert b2.area_codes == {"A1", "B2"}


def test_decode_csv_refuses_other_encodings_with_how_to_save() -> None:
    from permits.csvio import decode_csv
    from permits.errors import CsvEncodingError

    with pytest.raises(CsvEncodingError) as err:
        decode_csv(b"id,type\nP1,res\x81dent\n")
    assert str(err.value) == (
        "line 2: byte 0x81 is neither UTF-8 nor Windows-1252 text; save it from the "
        "spreadsheet program as 'CSV UTF-8 (comma delimited)' (Excel: File > Save As > CSV UTF-8)"
    )
    with pytest.raises(CsvEncodingError, match="not a text file"):
        decode_csv(b"PK\x03\x04\x00\x00xlsx")


def test_read_permits_csv_messages_quote_the_files_values() -> None:
    text = "\n".join(
        [
            SPREADSHEET_ROWS[0],
            "R-1;Bewoner;H1;GZ123T;A1;01/01/2026;;;",
            "R-2;resident;H1;GZ123T;A1;2026-01-01;;slapend;",
        ]
    )
    with pytest.raises(CsvImportError) as err:
        read_permits_csv(io.StringIO(text))
    assert [str(e) for e in err.value.errors] == [
        "line 2, column 'type': \"Bewoner\" is not allowed; allowed: resident, business, "
        "visitor, care, disabled, exemption",
        "line 3, column 'status': \"slapend\" is not allowed; allowed: "
        + ", ".join(s.value for s in PermitStatus),
    ]
