"""From OCR text to a plate verdict: country, validity, sidecode, confidence.

Rules, in order:

1. The model's region head names the country, but it often names a wrong one for Dutch
   plates (Portugal and others share Dutch sidecode patterns). A valid Dutch read is taken as
   Dutch unless the region head trusts (``region_floor``) another country *and* the plate is
   visibly not yellow or the text also fits that country's pattern. A yellow plate with a valid
   Dutch text is always Dutch.
2. A Dutch read must match a sidecode (or a special series). An invalid Dutch read is corrected
   with look-alike characters only when exactly one sidecode becomes valid; otherwise it stays
   invalid.
3. A foreign read (not Dutch, region not NL) is flagged ``is_foreign`` and is valid only when
   it fits the plate pattern of the region head's country, or else of the only country whose
   pattern fits (several or none: invalid; a miss is better than a wrong plate).
4. Per-character confidence decides, not the mean: any character (or the end-of-plate slot)
   below ``char_floor`` makes the read ``low_confidence``, and such a read is never a hit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from scancar.lpr.dutch import correct_dutch_plate
from scancar.lpr.errors import InvalidSettingError
from scancar.lpr.model import OcrText, PlateColour

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
    "PL": re.compile(r"^(?=.{7,8}$)[A-Z]{2,3}[A-Z0-9]{4,5}$"),
}
_GENERIC_PLATE = re.compile(r"^(?=.*[0-9])[A-Z0-9]{4,8}$")


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


def is_plausible_foreign(plate: str, country: str) -> bool:
    pattern = FOREIGN_PATTERNS.get(country)
    return pattern is not None and bool(pattern.match(plate)) and bool(_GENERIC_PLATE.match(plate))


def foreign_country(plate: str, region_country: str) -> str | None:
    """The country whose plate pattern ``plate`` fits: the region head's country when it fits,
    else the only country whose pattern fits (the region head often names a neighbour of the
    right country). ``None`` when none or several fit."""
    if is_plausible_foreign(plate, region_country):
        return region_country
    if len(plate) < 6:  # short reads are often a part of a longer plate: no guessing
        return None
    fitting = [c for c in FOREIGN_PATTERNS if is_plausible_foreign(plate, c)]
    return fitting[0] if len(fitting) == 1 else None


def is_low_confidence(
    char_confidences: tuple[float, ...], length_confidence: float, floor: float
) -> bool:
    if not char_confidences:
        return True
    return min(char_confidences) < floor or length_confidence < floor


def judge(
    ocr: OcrText, rules: ReadRules | None = None, *, colour: PlateColour = "unknown"
) -> Verdict:
    """Apply the plate rules to one OCR result.

    ``colour`` is the plate's colour (``unknown`` on grey or dark frames). A valid Dutch read
    stays Dutch when the region head names another country, unless the plate is visibly not
    yellow or the text also fits that country's pattern.
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
        and (colour == "other" or is_plausible_foreign(text, region_country))
        and colour not in {"yellow", "blue"}
    )
    if not foreign_evident:
        dutch = correct_dutch_plate(text)
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
    country = foreign_country(text, region_country if region_trusted else UNKNOWN_COUNTRY)
    if country is None:
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
