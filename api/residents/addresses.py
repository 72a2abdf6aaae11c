"""The project's own address source: addresses loaded from a CSV file (as the municipality's
address register, the BAG, exports them), looked up by postcode and house number; the parking
area of an address follows from the zones at its position.

CSV columns (header required, order free; ``,`` or ``;`` separated)::

    postcode,huisnummer,huisletter,toevoeging,straat,woonplaats,lon,lat

``lon``/``lat`` in WGS84. Import is all or nothing: every bad row is reported with its line
number. An address already present (same postcode, number, letter and addition) is updated.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, select

from api.residents.db import AddressRow
from permits.errors import CsvImportError, CsvRowError
from permits.model import PermitType
from zones import Zone, ZoneIndex

COLUMNS = (
    "postcode",
    "huisnummer",
    "huisletter",
    "toevoeging",
    "straat",
    "woonplaats",
    "lon",
    "lat",
)
REQUIRED = frozenset({"postcode", "huisnummer", "straat", "woonplaats", "lon", "lat"})
_POSTCODE = re.compile(r"^[1-9][0-9]{3}[A-Z]{2}$")


def normalise_postcode(text: str) -> str | None:
    """``'9991 aa'`` -> ``'9991AA'``; None when it is not a Dutch postcode."""
    value = re.sub(r"\s+", "", text or "").upper()
    return value if _POSTCODE.match(value) and value[4:] not in ("SA", "SD", "SS") else None


@dataclass(frozen=True, slots=True)
class AddressIn:
    line: int
    postcode: str
    house_number: int
    house_letter: str
    addition: str
    street: str
    city: str
    lon: float
    lat: float

    @property
    def key(self) -> tuple[str, int, str, str]:
        return (self.postcode, self.house_number, self.house_letter, self.addition)


def _parse_row(line: int, get: dict[str, str]) -> AddressIn:
    postcode = normalise_postcode(get.get("postcode", ""))
    if postcode is None:
        raise CsvRowError(
            line, "postcode", f"{get.get('postcode')!r} is not a postcode like 1234AB"
        )
    number_text = get.get("huisnummer", "")
    if not number_text.isdigit() or not 1 <= int(number_text) <= 99999:
        raise CsvRowError(line, "huisnummer", f"{number_text!r} is not a number from 1 to 99999")
    letter = get.get("huisletter", "").upper()
    if letter and not (len(letter) == 1 and letter.isalpha()):
        raise CsvRowError(line, "huisletter", f"{letter!r} is not one letter")
    addition = get.get("toevoeging", "").upper()
    if len(addition) > 4 or (addition and not addition.isalnum()):
        raise CsvRowError(line, "toevoeging", f"{addition!r} is not 1-4 letters or digits")
    for column in ("straat", "woonplaats"):
        if not get.get(column) or len(get[column]) > 80:
            raise CsvRowError(line, column, "must be 1-80 characters")
    coords: list[float] = []
    for column, low, high in (("lon", -180.0, 180.0), ("lat", -90.0, 90.0)):
        try:
            value = float(get.get(column, "").replace(",", "."))
        except ValueError:
            value = math.nan
        if not low <= value <= high:
            raise CsvRowError(line, column, f"{get.get(column)!r} is not a WGS84 {column}")
        coords.append(value)
    return AddressIn(
        line, postcode, int(number_text), letter, addition, get["straat"], get["woonplaats"],
        coords[0], coords[1],
    )  # fmt: skip


def read_addresses(text: str) -> list[AddressIn]:
    """Every address of a CSV text, or ``CsvImportError`` listing every bad row."""
    lines = text.splitlines()
    delimiter = ";" if lines and lines[0].count(";") > lines[0].count(",") else ","
    reader = csv.DictReader(lines, delimiter=delimiter)
    header = [h.strip().lower() for h in reader.fieldnames or []]
    reader.fieldnames = header
    missing = sorted(REQUIRED - set(header))
    unknown = sorted(set(header) - set(COLUMNS))
    if missing or unknown:
        what = "; ".join(
            part
            for part in (
                f"missing columns {', '.join(missing)}" if missing else "",
                f"unknown columns {', '.join(unknown)}" if unknown else "",
            )
            if part
        )
        raise CsvImportError([CsvRowError(1, None, f"{what}; expected: {','.join(COLUMNS)}")])
    rows: list[AddressIn] = []
    errors: list[CsvRowError] = []
    seen: dict[tuple[str, int, str, str], int] = {}
    for raw in reader:
        line = reader.line_num
        if None in raw:
            errors.append(CsvRowError(line, None, f"more fields than the {len(header)} columns"))
            continue
        try:
            row = _parse_row(line, {k: (v or "").strip() for k, v in raw.items()})
        except CsvRowError as exc:
            errors.append(exc)
            continue
        if row.key in seen:
            errors.append(CsvRowError(line, "huisnummer", f"same address as line {seen[row.key]}"))
            continue
        seen[row.key] = line
        rows.append(row)
    if errors:
        raise CsvImportError(errors)
    return rows


def import_addresses(session: Session, rows: Sequence[AddressIn]) -> tuple[int, int]:
    """Store the addresses (new ones added, known ones updated); returns (added, updated)."""
    added = updated = 0
    for row in rows:
        existing = session.exec(
            select(AddressRow).where(
                AddressRow.postcode == row.postcode,
                AddressRow.house_number == row.house_number,
                AddressRow.house_letter == row.house_letter,
                AddressRow.addition == row.addition,
            )
        ).first()
        target = existing or AddressRow(
            postcode=row.postcode, house_number=row.house_number, street="", city="", lon=0, lat=0
        )
        target.house_letter, target.addition = row.house_letter, row.addition
        target.street, target.city, target.lon, target.lat = row.street, row.city, row.lon, row.lat
        session.add(target)
        added += existing is None
        updated += existing is not None
    session.flush()
    return added, updated


def find_addresses(session: Session, postcode: str, house_number: int) -> list[AddressRow]:
    """The addresses at a postcode and house number (several when letters or additions
    split the house), in order."""
    return list(
        session.exec(
            select(AddressRow)
            .where(AddressRow.postcode == postcode, AddressRow.house_number == house_number)
            .order_by(col(AddressRow.house_letter), col(AddressRow.addition))
        )
    )


def format_address(address: AddressRow) -> str:
    """``Lindelaan 3A-2, 9991 AA Voorbeeldstad``."""
    number = f"{address.house_number}{address.house_letter}"
    if address.addition:
        number += f"-{address.addition}"
    code = f"{address.postcode[:4]} {address.postcode[4:]}"
    return f"{address.street} {number}, {code} {address.city}"


@dataclass(frozen=True, slots=True)
class AddressArea:
    """What the zones say about an address for a permit type: the zones there and the area
    codes of those that accept the type (empty: no permit of that type for this address)."""

    zones: tuple[Zone, ...]
    area_codes: frozenset[str]


def area_for_address(
    index: ZoneIndex, lon: float, lat: float, permit_type: PermitType
) -> AddressArea:
    """The parking areas an address belongs to for ``permit_type``: the area codes of the zones
    at its position whose ``permit_types`` list the type."""
    from shapely.geometry import Point

    point = Point(lon, lat)
    here = tuple(z for z in index.zones if z.geometry.covers(point))
    codes = frozenset(z.area_code for z in here if permit_type.value in z.permit_types)
    return AddressArea(here, codes)


def addresses_by_id(session: Session, ids: Iterable[int]) -> dict[int, AddressRow]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = session.exec(select(AddressRow).where(col(AddressRow.id).in_(wanted))).all()
    return {r.id or 0: r for r in rows}
