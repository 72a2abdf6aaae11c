"""The one place where the problems of a zone file become Dutch for the zone pages.

The domain (``zones.errors.Problem``) names what is wrong as a code (``ProblemCode``) with the
values it is about, and keeps its English for ``scancar zones check`` and the API's 422; a page
shows ``PROBLEMS[code]`` instead, filled in with those values. The same for what the importer
repaired or ignored in a file it did accept (``Notice``, ``NoticeCode`` -> ``NOTICES``). A unit
test walks both enums and fails for a code without Dutch text here.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Any

from zones.crs import RD_NEW, WGS84
from zones.errors import Notice, NoticeCode, Problem, ProblemCode

C = ProblemCode
PROBLEMS: dict[ProblemCode, str] = {
    # ---------------------------------------------------------------- the file
    C.FILE_UNREADABLE: "Het bestand kon niet worden gelezen.",
    C.FILE_NOT_UTF8: (
        "Het bestand is geen UTF-8-tekst. Sla het op als UTF-8 en lever het opnieuw aan."
    ),
    C.FILE_NOT_JSON: "Het bestand is geen geldige JSON{at}. Een GeoJSON-bestand begint met '{{'.",
    C.FILE_NOT_OBJECT: "Het bestand moet één JSON-object bevatten: een FeatureCollection.",
    C.NOT_FEATURE_COLLECTION: "Het type is {got}; een zonebestand is een 'FeatureCollection'.",
    C.CRS_UNKNOWN: "Onbekend coördinatenstelsel {got}. Toegestaan: {allowed}.",
    C.CRS_CONFLICT: (
        "Het bestand zegt dat de coördinaten in {file_crs} staan, maar bij Coördinaten is "
        "{requested} gekozen. Kies 'Zoals in het bestand'."
    ),
    C.HOLIDAY_DATES_INVALID: (
        "De feestdagen moeten een lijst van datums zijn als JJJJ-MM-DD, bijvoorbeeld 2026-04-27."
    ),
    C.FEATURES_MISSING: "De lijst 'features' ontbreekt: een zonebestand is een lijst van zones.",
    C.FEATURES_EMPTY: "De lijst 'features' is leeg: er is minstens één zone nodig.",
    # ---------------------------------------------------------------- a feature
    C.NOT_A_FEATURE: (
        "Dit onderdeel is {got}; elk onderdeel van 'features' moet een 'Feature' zijn."
    ),
    C.ID_MISSING: "Elke zone heeft een id (tekst) nodig; gevonden: {got}.",
    C.ID_TOO_LONG: "De id is {length} tekens lang; hoogstens {maximum} tekens.",
    C.ID_DUPLICATE: "Deze id heeft feature nr. {first_index} al; elke zone heeft een eigen id.",
    C.PROPERTIES_MISSING: "De eigenschappen (properties) ontbreken; dit moet een object zijn.",
    # ---------------------------------------------------------------- the shape
    C.GEOMETRY_MISSING: "De vorm (geometry) ontbreekt: een Polygon of MultiPolygon is nodig.",
    C.GEOMETRY_NOT_OBJECT: "De vorm (geometry) moet een GeoJSON-geometrie zijn; gevonden: {got}.",
    C.GEOMETRY_TYPE_NOT_ALLOWED: "Vormsoort {got} is niet toegestaan; toegestaan: {allowed}.",
    C.MULTIPOLYGON_EMPTY: "Een MultiPolygon moet een lijst van polygonen bevatten.",
    C.POLYGON_EMPTY: "Een polygoon moet een lijst van randen (ringen) zijn, niet leeg.",
    C.RING_NOT_LIST: "Een rand moet een lijst van punten zijn; gevonden: {got_kind}.",
    C.POSITION_INVALID: "Een punt moet [x, y] zijn, twee getallen; gevonden: {got}.",
    C.RING_NOT_CLOSED: (
        "De rand is niet gesloten: het eerste punt ({first}) is niet het laatste ({last}). "
        "Een GeoJSON-rand herhaalt het eerste punt aan het eind."
    ),
    C.RING_TOO_SHORT: "Een rand heeft minstens 4 punten nodig (gesloten); deze heeft er {count}.",
    C.COORDINATES_SWAPPED: (
        "De coördinaten ({bounds}) lijken breedte, lengte in Nederland; in GeoJSON staat de "
        "lengtegraad voorop (lengte, breedte)."
    ),
    C.COORDINATES_NOT_WGS84: "De coördinaten ({bounds}) zijn geen WGS84-graden{hint}.",
    C.COORDINATES_OUTSIDE_RD: "De coördinaten ({bounds}) liggen buiten RD New (EPSG:28992){hint}.",
    C.POLYGON_NO_AREA: "De vorm heeft geen oppervlakte.",
    C.POLYGON_INVALID: "Ongeldige vorm: {reason_nl}.",
    C.POLYGON_UNREPAIRABLE: "Ongeldige vorm: {reason_nl}; herstellen liet geen oppervlakte over.",
    C.GEOMETRY_INVALID: "De vorm is ongeldig.",
    # ---------------------------------------------------------------- values
    C.FIELD_MISSING: "Dit veld ontbreekt; het is verplicht.",
    C.UNKNOWN_FIELD: "Onbekend veld; toegestaan: {allowed}.",
    C.NOT_TEXT: "Moet tekst zijn; gevonden: {got}.",
    C.NOT_INTEGER: "Moet een geheel getal zijn; gevonden: {got}.",
    C.NOT_NUMBER: "Moet een getal zijn (centen); gevonden: {got}.",
    C.NOT_FINITE: "Moet een gewoon getal zijn, niet oneindig of NaN; gevonden: {got}.",
    C.NOT_BOOLEAN: "Moet true of false zijn; gevonden: {got}.",
    C.NOT_LIST: "Moet een lijst zijn; gevonden: {got}.",
    C.NOT_OBJECT: "Moet een object zijn; gevonden: {got}.",
    C.NOT_A_DATE: "Moet een datum zijn als JJJJ-MM-DD; gevonden: {got}.",
    C.DATE_IMPLAUSIBLE: "{got} is geen aannemelijke datum: van 1970 tot 2100.",
    C.NOT_ALLOWED: "{got} is niet toegestaan; kies uit: {allowed}.",
    C.TEXT_EMPTY: "Mag niet leeg zijn.",
    C.TEXT_TOO_SHORT: "Te kort: minstens {minimum} teken(s); gevonden: {got}.",
    C.TEXT_TOO_LONG: "Te lang: hoogstens {maximum} tekens.",
    C.TOO_FEW_ITEMS: "Te weinig: de lijst moet er minstens {minimum} bevatten.",
    C.TOO_MANY_ITEMS: "Te veel: de lijst mag er hoogstens {maximum} bevatten.",
    C.BELOW_MINIMUM: "{got} is te klein: minstens {minimum}.",
    C.ABOVE_MAXIMUM: "{got} is te groot: hoogstens {maximum}.",
    C.NOT_ABOVE: "{got} is te klein: moet groter zijn dan {limit}.",
    C.OUT_OF_RANGE: "{got} valt buiten het bereik: van {minimum} tot en met {maximum}.",
    C.INVALID_VALUE: "Ongeldige waarde: {got}.",
    # ---------------------------------------------------------------- times and rules
    C.TIME_FORMAT: "{got} is geen tijd: schrijf UU:MM, bijvoorbeeld 09:00 of 24:00.",
    C.TIME_2400_AS_START: "24:00 mag alleen als eindtijd, niet als begintijd.",
    C.TIME_OUT_OF_RANGE: "{got} bestaat niet: uren 00 tot 23 (of 24:00), minuten 00 tot 59.",
    C.END_EQUALS_START: "Eindtijd {got} is gelijk aan de begintijd; de hele dag is 00:00-24:00.",
    C.WINDOWS_OVERLAP: "De tijdvakken {first} en {second} overlappen; ze mogen niet overlappen.",
    C.BLUE_ZONE_NEEDS_MAX_STAY: (
        "Een blauwe zone heeft een maximale parkeerduur nodig: max_stay_minutes bij de zone "
        "of bij elk tijdvak."
    ),
    # ---------------------------------------------------------------- NPR tables
    C.NPR_NOT_ARRAY: "De NPR-tabel moet een JSON-lijst van rijen zijn.",
    C.NPR_NO_ROWS: "De geometrietabel is leeg: er is minstens één gebied nodig.",
    C.NPR_COLUMNS_MISSING: (
        "Kolom(men) ontbreken: {columns}. De NPR-geometrietabel heeft areamanagerid, areaid "
        "en areageometryastext."
    ),
    C.NPR_NO_ROWS_SELECTED: "Er is geen enkel gebied gekozen.",
    C.NPR_DUPLICATE_AREA: "Dit gebied staat er twee keer in; het eerst in rij {first_row}.",
    C.NPR_AREA_IDS_MISSING: "areamanagerid en areaid zijn verplicht.",
    C.NPR_AREA_UNKNOWN: (
        "Gebied '{area_id}' van beheerder {manager} staat niet in de gebiedentabel."
    ),
    C.NPR_WKT_MISSING: "De vorm (WKT-polygoon) ontbreekt.",
    C.NPR_WKT_INVALID: "De vorm is geen geldige WKT.",
    C.NPR_WKT_NOT_POLYGON: "Vormsoort {got} is niet toegestaan; toegestaan: POLYGON, MULTIPOLYGON.",
    C.NPR_NO_REGULATION: (
        "Dit gebied heeft geen regeling: lever de tabel GEBIEDSREGELING aan, een kolom "
        "regulationid in de geometrietabel, of een regeling met de id van het gebied."
    ),
    C.NPR_TIME_FRAME_INVALID: (
        "Ongeldig tijdvak: een begin- of eindtijd of maximale duur klopt niet."
    ),
    C.NPR_FARE_NO_PARTS: "Tariefberekening '{fare}' heeft geen tariefdelen.",
    C.NPR_FARE_PART_INVALID: "Het tariefdeel van '{fare}' heeft een ongeldig bedrag of stap.",
    C.NPR_FARE_PART_OUT_OF_RANGE: (
        "Het tariefdeel van '{fare}' klopt niet: stap {step}, bedrag {amount}."
    ),
    C.NPR_ZONE_COLUMNS_INVALID: (
        "Een van de kolommen kind, fine_track, priority of grace_minutes heeft een "
        "ongeldige waarde."
    ),
}

N = NoticeCode
NOTICES: dict[NoticeCode, str] = {
    N.RING_CLOSED: (
        "De rand was niet gesloten (eerste punt {first}, laatste {last}); het eerste punt is "
        "aan het eind herhaald."
    ),
    N.POLYGON_REPAIRED: "De ongeldige vorm ({reason_nl}) is hersteld; de zone is nu {parts_nl}.",
    N.UNKNOWN_PROPERTY: "Onbekende eigenschap; die is genegeerd.",
    N.NPR_NO_TIME_FRAMES_TABLE: (
        "Er is geen tabel met tijdvakken aangeleverd: in deze zone geldt nooit een regeling."
    ),
    N.NPR_REGULATION_WITHOUT_FRAMES: "Regeling '{regulation}' heeft geen tijdvakken op {day}.",
    N.NPR_DAY_TYPE_UNSUPPORTED: (
        "Regeling '{regulation}': dagsoort '{day_type}' wordt niet ondersteund; die tijdvakken "
        "zijn overgeslagen."
    ),
    N.NPR_NO_RIGHT_TO_BUY: "Hier kan geen parkeerrecht worden gekocht (claimrightpossible N).",
    N.NPR_FARE_NOT_VALID: "Tariefberekening '{fare}' geldt niet op {day}.",
    N.NPR_FARE_CHANGES: (
        "Tarief '{fare}' verandert na minuut {minutes}; alleen het eerste tariefdeel telt."
    ),
    N.NPR_NEVER_REGULATED: "Geen tijdvak met een regeling: in deze zone geldt nooit een regeling.",
}

# what GEOS says is wrong with a shape (``shapely.is_valid_reason``, lower case) -> Dutch
POLYGON_REASONS: dict[str, str] = {
    "self-intersection": "de rand snijdt zichzelf",
    "ring self-intersection": "een rand raakt of snijdt zichzelf",
    "hole lies outside shell": "een gat ligt buiten de buitenrand",
    "holes are nested": "een gat ligt in een ander gat",
    "interior is disconnected": "de vorm valt in losse stukken uiteen",
    "nested shells": "een buitenrand ligt in een andere",
    "duplicate rings": "een rand staat er twee keer in",
    "too few distinct points in geometry component": (
        "een rand heeft te weinig verschillende punten"
    ),
    "invalid coordinate": "een coördinaat is ongeldig",
    "ring is not closed": "een rand is niet gesloten",
    "repeated point": "een punt komt twee keer achter elkaar voor",
}
KINDS = {  # Python type names a problem names ("got list") -> Dutch
    "str": "tekst",
    "int": "een geheel getal",
    "float": "een getal",
    "bool": "true of false",
    "dict": "een object",
    "list": "een lijst",
    "NoneType": "niets (null)",
}
HINTS = {  # the CRS coordinates look like instead -> what to choose on the upload form
    RD_NEW: "; ze lijken op RD New-meters: kies bij Coördinaten 'RD New (EPSG:28992, meters)'",
    WGS84: "; ze lijken op WGS84-graden: kies bij Coördinaten 'WGS84' of 'Zoals in het bestand'",
}
FALLBACK = "Er is iets mis met deze waarde."
FALLBACK_NOTICE = "Hier is bij het inlezen iets aangepast."


class _Values(string.Formatter):
    """Fills ``{name}`` from the problem's values; a missing one leaves the text usable."""

    def get_value(self, key: int | str, args: Any, kwargs: Any) -> Any:  # noqa: ARG002
        return kwargs.get(str(key), "")


