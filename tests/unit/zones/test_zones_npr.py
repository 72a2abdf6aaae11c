"""NPR import rules and bad input, on small in-memory tables in the NPR column layout."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from zones.errors import Problem, ZoneFileError
from zones.model import DayType, HolidayPolicy, ZoneKind
from zones.npr import import_npr
from zones.nprtables import read_table

ON = date(2026, 3, 2)
SQUARE = "POLYGON ((5.0 52.1, 5.004 52.1, 5.004 52.1025, 5.0 52.1025, 5.0 52.1))"
BOWTIE = "POLYGON ((5.0 52.1, 5.004 52.1025, 5.004 52.1, 5.0 52.1025, 5.0 52.1))"
Rows = list[dict[str, Any]]


def frame(
    day: str, start: str, end: str, *, code: str = "T1", max_stay: str = "0", regulation: str = "R1"
) -> dict[str, str]:
    return {
        "areamanagerid": "9999",
        "regulationid": regulation,
        "startdatetimeframe": "20200101000000",
        "enddatetimeframe": "29991231235959",
        "daytimeframe": day,
        "starttimetimeframe": start,
        "endtimetimeframe": end,
        "claimrightpossible": "J",
        "farecalculationcode": code,
        "maxdurationright": max_stay,
    }


def tables(**override: Rows) -> dict[str, Rows]:
    base: dict[str, Rows] = {
        "areas": [{"areamanagerid": "9999", "areaid": "A1"}],
        "geometry": [
            {
                "areamanagerid": "9999",
                "areaid": "A1",
                "areageometryastext": SQUARE,
                "regulationid": "R1",
            }
        ],
        "regulations": [
            {
                "areamanagerid": "9999",
                "regulationid": "R1",
                "regulationdesc": "Centrum ma-za",
                "startdateregulation": "20200101",
                "enddateregulation": "29991231",
            }
        ],
        "time_frames": [
            frame("MAANDAG", "900", "1800"),
            frame("ZATERDAG", "900", "1800"),
            frame("FEESTDAG", "0", "2400", code="FREE"),
        ],
        "fare_calculations": [
            {
                "areamanagerid": "9999",
                "farecalculationcode": "T1",
                "startdatefare": "20200101",
                "enddatefare": "29991231",
            },
            {
                "areamanagerid": "9999",
                "farecalculationcode": "FREE",
                "startdatefare": "20200101",
                "enddatefare": "29991231",
            },
        ],
        "fare_parts": [
            {
                "areamanagerid": "9999",
                "farecalculationcode": "T1",
                "amountfarepart": "0.50",
                "stepsizefarepart": "10",
                "startdurationfarepart": "0",
            },
            {
                "areamanagerid": "9999",
                "farecalculationcode": "FREE",
                "amountfarepart": "0",
                "stepsizefarepart": "1",
                "startdurationfarepart": "0",
            },
        ],
    }
    return base | override


def problems_of(**override: Rows) -> list[Problem]:
    with pytest.raises(ZoneFileError) as info:
        import_npr(on=ON, **tables(**override))  # type: ignore[arg-type]
    return info.value.problems


def test_npr_small_import() -> None:
    result = import_npr(on=ON, **tables())  # type: ignore[arg-type]
    (zone,) = result.zones
    assert zone.id == "9999_A1"
    assert zone.area_code == "A1"
    assert zone.name == "Centrum ma-za"
    assert zone.kind is ZoneKind.PAID
    assert zone.holidays is HolidayPolicy.SCHEDULE
    (window,) = zone.schedule  # Monday and Saturday merged; the free holiday frame dropped
    assert window.days == frozenset({DayType.MON, DayType.SAT})
    assert window.tariff_cents_per_hour == Decimal(300)
    assert window.step_minutes == 10


def test_npr_area_regulation_table_links_areas() -> None:
    geometry = [{"areamanagerid": "9999", "areaid": "A1", "areageometryastext": SQUARE}]
    links = [
        {
            "areamanagerid": "9999",
            "areaid": "A1",
            "regulationid": "R1",
            "startdatearearegulation": "20200101",
            "enddatearearegulation": "29991231",
        }
    ]
    result = import_npr(on=ON, area_regulations=links, **tables(geometry=geometry))  # type: ignore[arg-type]
    assert len(result.zones[0].schedule) == 1


def test_npr_regulation_with_the_area_id_is_used_without_a_link() -> None:
    geometry = [{"areamanagerid": "9999", "areaid": "R1", "areageometryastext": SQUARE}]
    areas = [{"areamanagerid": "9999", "areaid": "R1"}]
    result = import_npr(on=ON, **tables(geometry=geometry, areas=areas))  # type: ignore[arg-type]
    assert result.zones[0].id == "9999_R1"
    assert len(result.zones[0].schedule) == 1


def test_npr_geometry_columns_override_kind_and_name() -> None:
    geometry = [
        {
            "areamanagerid": "9999",
            "areaid": "A1",
            "areageometryastext": SQUARE,
            "regulationid": "R1",
            "kind": "permit",
            "name": "Noord",
            "permit_types": "resident;business",
            "remote_enforcement_allowed": "true",
        }
    ]
    (zone,) = import_npr(on=ON, **tables(geometry=geometry)).zones  # type: ignore[arg-type]
    assert zone.kind is ZoneKind.PERMIT
    assert zone.name == "Noord"
    assert zone.permit_types == ("resident", "business")
    assert zone.remote_enforcement_allowed is True
    assert len(zone.schedule) == 2  # permit zone keeps the free holiday frame


def test_npr_midnight_frame_and_2359_end() -> None:
    frames = [frame("VRIJDAG", "2200", "200"), frame("ZATERDAG", "900", "2359")]
    (zone,) = import_npr(on=ON, **tables(time_frames=frames)).zones  # type: ignore[arg-type]
    spans = sorted((w.start, w.end) for w in zone.schedule)
    assert spans == [("09:00", "24:00"), ("22:00", "02:00")]


def test_npr_reads_csv_with_semicolons(tmp_path: Path) -> None:
    path = tmp_path / "geometry.csv"
    path.write_text(
        f'AreaManagerId;AreaId;AreaGeometryAsText;RegulationId\n9999;A1;"{SQUARE}";R1\n'
    )
    rows = read_table(path)
    assert rows == [
        {
            "areamanagerid": "9999",
            "areaid": "A1",
            "areageometryastext": SQUARE,
            "regulationid": "R1",
        }
    ]


def test_npr_fix_repairs_invalid_wkt() -> None:
    geometry = [
        {
            "areamanagerid": "9999",
            "areaid": "A1",
            "areageometryastext": BOWTIE,
            "regulationid": "R1",
        }
    ]
    result = import_npr(on=ON, fix=True, **tables(geometry=geometry))  # type: ignore[arg-type]
    assert result.zones[0].geometry.is_valid
    assert "self-intersection" in result.repairs[0].message


def g(wkt: str = SQUARE, areaid: str = "A1", **extra: str) -> dict[str, str]:
    return {
        "areamanagerid": "9999",
        "areaid": areaid,
        "areageometryastext": wkt,
        "regulationid": "R1",
    } | extra


BAD: list[tuple[str, dict[str, Rows], str, str]] = [
    ("unknown area", {"geometry": [g(areaid="B9")]}, "areaid", "not in the areas table"),
    ("bad wkt", {"geometry": [g("POLYGON ((5 52, 5.1")]}, "areageometryastext", "not valid WKT"),
    (
        "point wkt",
        {"geometry": [g("POINT (5 52)")]},
        "areageometryastext",
        "allowed: POLYGON, MULTIPOLYGON",
    ),
    ("empty wkt", {"geometry": [g("")]}, "areageometryastext", "missing WKT"),
    (
        "self-intersection",
        {"geometry": [g(BOWTIE)]},
        "areageometryastext",
        "self-intersection at lon 5.002",
    ),
    (
        "RD New wkt",
        {"geometry": [g("POLYGON ((85000 446000, 85100 446000, 85100 446100, 85000 446000))")]},
        "areageometryastext",
        "look like RD New metres",
    ),
    (
        "no regulation",
        {"geometry": [g(regulationid="")]},
        "regulationid",
        "no regulation for this area",
    ),
    (
        "fare code without parts",
        {"time_frames": [frame("MAANDAG", "900", "1800", code="NOPE")]},
        "tijdvak[R1 MAANDAG 900]",
        "'NOPE' has no fare parts",
    ),
    (
        "bad time",
        {"time_frames": [frame("MAANDAG", "960", "1800")]},
        "tijdvak[R1 MAANDAG 960]",
        "not an HHMM time",
    ),
    (
        "overlapping frames",
        {"time_frames": [frame("MAANDAG", "900", "1800"), frame("MAANDAG", "1700", "2000")]},
        "schedule",
        "must not overlap",
    ),
    ("duplicate area", {"geometry": [g(), g()]}, "areaid", "duplicate area; first in row 0"),
]


@pytest.mark.parametrize(
    ("override", "field", "message"), [pytest.param(o, f, m, id=n) for n, o, f, m in BAD]
)
def test_npr_bad_input_names_row_and_field(
    override: dict[str, Rows], field: str, message: str
) -> None:
    problems = problems_of(**override)
    assert any(p.field == field and message in p.message for p in problems), [
        str(p) for p in problems
    ]
    assert all(p.feature_id is None or p.feature_id.startswith("9999_") for p in problems)


def test_npr_missing_geometry_columns() -> None:
    (problem,) = problems_of(geometry=[{"areamanagerid": "9999", "areaid": "A1"}])
    assert "missing column(s) areageometryastext" in problem.message


def test_npr_import_is_all_or_nothing() -> None:
    problems = problems_of(geometry=[g(), g("POINT (5 52)", areaid="A1", zone_id="second")])
    assert [p.feature_index for p in problems] == [1]


def test_npr_table_not_in_utf8_is_a_zone_file_error(tmp_path: Path) -> None:
    """An NPR table saved by a spreadsheet in Windows-1252 is a problem naming the file, not a
    UnicodeDecodeError traceback."""
    path = tmp_path / "GEOMETRIEGEBIED.csv"
    path.write_bytes("areamanagerid;areaid;omschrijving\n363;1;Café-terrein\n".encode("cp1252"))
    with pytest.raises(ZoneFileError) as err:
        read_table(path)
    (problem,) = err.value.problems
    assert (problem.field, problem.code, problem.values) == (
        "file",
        "file_not_utf8",
        {"path": str(path)},
    )
    with pytest.raises(ZoneFileError) as gone:
        read_table(tmp_path / "nope.csv")
    assert gone.value.problems[0].code == "file_unreadable"
