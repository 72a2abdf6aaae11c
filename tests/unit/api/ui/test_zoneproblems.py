"""Zone file problems (and the repairs and warnings of an accepted file) -> Dutch text for the
zone pages: every code the domain can produce has its text, filled in with the values the
problem names (where it is stays beside it)."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from api.ui import zoneproblems
from tests.conftest import REPO
from zones.errors import NoticeCode, ProblemCode, ZoneFileError
from zones.geojson import load_feature_collection

TOWN: dict[str, Any] = json.loads((REPO / "fixtures" / "zones" / "town.geojson").read_text())
USED = re.compile(r"\b(ProblemCode|NoticeCode)\.([A-Z0-9_]+)\b")
ENGLISH = re.compile(r"\b(missing|required|allowed|must|should|invalid|expected|got|input)\b")


def _used_codes(enum: str) -> set[str]:
    """Every `ProblemCode.X` (or `NoticeCode.X`) the domain names (zones/, where they are made)."""
    return {
        name
        for path in (REPO / "zones").rglob("*.py")
        for kind, name in USED.findall(path.read_text(encoding="utf-8"))
        if kind == enum
    }


def test_zoneproblems_every_problem_code_has_dutch_text() -> None:
    used = _used_codes("ProblemCode")
    assert {"POLYGON_INVALID", "FIELD_MISSING", "TIME_OUT_OF_RANGE", "NOT_ALLOWED"} <= used
    assert used <= {c.name for c in ProblemCode}  # the scan reads real codes
    missing = sorted(c.value for c in ProblemCode if c not in zoneproblems.PROBLEMS)
    assert missing == [], f"zone problem codes without Dutch text in api.ui.zoneproblems: {missing}"
    _assert_dutch(zoneproblems.PROBLEMS)


def test_zoneproblems_every_notice_code_has_dutch_text() -> None:
    used = _used_codes("NoticeCode")
    assert {"RING_CLOSED", "POLYGON_REPAIRED", "UNKNOWN_PROPERTY"} <= used
    assert used <= {c.name for c in NoticeCode}
    missing = sorted(c.value for c in NoticeCode if c not in zoneproblems.NOTICES)
    assert missing == [], f"zone notice codes without Dutch text in api.ui.zoneproblems: {missing}"
    _assert_dutch(zoneproblems.NOTICES)


def _assert_dutch(table: dict[Any, str]) -> None:
    for code, text in table.items():
        words = re.sub(r"\{\w*\}", "", text)  # the placeholders are names, not words
        assert not ENGLISH.search(words), f"{code}: {text!r} reads as English"


def _feature(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    doc = copy.deepcopy(TOWN)
    doc["features"] = doc["features"][:1]
    change(doc["features"][0])
    return doc


def _bowtie(f: dict[str, Any]) -> None:
    f["geometry"] = {
        "type": "Polygon",
        "coordinates": [[[4.35, 52.0], [4.36, 52.01], [4.36, 52.0], [4.35, 52.01], [4.35, 52.0]]],
    }


def _schedule(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(f: dict[str, Any]) -> None:
        f["properties"]["schedule"][0][key] = value

    return change


CASES: list[tuple[str, Callable[[dict[str, Any]], None], ProblemCode, str, str]] = [
    (
        "missing property",
        lambda f: f["properties"].pop("name"),
        ProblemCode.FIELD_MISSING,
        "properties.name",
        "Dit veld ontbreekt; het is verplicht.",
    ),
    (
        "unknown kind",
        lambda f: f["properties"].update(kind="purple"),
        ProblemCode.NOT_ALLOWED,
        "properties.kind",
        "'purple' is niet toegestaan; kies uit: 'paid', 'permit', 'blue', 'loading', 'no_parking'.",
    ),
    (
        "unknown field in a window",
        _schedule("tarief", 1),
        ProblemCode.UNKNOWN_FIELD,
        "properties.schedule[0].tarief",
        "Onbekend veld; toegestaan: days, start, end, tariff_cents_per_hour, step_minutes, "
        "max_stay_minutes.",
    ),
    (
        "time out of range",
        _schedule("start", "25:00"),
        ProblemCode.TIME_OUT_OF_RANGE,
        "properties.schedule[0].start",
        "'25:00' bestaat niet: uren 00 tot 23 (of 24:00), minuten 00 tot 59.",
    ),
    (
        "time not a time",
        _schedule("end", "6pm"),
        ProblemCode.TIME_FORMAT,
        "properties.schedule[0].end",
        "'6pm' is geen tijd: schrijf UU:MM, bijvoorbeeld 09:00 of 24:00.",
    ),
    (
        "negative grace",
        lambda f: f["properties"].update(grace_minutes=-5),
        ProblemCode.BELOW_MINIMUM,
        "properties.grace_minutes",
        "-5 is te klein: minstens 0.",
    ),
    (
        "self-intersecting polygon",
        _bowtie,
        ProblemCode.POLYGON_INVALID,
        "geometry",
        "Ongeldige vorm: de rand snijdt zichzelf.",
    ),
    (
        "lat, lon swapped",
        lambda f: f.update(
            geometry={
                "type": "Polygon",
                "coordinates": [[[52.0, 4.35], [52.0, 4.36], [52.01, 4.36], [52.0, 4.35]]],
            }
        ),
        ProblemCode.COORDINATES_SWAPPED,
        "geometry.coordinates",
        "De coördinaten (x 52 tot 52,01, y 4,35 tot 4,36) lijken breedte, lengte in Nederland",
    ),
    (
        "ring not closed",
        lambda f: f["geometry"]["coordinates"][0].pop(),
        ProblemCode.RING_NOT_CLOSED,
        "geometry.coordinates[0]",
        "De rand is niet gesloten: het eerste punt (52,00850 N, 4,36300 O) is niet het laatste",
    ),
]


@pytest.mark.parametrize(
    ("change", "code", "field", "dutch"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_zoneproblems_names_the_problem_in_dutch(
    change: Callable[[dict[str, Any]], None], code: ProblemCode, field: str, dutch: str
) -> None:
    with pytest.raises(ZoneFileError) as caught:
        load_feature_collection(_feature(change))
    problem = next(p for p in caught.value.problems if p.code is code)
    assert (problem.feature_index, problem.feature_id, problem.field) == (0, "centrum", field)
    assert zoneproblems.problem_text(problem).startswith(dutch)
    assert "{" not in zoneproblems.problem_text(problem)


def test_zoneproblems_place_of_a_self_intersection() -> None:
    with pytest.raises(ZoneFileError) as caught:
        load_feature_collection(_feature(_bowtie))
    (problem,) = caught.value.problems
    assert problem.values["x"] == pytest.approx(4.355)
    assert zoneproblems.problem_place(problem) == "52,00500 N, 4,35500 O"
    assert "self-intersection at lon 4.355, lat 52.005" in problem.message  # the CLI's English


def test_zoneproblems_repairs_and_warnings_in_dutch() -> None:
    def change(f: dict[str, Any]) -> None:
        _bowtie(f)
        f["geometry"]["coordinates"][0].pop()  # open as well
        f["properties"]["kleur"] = "rood"

    imported = load_feature_collection(_feature(change), fix=True)
    texts = [
        (n.field, zoneproblems.notice_text(n), zoneproblems.problem_place(n))
        for n in (*imported.repairs, *imported.warnings)
    ]
    assert texts == [
        (
            "geometry.coordinates[0]",
            "De rand was niet gesloten (eerste punt 52,00000 N, 4,35000 O, laatste 52,01000 N, "
            "4,35000 O); het eerste punt is aan het eind herhaald.",
            None,
        ),
        (
            "geometry",
            "De ongeldige vorm (de rand snijdt zichzelf) is hersteld; "
            "de zone is nu 2 losse vlakken.",
            "52,00500 N, 4,35500 O",
        ),
        ("properties.kleur", "Onbekende eigenschap; die is genegeerd.", None),
    ]
