"""The labels table: every code a page can show has Dutch text; amounts, times and plates are
formatted the Dutch way; history lines carry no codes."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest

from api.auth.principal import Role
from api.devices.health import DeviceFlag
from api.fines.rules import FineAction, FineStatus
from api.hits.model import HitStatus
from api.review.rules import DecisionMode, HitAction, RejectReason
from api.ui import labels
from permits.model import DecisionReason, PermitStatus, PermitType
from permits.plates import format_plate
from zones.model import FineTrack, ZoneKind


@pytest.mark.parametrize(
    ("codes", "table"),
    [
        (HitStatus, labels.STATUS),
        (RejectReason, labels.REJECT_REASON),
        (DecisionMode, labels.MODE),
        (HitAction, labels.HIT_EVENT),
        (Role, labels.ROLE),
        (ZoneKind, labels.ZONE_KIND),
        (FineTrack, labels.FINE_TRACK),
        (FineStatus, labels.FINE_STATUS),
        (FineAction, labels.FINE_EVENT),
        (PermitType, labels.PERMIT_TYPE),
        (PermitStatus, labels.PERMIT_STATUS),
        (DecisionReason, labels.RIGHT_REASON),
        (DeviceFlag, labels.DEVICE_FLAG),
    ],
)
def test_labels_cover_every_member_of_the_domain_enums(codes: type[enum.Enum], table) -> None:
    missing = [m.value for m in codes if m.value not in table]
    assert missing == []
    assert all(text and text != code for code, text in table.items())


def test_labels_unknown_code_is_shown_as_is_and_missing_as_dash() -> None:
    assert labels.label(labels.STATUS, "claimed") == "In behandeling"
    assert labels.label(labels.STATUS, "brand_new") == "brand_new"
    assert labels.label(labels.STATUS, None) == "-"


@pytest.mark.parametrize(
    ("cents", "text"),
    [
        (0, "€\u00a00,00"),
        (1150, "€\u00a011,50"),
        (8480, "€\u00a084,80"),
        (123456, "€\u00a01.234,56"),
        (-250, "-€\u00a02,50"),
        (None, "-"),
    ],
)
def test_labels_euro(cents: int | None, text: str) -> None:
    assert labels.euro(cents) == text


def test_labels_times_are_shown_in_amsterdam_time() -> None:
    summer = datetime(2026, 7, 1, 12, 5, tzinfo=UTC)  # CEST, UTC+2
    winter = datetime(2026, 1, 15, 23, 30, tzinfo=UTC)  # CET, UTC+1: the next day locally
    assert labels.local_datetime(summer) == "01-07-2026 14:05"
    assert labels.local_time(summer) == "14:05"
    assert labels.local_datetime(winter) == "16-01-2026 00:30"
    assert labels.local_date(winter) == "vrijdag 16 januari 2026"
    assert labels.local_date(date(2026, 3, 2)) == "maandag 2 maart 2026"
    naive_utc = datetime(2026, 7, 1, 12, 5)  # as SQLite hands it back  # noqa: DTZ001
    assert labels.local_datetime(naive_utc) == "01-07-2026 14:05"
    assert labels.local_datetime(None) == "-"


@pytest.mark.parametrize(
    ("m", "text"), [(0.4, "0 m"), (35.2, "35 m"), (999, "999 m"), (1234, "1,2 km"), (None, "-")]
)
def test_labels_metres(m: float | None, text: str) -> None:
    assert labels.metres(m) == text


@pytest.mark.parametrize(
    ("plate", "shown"),
    [
        ("GZ123T", "GZ-123-T"),  # sidecode 9
        ("XK52GV", "XK-52-GV"),  # 4
        ("XKGV52", "XK-GV-52"),  # 5
        ("52XKGV", "52-XK-GV"),  # 6
        ("AB1234", "AB-12-34"),  # 1
        ("1ABC23", "1-ABC-23"),  # 8
        ("99XXX9", "99-XXX-9"),  # 7
        ("G123BB", "G-123-BB"),  # 10
        ("ABCDEF", "ABCDEF"),  # no Dutch sidecode: as it is
        ("DE123456", "DE123456"),  # foreign / too long
    ],
)
def test_format_plate_sidecodes(plate: str, shown: str) -> None:
    assert format_plate(plate) == shown


@dataclass
class Event:
    action: str
    detail: str


@pytest.mark.parametrize(
    ("action", "detail", "line"),
    [
        ("grace_passed", "no right after 10 min grace", "Coulance verstreken zonder parkeerrecht"),
        (
            "grace_passed",
            "no right after 10 min grace (repeat)",
            "Coulance verstreken zonder parkeerrecht (herhaling vandaag)",
        ),
        (
            "right_found",
            "reason=permit check=3",
            "Parkeerrecht gevonden (vergunning); melding vervallen",
        ),
        ("claim", "", "In behandeling genomen"),
        (
            "claim",
            "renewed on submit",
            "In behandeling genomen (opnieuw, bij het versturen van het besluit)",
        ),
        ("confirm", "mode=remote check=12", "Overtreding bevestigd (op afstand)"),
        (
            "confirm",
            "mode=on_site check=12 distance_m=8.1",
            "Overtreding bevestigd (ter plaatse, op 8 m van het voertuig)",
        ),
        ("reject", "reason=driver_present", "Melding afgewezen: bestuurder aanwezig"),
        (
            "correct_plate",
            "GZ123T -> GZ128T; check=5 allowed=False",
            "Kenteken gecorrigeerd: GZ-123-T → GZ-128-T; geen parkeerrecht",
        ),
        (
            "correct_plate",
            "GZ123T -> GZ128T; check=5 allowed=True; reason: 3 en 8 verwisseld",
            "Kenteken gecorrigeerd: GZ-123-T → GZ-128-T; parkeerrecht gevonden "
            "(reden: 3 en 8 verwisseld)",
        ),
    ],
)
def test_labels_hit_history_lines_are_dutch(action: str, detail: str, line: str) -> None:
    text = labels.hit_event(Event(action, detail))
    assert text == line
    assert re.search(r"\b[a-z]+_[a-z_]+\b|=", text) is None  # no codes, no key=value


def test_labels_calculation_lines() -> None:
    assert labels.calculation_line("parking_tax") == "Parkeerbelasting (naheffing)"
    assert labels.calculation_line("offence:blue_zone") == (
        "Boetebedrag (Blauwe zone: parkeerschijf of maximale duur)"
    )


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, "-"), (0, "0 s"), (59.4, "59 s"), (60, "1 min"), (3599, "59 min"),
     (3600, "1 u 00 min"), (7500, "2 u 05 min"), (49 * 3600, "2 d 1 u")],
)  # fmt: skip
def test_labels_duration_in_words(seconds, text) -> None:
    assert labels.duration(seconds) == text


@pytest.mark.parametrize(
    ("reason", "line"),
    [
        ("area 9999_NOORD is full (1 place)", "gebied 9999_NOORD is vol (1 plaats)"),
        ("area 9999_NOORD is full (12 places)", "gebied 9999_NOORD is vol (12 plaatsen)"),
        ("plate changed by the holder", "kenteken gewijzigd door de houder"),
        ("Verhuisd naar Utrecht.", "Verhuisd naar Utrecht."),  # a person's words stay
    ],
)
def test_labels_permit_reasons_in_dutch(reason: str, line: str) -> None:
    assert labels.permit_reason(reason) == line


def test_labels_calculation_basis_in_words() -> None:
    basis = {
        "zone_id": "centrum",
        "zone_version": 3,
        "charged_from": "2026-11-26T10:15:00+00:00",
        "cost_valid_from": "2026-01-01",
        "cost_valid_to": None,
        "new_key": "x",
    }
    assert labels.calculation_basis(basis) == [
        ("Zone", "centrum"),
        ("Versie zonebestand", "3"),
        ("Parkeerbelasting berekend vanaf", "26-11-2026 11:15:00"),
        ("Kosten geldig vanaf", "01-01-2026"),
        ("Kosten geldig tot", "geen einddatum"),
        ("new_key", "x"),
    ]
