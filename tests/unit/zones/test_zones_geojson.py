from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from fixtures.zones.make_town import town_zones
from zones.crs import RD_NEW, WGS84, from_wgs84
from zones.errors import Problem, ZoneFileError
from zones.geojson import check_file, load_feature_collection
from zones.geowriter import zones_to_geojson
from zones.model import DayType, FineTrack, HolidayPolicy, ZoneKind

Doc = dict[str, Any]

EXAMPLE: Doc = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "id": "centrum",
            "properties": {
                "name": "Centrum",
                "kind": "paid",
                "area_code": "0518_CENTRUM",
                "priority": 0,
                "schedule": [
                    {
                        "days": ["mon", "tue", "wed", "thu", "fri", "sat"],
                        "start": "09:00",
                        "end": "24:00",
                        "tariff_cents_per_hour": 450,
                    },
                    {
                        "days": ["sun"],
                        "start": "13:00",
                        "end": "18:00",
                        "tariff_cents_per_hour": 450,
                    },
                ],
                "holidays": "free",
                "max_stay_minutes": None,
                "grace_minutes": 10,
                "fine_track": "tax",
                "remote_enforcement_allowed": True,
                "permit_types": ["resident", "business"],
            },
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[4.35, 52.01], [4.36, 52.01], [4.36, 52.02], [4.35, 52.01]]],
            },
        }
    ],
}


def example() -> Doc:
    return copy.deepcopy(EXAMPLE)


def problems_of(doc: Any, **kw: Any) -> list[Problem]:
    with pytest.raises(ZoneFileError) as info:
        load_feature_collection(doc, **kw)
    return info.value.problems


def test_load_issue_example() -> None:
    result = load_feature_collection(example())
    (zone,) = result.zones
    assert zone.id == "centrum"
    assert zone.kind is ZoneKind.PAID
    assert zone.area_code == "0518_CENTRUM"
    assert zone.holidays is HolidayPolicy.FREE
    assert zone.fine_track is FineTrack.TAX
    assert zone.permit_types == ("resident", "business")
    assert [str(w) for w in zone.schedule] == [
        "mon,tue,wed,thu,fri,sat 09:00-24:00",
        "sun 13:00-18:00",
    ]
    assert zone.schedule[0].tariff_cents_per_hour == Decimal(450)
    assert result.repairs == ()
    assert result.source_crs == WGS84


def test_load_accepts_json_text_and_path(tmp_path: Path) -> None:
    text = json.dumps(EXAMPLE)
    path = tmp_path / "zones.geojson"
    path.write_text(text)
    assert load_feature_collection(text).zones == load_feature_collection(path).zones
    assert load_feature_collection(str(path)).zones[0].id == "centrum"


def test_defaults_for_optional_properties() -> None:
    doc = example()
    props = doc["features"][0]["properties"]
    for key in (
        "priority",
        "holidays",
        "max_stay_minutes",
        "grace_minutes",
        "fine_track",
        "remote_enforcement_allowed",
        "permit_types",
    ):
        del props[key]
    props["kind"] = "no_parking"
    props["schedule"] = "always"
    (zone,) = load_feature_collection(doc).zones
    assert zone.priority == 0
    assert zone.holidays is HolidayPolicy.REGULATED
    assert zone.grace_minutes == 10
    assert zone.fine_track is FineTrack.WAHV  # default for no_parking
    assert zone.remote_enforcement_allowed is False
    assert len(zone.schedule) == 1
    assert zone.schedule[0].days == frozenset(DayType)
    assert zone.schedule[0].duration_minutes == 1440


def test_round_trip_of_the_fixture_town() -> None:
    zones = town_zones()
    doc = zones_to_geojson(zones)
    again = load_feature_collection(json.loads(json.dumps(doc))).zones
    assert again == zones
    assert zones_to_geojson(again) == doc