_FORMAT = _Values()


def _decimal(value: float, digits: int) -> str:
    return f"{value:.{digits}f}".replace(".", ",")


def place(x: float, y: float, crs: str) -> str:
    """A point as the pages write it: '52,00500 N, 4,35500 O' (WGS84) or RD metres."""
    if crs == WGS84:
        return f"{_decimal(y, 5)} N, {_decimal(x, 5)} O"
    return f"RD x {_decimal(x, 0)}, y {_decimal(y, 0)}"


def shown(value: Any) -> str:
    """A value from the file as a problem names it: text in quotes, null as 'niets (null)'."""
    if value is None:
        return "niets (null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, float):
        return f"{value:g}".replace(".", ",")
    return str(value)


def _values(values: Mapping[str, Any]) -> dict[str, Any]:
    """The problem's values plus the Dutch forms the texts above use."""
    v = dict(values)
    crs = str(v.get("crs") or WGS84)
    if "got" in v:
        v["got_kind"] = KINDS.get(str(v["got"]), str(v["got"]))
        v["got"] = shown(v["got"])
    if "line" in v and "column" in v:
        v["at"] = f" (regel {v['line']}, kolom {v['column']})"
    if "first_x" in v:
        v["first"] = place(float(v["first_x"]), float(v["first_y"]), crs)
        v["last"] = place(float(v["last_x"]), float(v["last_y"]), crs)
    if "min_x" in v:
        v["bounds"] = (
            f"x {v['min_x']:g} tot {v['max_x']:g}, y {v['min_y']:g} tot {v['max_y']:g}"
        ).replace(".", ",")
        v["hint"] = HINTS.get(str(v.get("looks_like")), "")
    if "reason" in v:
        v["reason_nl"] = POLYGON_REASONS.get(str(v["reason"]).lower(), "de vorm klopt niet")
    if "parts" in v:
        v["parts_nl"] = "één vlak" if v["parts"] == 1 else f"{v['parts']} losse vlakken"
    return v


