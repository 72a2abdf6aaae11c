"""NPR import on the real RDW open-data dumps in ../shared plus the project's geometry file."""

from __future__ import annotations

import csv
import json
import os
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from zones.geojson import load_feature_collection
from zones.geowriter import zones_to_geojson
from zones.index import ZoneIndex
from zones.model import DayType, HolidayPolicy, ZoneKind
from zones.npr import import_npr
from zones.rules import parking_fee_cents, regulation_at

REPO = Path(__file__).resolve().parents[3]
NPR = (REPO / ".." / "shared" / "data" / "npr-opendata").resolve()
GEOMETRY = REPO / "fixtures" / "zones" / "npr_geometry.csv"
AMS = ZoneInfo("Europe/Amsterdam")
ON = date(2026, 3, 2)


def need(path: Path) -> Path:
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"CI needs {path}")
        pytest.skip(f"{path} not present")
    return path


def tables() -> dict[str, Path]:
    need(NPR / "tijdvak.json")
    return {
        "areas": NPR / "gebied.json",
        "regulations": NPR / "regeling.json",
        "time_frames": NPR / "tijdvak.json",
        "fare_calculations": NPR / "tariefberekening.json",
        "fare_parts": NPR / "tariefdeel.json",
    }


@pytest.fixture(scope="module")
def imported() -> dict[str, object]:
    result = import_npr(geometry=GEOMETRY, on=ON, **tables())  # type: ignore[arg-type]
    return {"result": result, "zones": {z.id: z for z in result.zones}}


def local(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=AMS)


def test_npr_import_builds_every_geometry_row(imported: dict[str, object]) -> None:
    zones = imported["zones"]
    assert sorted(zones) == [  # type: ignore[call-overload]
        "141_114100",
        "141_141_STADPL",
        "150_150_NOORD",
        "163_163_HENR",
        "177_BZ2",
    ]


def test_npr_paid_area_with_feestdag_frames(imported: dict[str, object]) -> None:
    zone = imported["zones"]["163_163_HENR"]  # type: ignore[index]
    assert zone.kind is ZoneKind.PAID
    assert zone.area_code == "163_HENR"
    assert zone.holidays is HolidayPolicy.SCHEDULE  # FEESTDAG frames exist (free: dropped)
    (window,) = zone.schedule
    assert window.days == frozenset(DayType) - {DayType.HOLIDAY}
    assert (window.start, window.end) == ("09:00", "21:00")
    assert window.tariff_cents_per_hour == Decimal(125)  # "1,25 per uur"
    assert window.step_minutes == 60
    assert regulation_at(zone, local(2026, 3, 2, 10)).regulated is True
    assert regulation_at(zone, local(2026, 12, 25, 12)).regulated is False  # feestdag free
    assert parking_fee_cents(zone, local(2026, 3, 2, 10), local(2026, 3, 2, 11, 1)) == 250


def test_npr_blue_zone_from_max_duration(imported: dict[str, object]) -> None:
    zone = imported["zones"]["177_BZ2"]  # type: ignore[index]
    assert zone.kind is ZoneKind.BLUE
    assert zone.name == "Blauwe zone 2"
    friday = regulation_at(zone, local(2026, 3, 6, 20))
    assert friday.regulated is True
    assert friday.max_stay_minutes == 120
    assert regulation_at(zone, local(2026, 3, 5, 20)).regulated is False  # Thu ends 18:00
    assert regulation_at(zone, local(2026, 3, 8, 12)).regulated is False  # no Sunday frame


def test_npr_day_tariff_takes_the_newest_fare_part(imported: dict[str, object]) -> None:
    zone = imported["zones"]["141_114100"]  # type: ignore[index]
    assert {w.step_minutes for w in zone.schedule} == {1440}
    assert {w.tariff_cents_per_hour for w in zone.schedule} == {Decimal(25)}  # 6.00 per day
    assert parking_fee_cents(zone, local(2026, 3, 2, 10), local(2026, 3, 2, 12)) == 600
    thursday = regulation_at(zone, local(2026, 3, 5, 19))
    assert thursday.regulated is True
    assert thursday.window is not None
    assert (thursday.window.start, thursday.window.end) == ("18:00", "21:00")


def test_npr_windows_per_time_of_day_and_unsupported_day_types(
    imported: dict[str, object],
) -> None:
    zone = imported["zones"]["150_150_NOORD"]  # type: ignore[index]
    tariffs = {(w.start, w.end): w.tariff_cents_per_hour for w in zone.schedule}
    assert tariffs[("07:00", "22:00")] == Decimal("187.5")  # 0,50 per 16 minutes
    assert tariffs[("00:00", "07:00")] == Decimal(50)
    assert parking_fee_cents(zone, local(2026, 3, 2, 10), local(2026, 3, 2, 10, 20)) == 100
    warnings = [str(w) for w in imported["result"].warnings]  # type: ignore[attr-defined]
    assert any("'KOOPZONDAG' is not supported" in w for w in warnings)
    assert any("150_GAR01" in w and "only the first part" in w for w in warnings)


def test_npr_end_2359_means_end_of_day_and_multipolygon(imported: dict[str, object]) -> None:
    zone = imported["zones"]["141_141_STADPL"]  # type: ignore[index]
    assert zone.geometry.geom_type == "MultiPolygon"
    (window,) = zone.schedule
    assert (window.start, window.end) == ("00:00", "24:00")
    assert regulation_at(zone, local(2026, 3, 2, 23, 59)).regulated is True
    assert regulation_at(zone, local(2026, 3, 8, 12)).regulated is False  # Sunday GRATIS


def test_npr_validity_date_selects_historic_frames() -> None:
    result = import_npr(geometry=GEOMETRY, on=date(2016, 2, 17), area_manager_id="141", **tables())  # type: ignore[arg-type]
    zone = {z.id: z for z in result.zones}["141_114100"]
    monday = [w for w in zone.schedule if DayType.MON in w.days]
    assert [w.max_stay_minutes for w in monday] == [1440]  # TER01 frames, before the change
    assert monday[0].tariff_cents_per_hour == Decimal("13.3333")  # 3.20 per day


def test_npr_geometry_as_json_gives_the_same_zones(tmp_path: Path) -> None:
    with GEOMETRY.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    path = tmp_path / "geometry.json"
    path.write_text(json.dumps(rows))
    a = import_npr(geometry=GEOMETRY, on=ON, **tables())  # type: ignore[arg-type]
    b = import_npr(geometry=path, on=ON, **tables())  # type: ignore[arg-type]
    assert a.zones == b.zones


def test_npr_zones_round_trip_through_geojson_and_index(imported: dict[str, object]) -> None:
    zones = imported["result"].zones  # type: ignore[attr-defined]
    assert load_feature_collection(zones_to_geojson(zones)).zones == zones
    index = ZoneIndex(zones)
    found = index.locate(5.0020, 52.1010)
    assert found is not None
    assert found.id == "163_163_HENR"