def test_round_trip_keeps_holiday_dates_and_fractional_tariffs() -> None:
    doc = example()
    props = doc["features"][0]["properties"]
    props["holiday_dates"] = ["2026-11-24", "2026-12-25"]
    props["schedule"][0]["tariff_cents_per_hour"] = 187.5
    props["schedule"][0]["step_minutes"] = 16
    zones = load_feature_collection(doc).zones
    assert zones[0].holiday_dates == frozenset({date(2026, 11, 24), date(2026, 12, 25)})
    assert zones[0].schedule[0].tariff_cents_per_hour == Decimal("187.5")
    assert load_feature_collection(zones_to_geojson(zones)).zones == zones


def test_collection_holiday_dates_apply_to_zones_without_their_own() -> None:
    doc = example()
    doc["holiday_dates"] = ["2026-11-24"]
    assert load_feature_collection(doc).zones[0].holiday_dates == frozenset({date(2026, 11, 24)})


def test_unknown_properties_are_ignored_with_a_warning() -> None:
    doc = example()
    doc["features"][0]["properties"]["colour"] = "red"
    result = load_feature_collection(doc)
    assert [str(w) for w in result.warnings] == [
        "feature 0 (id 'centrum'): properties.colour: unknown; ignored"
    ]


# --------------------------------------------------------------------------- RD New


def rd_doc(member: bool = True) -> Doc:
    doc = example()
    ring = doc["features"][0]["geometry"]["coordinates"][0]
    doc["features"][0]["geometry"]["coordinates"][0] = [
        [round(v, 3) for v in from_wgs84(lon, lat, RD_NEW)] for lon, lat in ring
    ]
    if member:
        doc["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::28992"}}
    return doc


@pytest.mark.parametrize(
    ("member", "crs"), [(True, None), (False, "EPSG:28992"), (True, "EPSG:28992")]
)
def test_rd_new_file_is_transformed_to_wgs84(member: bool, crs: str | None) -> None:
    result = load_feature_collection(rd_doc(member), crs=crs)
    assert result.source_crs == RD_NEW
    minx, miny, maxx, maxy = result.zones[0].geometry.bounds
    assert (minx, miny, maxx, maxy) == pytest.approx((4.35, 52.01, 4.36, 52.02), abs=1e-7)


def test_fixture_town_rd_copy_matches_wgs84() -> None:
    root = Path(__file__).resolve().parents[3] / "fixtures" / "zones"
    wgs = load_feature_collection(root / "town.geojson").zones
    rd = load_feature_collection(root / "town_rd.geojson").zones
    assert [z.id for z in rd] == [z.id for z in wgs]
    for a, b in zip(wgs, rd, strict=True):
        assert a.geometry.hausdorff_distance(b.geometry) < 1e-7  # ~1 cm
        assert a.schedule == b.schedule


# --------------------------------------------------------------------------- bad input


def mutate(change: Callable[[Doc], None]) -> Doc:
    doc = example()
    change(doc)
    return doc


def props(doc: Doc) -> dict[str, Any]:
    result: dict[str, Any] = doc["features"][0]["properties"]
    return result


def geometry(doc: Doc) -> dict[str, Any]:
    result: dict[str, Any] = doc["features"][0]["geometry"]
    return result