def problem_text(problem: Problem) -> str:
    """The Dutch text of one problem of a zone file (where it is stays beside it)."""
    text = PROBLEMS.get(problem.code, FALLBACK)
    return _FORMAT.format(text, **_values(problem.values))


def notice_text(notice: Notice) -> str:
    """The Dutch text of one repair or warning of an accepted zone file."""
    text = NOTICES.get(notice.code, FALLBACK_NOTICE)
    return _FORMAT.format(text, **_values(notice.values))


def problem_place(problem: Problem | Notice) -> str | None:
    """Where on the map the problem is, when it names one point ('52,00500 N, 4,35500 O')."""
    x, y = problem.values.get("x"), problem.values.get("y")
    if isinstance(x, int | float) and isinstance(y, int | float):
        return place(float(x), float(y), str(problem.values.get("crs") or WGS84))
    return None


def where(feature_index: int | None, feature_id: str | None) -> str:
    """Which feature: 'Feature nr. 3 (id 'blauw')', or the file as a whole."""
    if feature_index is None:
        return "Het bestand als geheel"
    return f"Feature nr. {feature_index}" + (f" (id '{feature_id}')" if feature_id else "")


# the problems that "Ongeldige vormen herstellen" (``--fix``) repairs
FIXABLE: frozenset[ProblemCode] = frozenset({C.POLYGON_INVALID, C.RING_NOT_CLOSED})
