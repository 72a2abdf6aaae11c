"""Dutch licence-plate knowledge: sidecodes, special series, formatting (the domain's: the car's
reader, the generator and the pages that take a plate from a person all use it).

A Dutch plate (kenteken) is six characters in three groups; the *sidecode* says which groups are
letters (``X``) and which digits (``9``). Sidecodes 1-14 are the car series; mopeds (bromfiets,
``D`` first) and motorcycles (``M`` first) reuse some of the patterns. Letters that look like
digits or each other (vowels, C, Q, W, Y) are never issued on current series.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from permits.errors import NotDutchPlateError
from permits.plates import normalise_plate

VehicleClass = Literal["car", "moped", "motorcycle", "special"]

# Letters issued on the current Dutch series (no vowels, no C, Q, W, Y).
DUTCH_LETTERS = "BDFGHJKLMNPRSTVXZ"
DIGITS = "0123456789"


@dataclass(frozen=True, slots=True)
class Sidecode:
    number: int
    pattern: str  # groups joined by '-', X = letter, 9 = digit, e.g. "XX-99-99"

    @property
    def groups(self) -> tuple[int, ...]:
        return tuple(len(g) for g in self.pattern.split("-"))

    @property
    def shape(self) -> str:
        return self.pattern.replace("-", "")


SIDECODES: tuple[Sidecode, ...] = (
    Sidecode(1, "XX-99-99"),
    Sidecode(2, "99-99-XX"),
    Sidecode(3, "99-XX-99"),
    Sidecode(4, "XX-99-XX"),
    Sidecode(5, "XX-XX-99"),
    Sidecode(6, "99-XX-XX"),
    Sidecode(7, "99-XXX-9"),
    Sidecode(8, "9-XXX-99"),
    Sidecode(9, "XX-999-X"),
    Sidecode(10, "X-999-XX"),
    Sidecode(11, "XXX-99-X"),
    Sidecode(12, "X-99-XXX"),
    Sidecode(13, "9-XX-999"),
    Sidecode(14, "999-XX-9"),
)
_BY_SHAPE: dict[str, tuple[Sidecode, ...]] = {}
for _sc in SIDECODES:
    _BY_SHAPE.setdefault(_sc.shape, ())
    _BY_SHAPE[_sc.shape] = (*_BY_SHAPE[_sc.shape], _sc)

# Special series that do not follow the sidecode table: diplomatic (CD, light blue), the
# Royal House (AA), international organisations (CDJ), and the old trade plates (handelaars).
SPECIAL_SERIES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("royal", re.compile(r"^AA\d{1,3}$")),
    ("diplomatic", re.compile(r"^CDJ?\d{3,4}$")),
    ("diplomatic_corps", re.compile(r"^CD[A-HJ-NPR-Z]{1,2}\d{2,3}$")),  # no I, O, Q
)

# Letter combinations the RDW does not issue (offensive or confusing). A read containing one of
# them in a letter group is not a plausible current plate.
BANNED_COMBINATIONS = frozenset(
    {"GVD", "KKK", "KVT", "LPF", "NSB", "PKK", "PSV", "TBS", "SS", "SD", "PVV", "SGP", "VVD"}
)


@dataclass(frozen=True, slots=True)
class DutchPlate:
    plate: str  # normalised, e.g. "GZ123T"
    sidecode: int | None  # None for the special series
    display: str  # with dashes, e.g. "GZ-123-T"
    vehicle_class: VehicleClass
    series: str | None = None  # special series name


_NORMALISED = re.compile(r"^[A-Z0-9]{1,10}$")


def _shape_of(plate: str) -> str:
    return "".join("X" if c.isalpha() else "9" for c in plate)


def _split(plate: str, groups: tuple[int, ...]) -> list[str]:
    out, i = [], 0
    for n in groups:
        out.append(plate[i : i + n])
        i += n
    return out


def _letters_ok(parts: list[str]) -> bool:
    for part in parts:
        if part.isalpha():
            if any(c not in DUTCH_LETTERS for c in part):
                return False
            if part in BANNED_COMBINATIONS:
                return False
    return True


def parse_dutch_plate(plate: str) -> DutchPlate | None:
    """Classify a normalised plate; ``None`` when it is not a valid Dutch plate."""
    if not _NORMALISED.match(plate):
        return None
    for name, rx in SPECIAL_SERIES:
        if rx.match(plate):
            return DutchPlate(plate, None, plate, "special", name)
    if len(plate) != 6:
        return None
    for sc in _BY_SHAPE.get(_shape_of(plate), ()):
        parts = _split(plate, sc.groups)
        if not _letters_ok(parts):
            continue
        vclass: VehicleClass = "car"
        if plate[0] == "D" and sc.number in (9, 10):
            vclass = "moped"
        elif plate[0] == "M" and sc.number in (9, 10, 11, 12):
            vclass = "motorcycle"
        return DutchPlate(plate, sc.number, "-".join(parts), vclass)
    return None


def is_valid_dutch_plate(plate: str) -> bool:
    return parse_dutch_plate(plate) is not None


def sidecode_of(plate: str) -> int | None:
    parsed = parse_dutch_plate(plate)
    return parsed.sidecode if parsed else None


def format_dutch_plate(plate: str) -> str:
    """Display form with dashes (``GZ123T`` -> ``GZ-123-T``); unchanged when not Dutch."""
    parsed = parse_dutch_plate(plate)
    return parsed.display if parsed else plate


def entered_plate(raw: str, *, foreign: bool) -> str:
    """A plate a person typed (a resident registering a visitor), in stored form.

    Unless they said it is a foreign plate, it must be a Dutch one (a sidecode or a special
    series): a typing error that still looks like a plate would register a right for a car
    that does not exist and leave the visitor to be fined. ``InvalidPlateError`` for text that
    is no plate at all, ``NotDutchPlateError`` for a plate no Dutch series has."""
    plate = normalise_plate(raw)
    if not foreign and parse_dutch_plate(plate) is None:
        raise NotDutchPlateError(raw, plate)
    return plate