BAD_INPUTS: list[tuple[str, Callable[[Doc], None], str, str]] = [
    ("missing name", lambda d: props(d).pop("name"), "properties.name", "missing"),
    ("name not a string", lambda d: props(d).update(name=7), "properties.name", "valid string"),
    (
        "unknown kind",
        lambda d: props(d).update(kind="pay"),
        "properties.kind",
        "'paid', 'permit', 'blue', 'loading' or 'no_parking' (got 'pay')",
    ),
    ("missing area code", lambda d: props(d).pop("area_code"), "properties.area_code", "missing"),
    (
        "priority as text",
        lambda d: props(d).update(priority="1"),
        "properties.priority",
        "valid integer",
    ),
    (
        "grace as text",
        lambda d: props(d).update(grace_minutes="10"),
        "properties.grace_minutes",
        "valid integer",
    ),
    (
        "negative grace",
        lambda d: props(d).update(grace_minutes=-1),
        "properties.grace_minutes",
        "greater than or equal to 0",
    ),
    (
        "bool as remote flag",
        lambda d: props(d).update(remote_enforcement_allowed="yes"),
        "properties.remote_enforcement_allowed",
        "valid boolean",
    ),
    (
        "unknown fine track",
        lambda d: props(d).update(fine_track="mulder"),
        "properties.fine_track",
        "'tax' or 'wahv'",
    ),
    (
        "unknown holiday policy",
        lambda d: props(d).update(holidays="closed"),
        "properties.holidays",
        "'free', 'regulated' or 'schedule'",
    ),
    (
        "bad holiday date",
        lambda d: props(d).update(holiday_dates=["25-12-2026"]),
        "properties.holiday_dates[0]",
        "valid date",
    ),
    ("missing schedule", lambda d: props(d).pop("schedule"), "properties.schedule", "missing"),
    (
        "unknown day",
        lambda d: props(d)["schedule"][1].update(days=["zon"]),
        "properties.schedule[1].days[0]",
        "'mon', 'tue'",
    ),
    (
        "no days",
        lambda d: props(d)["schedule"][1].update(days=[]),
        "properties.schedule[1].days",
        "at least 1 item",
    ),
    (
        "bad start",
        lambda d: props(d)["schedule"][0].update(start="9:00"),
        "properties.schedule[0].start",
        "expected HH:MM",
    ),
    (
        "24:00 as start",
        lambda d: props(d)["schedule"][0].update(start="24:00"),
        "properties.schedule[0].start",
        "only as a window end",
    ),
    (
        "bad end",
        lambda d: props(d)["schedule"][0].update(end="25:00"),
        "properties.schedule[0].end",
        "hours must be",
    ),
    (
        "tariff as text",
        lambda d: props(d)["schedule"][0].update(tariff_cents_per_hour="450"),
        "properties.schedule[0].tariff_cents_per_hour",
        "expected a number",
    ),
    (
        "negative tariff",
        lambda d: props(d)["schedule"][0].update(tariff_cents_per_hour=-5),
        "properties.schedule[0].tariff_cents_per_hour",
        "greater than or equal to 0",
    ),
    (
        "unknown window field",
        lambda d: props(d)["schedule"][0].update(price=5),
        "properties.schedule[0].price",
        "unknown field; allowed: days, start, end",
    ),
    (
        "overlapping windows",
        lambda d: props(d)["schedule"].append({"days": ["mon"], "start": "12:00", "end": "13:00"}),
        "properties.schedule",
        "must not overlap",
    ),
    (
        "blue zone without max stay",
        lambda d: props(d).update(kind="blue"),
        "properties.max_stay_minutes",
        "a blue zone needs a max stay",
    ),
    ("properties missing", lambda d: d["features"][0].pop("properties"), "properties", "missing"),
    ("missing id", lambda d: d["features"][0].pop("id"), "id", "every feature needs an id"),
    ("geometry missing", lambda d: d["features"][0].update(geometry=None), "geometry", "missing"),
    (
        "point geometry",
        lambda d: d["features"][0].update(geometry={"type": "Point", "coordinates": [4.35, 52.01]}),
        "geometry.type",
        "'Point' is not allowed; allowed: Polygon, MultiPolygon",
    ),
    (
        "unclosed ring",
        lambda d: geometry(d)["coordinates"][0].pop(),
        "geometry.coordinates[0]",
        "ring not closed",
    ),
    (
        "too few positions",
        lambda d: geometry(d).update(coordinates=[[[4.35, 52.01], [4.36, 52.01], [4.35, 52.01]]]),
        "geometry.coordinates[0]",
        "at least 4 positions",
    ),
    (
        "position not numbers",
        lambda d: geometry(d)["coordinates"][0].__setitem__(1, ["a", 52]),
        "geometry.coordinates[0][1]",
        "a position must be [x, y] numbers",
    ),
    (
        "self-intersection",
        lambda d: geometry(d).update(
            coordinates=[
                [[4.35, 52.01], [4.36, 52.02], [4.36, 52.01], [4.35, 52.02], [4.35, 52.01]]
            ]
        ),
        "geometry",
        "invalid polygon: self-intersection at lon 4.355, lat 52.015",
    ),
    (
        "hole outside its shell",
        lambda d: geometry(d)["coordinates"].append(
            [[4.40, 52.01], [4.41, 52.01], [4.41, 52.02], [4.40, 52.01]]
        ),
        "geometry",
        "invalid polygon: hole lies outside shell at lon 4.4, lat 52.01",
    ),
    (
        "not a feature",
        lambda d: d["features"].__setitem__(0, "junk"),
        "type",
        "'str': each item must be a Feature",
    ),
    (
        "RD New numbers in a WGS84 file",
        lambda d: geometry(d).update(
            coordinates=[[[85000, 446000], [85100, 446000], [85100, 446100], [85000, 446000]]]
        ),
        "geometry.coordinates",
        "not WGS84 lon/lat degrees; they look like RD New metres",
    ),
    (
        "lat, lon swapped",
        lambda d: geometry(d).update(
            coordinates=[[[52.01, 4.35], [52.01, 4.36], [52.02, 4.36], [52.01, 4.35]]]
        ),
        "geometry.coordinates",
        "look like lat, lon",
    ),
]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [pytest.param(c, f, m, id=name) for name, c, f, m in BAD_INPUTS],
)
def test_bad_input_names_feature_and_field(
    change: Callable[[Doc], None], field: str, message: str
) -> None:
    problems = problems_of(mutate(change))
    matching = [p for p in problems if p.field == field and message in p.message]
    assert matching, [str(p) for p in problems]
    assert matching[0].feature_index == 0
    if field not in {"id", "type"}:
        assert matching[0].feature_id == "centrum"


