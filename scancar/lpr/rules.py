"""From OCR text to a plate verdict: country, validity, sidecode, confidence.

Rules, in order:

1. The model's region head names the country, but it often names a wrong one for Dutch
   plates (Portugal and others share Dutch sidecode patterns). A valid Dutch read is taken as
   Dutch unless the region head trusts (``region_floor``) another country *and* the plate is
   visibly not yellow or the text also fits that country's pattern. A yellow plate with a valid
   Dutch text is always Dutch. A plate that is visibly neither yellow nor blue (``other``:
   white, ...) is Dutch only when the region head names the Netherlands too.
2. A Dutch read must match a sidecode (or a special series). An invalid read is corrected with
   look-alike characters only when the plate is Dutch by its colour and the region head
   (:func:`may_correct_to_dutch`) and exactly one sidecode becomes valid; otherwise it stays
   invalid. A foreign plate is never "corrected" into a Dutch one.
3. A foreign read (not Dutch, region not NL) is flagged ``is_foreign`` and is valid only when
   it fits the plate pattern of the region head's country, or else of the only country whose
   pattern fits (several or none: invalid; a miss is better than a wrong plate). When the
   region head trusts a country whose pattern the read fits up to one look-alike exchange,
   another country is not guessed: the read is ambiguous. The plate's colour must be one that
   country issues (``FOREIGN_PLATE_COLOURS``; yellow is Dutch, British, Luxembourgish or old
   French).
4. Per-character confidence decides, not the mean: any character (or the end-of-plate slot)
   below ``char_floor`` makes the read ``low_confidence``, and such a read is never a hit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from permits.dutch import parse_dutch_plate
from permits.plates import LOOKALIKE_GROUPS
from scancar.lpr.dutch import correct_dutch_plate
from scancar.lpr.errors import InvalidSettingError
from scancar.lpr.model import WHITE_COLOURS, OcrText, PlateColour

UNKNOWN_COUNTRY = "??"

# fast-plate-ocr v2 global models' region labels -> ISO 3166-1 alpha-2.
REGION_COUNTRIES: dict[str, str] = {
    "Albania": "AL", "Andorra": "AD", "Argentina": "AR", "Armenia": "AM", "Australia": "AU",
    "Austria": "AT", "Azerbaijan": "AZ", "Bahrain": "BH", "Belarus": "BY", "Belgium": "BE",
    "Bosnia and Herzegovina": "BA", "Brazil": "BR", "Bulgaria": "BG", "Cambodia": "KH",
    "Canada": "CA", "Croatia": "HR", "Cyprus": "CY", "Czech Republic": "CZ", "Denmark": "DK",
    "Estonia": "EE", "Finland": "FI", "France": "FR", "Georgia": "GE", "Germany": "DE",
    "Gibraltar": "GI", "Greece": "GR", "Guernsey": "GG", "Hungary": "HU", "Iceland": "IS",
    "Indonesia": "ID", "Ireland": "IE", "Israel": "IL", "Italy": "IT", "Latvia": "LV",
    "Liechtenstein": "LI", "Lithuania": "LT", "Luxembourg": "LU", "Malaysia": "MY", "Malta": "MT",
    "Mexico": "MX", "Moldova": "MD", "Monaco": "MC", "Montenegro": "ME", "Netherlands": "NL",
    "New Zealand": "NZ", "North Macedonia": "MK", "Norway": "NO", "Poland": "PL",
    "Portugal": "PT", "Qatar": "QA", "Romania": "RO", "San Marino": "SM", "Serbia": "RS",
    "Singapore": "SG", "Slovakia": "SK", "Slovenia": "SI", "Spain": "ES", "Sweden": "SE",
    "Switzerland": "CH", "Thailand": "TH", "Turkey": "TR", "United States": "US",
    "Ukraine": "UA", "United Kingdom": "GB", "Vietnam": "VN",
}  # fmt: skip

# Plausibility patterns (text without separators) for the countries seen most in the
# Netherlands. Not a registry check: they only reject reads that cannot be such a plate.
FOREIGN_PATTERNS: dict[str, re.Pattern[str]] = {
    "BE": re.compile(r"^(?:[0-9][A-Z]{3}[0-9]{3}|[A-Z]{3}[0-9]{3})$"),
    "DE": re.compile(r"^(?=.{3,9}$)[A-Z]{1,3}[A-Z]{1,2}[0-9]{1,4}[EH]?$"),
    "FR": re.compile(r"^(?:[A-Z]{2}[0-9]{3}[A-Z]{2}|[0-9]{1,4}[A-Z]{1,3}[0-9]{2})$"),
    "IT": re.compile(r"^[A-Z]{2}[0-9]{3}[A-Z]{2}$"),
    "ES": re.compile(r"^[0-9]{4}[BCDFGHJKLMNPRSTVWXYZ]{3}$"),
    "GB": re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z]{3}$"),
    "LU": re.compile(r"^(?:[A-Z]{2}[0-9]{4}|[0-9]{4,6}|[A-Z][0-9]{4})$"),
    # county code, then a series of 4-5 with at most two letters, never B D I O Z (they look
    # like 8 0 1 0 2); after a two-letter code the series starts with a digit
    "PL": re.compile(
        r"^(?=.{7,8}$)(?:[A-Z]{2}(?=[0-9])|[A-Z]{3})(?!(?:[0-9]*[A-Z]){3})"
        r"[0-9ACEFGHJKLMNPQRSTUVWXY]{4,5}$"
    ),
}
_GENERIC_PLATE = re.compile(r"^(?=.*[0-9])[A-Z0-9]{4,8}$")
# Lengths of a country's plates with two rows of characters, where they differ from its
# one-line plates: Polish two-line plates carry a series of four after the county code (one
# line: four or five), so an eight-character read of a two-line plate is not Polish (a German
# ``WA XC / 2495`` fits the Polish one-line pattern).
TWO_LINE_LENGTHS: dict[str, tuple[int, int]] = {"PL": (6, 7)}

# Plate colours (``PlateColour``) each country above issues. A plate of another colour is not
# that country's plate; ``unknown`` (grey or dark frames) rules nothing out. Yellow: British
# rear plates, Luxembourg, French plates issued before 2009. Belgian plates have red
# characters (``white_red``), the others black ones (``white_dark``); ``other`` is a white
# plate whose characters' colour could not be told. A German ``P-XV 135`` also fits the old
# Belgian pattern (``ABC123``): its black characters tell.
_BLACK_ON_WHITE: frozenset[PlateColour] = frozenset({"other", "white_dark"})
FOREIGN_PLATE_COLOURS: dict[str, frozenset[PlateColour]] = {
    "BE": frozenset({"other", "white_red"}),
    "DE": _BLACK_ON_WHITE,
    "FR": _BLACK_ON_WHITE | {"yellow"},
    "IT": _BLACK_ON_WHITE,
    "ES": _BLACK_ON_WHITE,
    "GB": _BLACK_ON_WHITE | {"yellow"},
    "LU": _BLACK_ON_WHITE | {"yellow"},
    "PL": _BLACK_ON_WHITE,
}
_LOOKALIKES: dict[str, str] = {
    ch: "".join(sorted(group - {ch})) for group in LOOKALIKE_GROUPS for ch in group
}


@dataclass(frozen=True, slots=True)
class ReadRules:
    char_floor: float = 0.95  # every character (and the end slot) must reach this
    region_floor: float = 0.6  # below this the region head is not trusted

    def __post_init__(self) -> None:
        for name, value in (("char_floor", self.char_floor), ("region_floor", self.region_floor)):
            if not 0.0 <= value <= 1.0:
                raise InvalidSettingError(name, value, "0.0..1.0")


@dataclass(frozen=True, slots=True)
class Verdict:
    plate: str
    display: str
    country: str
    is_foreign: bool
    valid: bool
    sidecode: int | None
    corrected: bool
    low_confidence: bool
    confidence: float  # lowest character confidence (0.0 for an empty read)


def country_of(region: str | None) -> str:
    """ISO code of a fast-plate-ocr region label; ``"??"`` when unknown."""
    return REGION_COUNTRIES.get(region or "", UNKNOWN_COUNTRY)


def is_plausible_foreign(plate: str, country: str, *, two_line: bool = False) -> bool:
    """``plate`` fits ``country``'s pattern (and, for a plate with two rows of characters,
    that country's two-line lengths)."""
    pattern = FOREIGN_PATTERNS.get(country)
    if pattern is None or not pattern.match(plate) or not _GENERIC_PLATE.match(plate):
        return False
    lo, hi = TWO_LINE_LENGTHS.get(country, (1, 10)) if two_line else (1, 10)
    return lo <= len(plate) <= hi