def test_problem_string_names_feature_index_id_and_field() -> None:
    (problem,) = problems_of(mutate(lambda d: props(d).update(kind="pay")))
    assert str(problem).startswith("feature 0 (id 'centrum'): properties.kind: Input should be")


def test_duplicate_ids_name_both_features() -> None:
    doc = example()
    doc["features"].append(copy.deepcopy(doc["features"][0]))
    (problem,) = problems_of(doc)
    assert (problem.feature_index, problem.feature_id, problem.field) == (1, "centrum", "id")
    assert problem.message == "duplicate id; first used by feature 0"


@pytest.mark.parametrize(
    ("doc", "field", "message"),
    [
        ({"type": "FeatureCollection", "features": []}, "features", "empty"),
        ({"type": "FeatureCollection"}, "features", "missing"),
        ({"type": "Feature", "features": []}, "type", "must be 'FeatureCollection'"),
        (
            {
                "type": "FeatureCollection",
                "crs": {"type": "name", "properties": {"name": "EPSG:3857"}},
                "features": EXAMPLE["features"],
            },
            "crs",
            "unknown CRS 'EPSG:3857'",
        ),
        ('{"type": "FeatureCollection", "features": [', "file", "not valid JSON"),
    ],
)
def test_collection_level_problems(doc: Any, field: str, message: str) -> None:
    problems = problems_of(doc)
    assert any(
        p.feature_index is None and p.field == field and message in p.message for p in problems
    ), [str(p) for p in problems]


def test_crs_argument_conflicting_with_file_member() -> None:
    problems = problems_of(rd_doc(member=True), crs="EPSG:4326")
    assert any(p.field == "crs" and "file says EPSG:28992" in p.message for p in problems)