def fits_with_one_lookalike(plate: str, country: str, *, two_line: bool = False) -> bool:
    """True when exchanging one look-alike character (``0``/``O``, ``8``/``B``, ...) makes
    ``plate`` fit ``country``'s pattern."""
    return any(
        is_plausible_foreign(plate[:i] + alt + plate[i + 1 :], country, two_line=two_line)
        for i, ch in enumerate(plate)
        for alt in _LOOKALIKES.get(ch, "")
    )


def is_colour_of(country: str, colour: PlateColour) -> bool:
    """False when ``country`` issues no plates of that colour (``unknown`` fits every country;
    so does every colour for a country without an entry)."""
    allowed = FOREIGN_PLATE_COLOURS.get(country)
    return colour == "unknown" or allowed is None or colour in allowed


def foreign_country(
    plate: str, region_country: str, colour: PlateColour = "unknown", *, two_line: bool = False
) -> str | None:
    """The country whose plate pattern ``plate`` fits: the region head's country when it fits,
    else the only country whose pattern fits (the region head often names a neighbour of the
    right country); on a white plate whose characters' colour is known (``white_red``,
    ``white_dark``) only countries that issue that colour count. ``None`` when none or several
    fit, and when the region head's country fits after one look-alike exchange: an Italian
    ``HF987OD`` read ``HF9870D`` fits only the Polish pattern, but a misread plate of the
    country the region head names explains it as well. ``two_line``: the plate's characters
    stand in two rows (:data:`TWO_LINE_LENGTHS`)."""
    if is_plausible_foreign(plate, region_country, two_line=two_line):
        return region_country
    if len(plate) < 6:  # short reads are often a part of a longer plate: no guessing
        return None
    if fits_with_one_lookalike(plate, region_country, two_line=two_line):
        return None
    by_ink = colour in ("white_red", "white_dark")
    fitting = [
        c
        for c in FOREIGN_PATTERNS
        if is_plausible_foreign(plate, c, two_line=two_line)
        and (not by_ink or is_colour_of(c, colour))
    ]
    return fitting[0] if len(fitting) == 1 else None


def is_low_confidence(
    char_confidences: tuple[float, ...], length_confidence: float, floor: float
) -> bool:
    if not char_confidences:
        return True
    return min(char_confidences) < floor or length_confidence < floor


def may_correct_to_dutch(colour: PlateColour, region_country: str, region_trusted: bool) -> bool:
    """Whether a look-alike correction may turn a read into a Dutch plate: the plate must be
    Dutch by its colour *and* by the region head. A yellow or blue plate qualifies unless the
    region head trusts another country; a plate whose colour cannot be told (grey or dark
    frame) only when the region head names the Netherlands; a white (``other``) plate never."""
    if colour in ("yellow", "blue"):
        return region_country == "NL" or not region_trusted
    if colour == "unknown":
        return region_country == "NL"
    return False


def judge(
    ocr: OcrText,
    rules: ReadRules | None = None,
    *,
    colour: PlateColour = "unknown",
    two_line: bool = False,
) -> Verdict:
    """Apply the plate rules to one OCR result.

    ``colour`` is the plate's colour (``unknown`` on grey or dark frames). A valid Dutch read
    stays Dutch when the region head names another country, unless the plate is visibly not
    yellow or the text also fits that country's pattern. ``two_line``: the plate's characters
    were seen in two rows (a foreign pattern may then allow other lengths).
    """
    r = rules or ReadRules()
    text = "".join(ch for ch in ocr.text.upper() if ch.isascii() and ch.isalnum())
    confidence = min(ocr.char_confidences) if ocr.char_confidences else 0.0
    low = is_low_confidence(ocr.char_confidences, ocr.length_confidence, r.char_floor)
    region_country = country_of(ocr.region)
    region_trusted = (
        region_country != UNKNOWN_COUNTRY
        and ocr.region_confidence is not None
        and ocr.region_confidence >= r.region_floor
    )
    foreign_evident = (
        region_trusted
        and region_country != "NL"
        and (colour in WHITE_COLOURS or is_plausible_foreign(text, region_country))
        and colour not in {"yellow", "blue"}
    )
    # a white (or other non-Dutch colour) plate is Dutch only when the region head agrees
    may_be_dutch = not foreign_evident and (colour not in WHITE_COLOURS or region_country == "NL")
    if may_be_dutch:
        dutch = (
            correct_dutch_plate(text)
            if may_correct_to_dutch(colour, region_country, region_trusted)
            else parse_dutch_plate(text)
        )
        if dutch is not None:
            corrected = dutch.plate != text
            return Verdict(
                dutch.plate,
                dutch.display,
                "NL",
                False,
                True,
                dutch.sidecode,
                corrected,
                low,
                confidence,
            )
    if region_country == "NL":
        return Verdict(text, text, region_country, False, False, None, False, low, confidence)
    country = foreign_country(
        text, region_country if region_trusted else UNKNOWN_COUNTRY, colour, two_line=two_line
    )
    if country is None or not is_colour_of(country, colour):
        shown = region_country if region_trusted else UNKNOWN_COUNTRY
        return Verdict(text, text, shown, shown != UNKNOWN_COUNTRY, False, None, False, low,
                       confidence)  # fmt: skip
    return Verdict(
        text,
        text,
        country,
        True,
        True,
        None,
        False,
        low,
        confidence,
    )