def test_rd_file_imported_as_wgs84_is_rejected_and_wgs84_as_rd() -> None:
    problems = problems_of(rd_doc(member=False))
    assert any("look like RD New metres" in p.message for p in problems)
    problems = problems_of(example(), crs="EPSG:28992")
    assert any("they look like WGS84 degrees" in p.message for p in problems)


def test_nothing_is_half_imported() -> None:
    doc = example()
    good = copy.deepcopy(doc["features"][0])
    good["id"] = "second"
    doc["features"].append(good)
    props(doc)["kind"] = "pay"
    problems = problems_of(doc)
    assert {p.feature_id for p in problems} == {"centrum"}


def test_all_problems_are_reported_at_once() -> None:
    doc = example()
    second = copy.deepcopy(doc["features"][0])
    second["id"] = "second"
    second["properties"]["grace_minutes"] = "ten"
    doc["features"].append(second)
    props(doc)["kind"] = "pay"
    problems = problems_of(doc)
    assert [(p.feature_index, p.field) for p in problems] == [
        (0, "properties.kind"),
        (1, "properties.grace_minutes"),
    ]


# --------------------------------------------------------------------------- --fix


def test_fix_repairs_self_intersection_and_reports_it() -> None:
    doc = mutate(
        lambda d: geometry(d).update(
            coordinates=[
                [[4.35, 52.01], [4.36, 52.02], [4.36, 52.01], [4.35, 52.02], [4.35, 52.01]]
            ]
        )
    )
    result = load_feature_collection(doc, fix=True)
    (zone,) = result.zones
    assert zone.geometry.is_valid
    assert zone.geometry.geom_type == "MultiPolygon"
    assert zone.geometry.area == pytest.approx(0.00005)
    (repair,) = result.repairs
    assert (repair.feature_index, repair.feature_id, repair.field) == (0, "centrum", "geometry")
    assert "self-intersection at lon 4.355, lat 52.015: repaired with make_valid" in repair.message


def test_fix_closes_unclosed_rings() -> None:
    doc = mutate(lambda d: geometry(d)["coordinates"][0].pop())
    doc["features"][0]["geometry"]["coordinates"][0].insert(3, [4.35, 52.02])
    result = load_feature_collection(doc, fix=True)
    assert result.zones[0].geometry.area == pytest.approx(0.0001)
    assert [r.field for r in result.repairs] == ["geometry.coordinates[0]"]
    assert "ring not closed" in result.repairs[0].message


def test_fix_does_not_hide_other_problems() -> None:
    doc = mutate(lambda d: props(d).update(kind="pay"))
    geometry(doc)["coordinates"] = [
        [[4.35, 52.01], [4.36, 52.02], [4.36, 52.01], [4.35, 52.02], [4.35, 52.01]]
    ]
    problems = problems_of(doc, fix=True)
    assert [p.field for p in problems] == ["properties.kind"]


# --------------------------------------------------------------------------- check_file


def test_check_file_lists_problems(tmp_path: Path) -> None:
    path = tmp_path / "bad.geojson"
    path.write_text(json.dumps(mutate(lambda d: props(d).update(kind="pay"))))
    problems = check_file(path)
    assert [p.field for p in problems] == ["properties.kind"]
    good = tmp_path / "good.geojson"
    good.write_text(json.dumps(EXAMPLE))
    assert check_file(good) == []


def test_check_file_missing_file(tmp_path: Path) -> None:
    (problem,) = check_file(tmp_path / "nope.geojson")
    assert problem.field == "file"
    assert "cannot read" in problem.message


def test_check_file_with_crs(tmp_path: Path) -> None:
    path = tmp_path / "rd.geojson"
    path.write_text(json.dumps(rd_doc(member=False)))
    assert check_file(path, "EPSG:28992") == []
    assert check_file(path) != []
