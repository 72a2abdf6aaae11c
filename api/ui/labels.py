"""The labels table: codes the pages show, in Dutch, in one place.

Every page shows a status, reason, mode, role, zone kind, fine track, history event, amount or
time through this module (templates reach it as ``labels`` and through the filters that
``api.ui.templating`` registers), never as the code itself. A unit test checks that each
member of the domain enums has its label here. API error codes have their Dutch text in
``api.ui.messages``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

LOCAL = ZoneInfo("Europe/Amsterdam")

# --------------------------------------------------------------------------- hits and review
STATUS = {  # api.hits.model.HitStatus
    "pending_grace": "In coulance",
    "awaiting_review": "Te beoordelen",
    "claimed": "In behandeling",
    "confirmed": "Bevestigd",
    "rejected": "Afgewezen",
    "dismissed": "Vervallen (recht gevonden)",
}
SUSPECT_REASON = {  # why the car reported the hit
    "no_right": "Geen parkeerrecht",
    "max_stay_exceeded": "Maximale parkeerduur overschreden",
    "no_parking": "Parkeerverbod",
    "loading_zone": "Laad- en losplaats",
}
REJECT_REASON = {  # api.review.rules.RejectReason
    "driver_present": "Bestuurder aanwezig",
    "loading_unloading": "Laden en lossen",
    "disabled_card_visible": "Gehandicaptenparkeerkaart zichtbaar",
    "plate_misread": "Kenteken verkeerd gelezen",
    "right_found": "Parkeerrecht gevonden",
    "vehicle_exempt": "Voertuig vrijgesteld",
    "evidence_insufficient": "Bewijs onvoldoende",
    "other": "Anders (toelichting verplicht)",
}
RIGHT_REASON = {  # permits.model.DecisionReason
    "permit": "vergunning",
    "paid": "betaald parkeren",
    "visitor": "bezoekersregeling",
    "exemption": "ontheffing / vrijstelling",
    "lookalike_right": "recht op een gelijkend kenteken",
    "late_payment_within_grace": "betaald binnen de coulance",
    "none": "geen recht gevonden",
}
EVIDENCE_KIND = {
    "plate": "Kenteken",
    "overview": "Overzicht",
    "context": "Omgeving",
    "on_site": "Foto ter plaatse",
}
CHECK_SOURCE = {  # api.hits.db.HitRightsCheckRow.source
    "car": "door de scanauto",
    "grace": "na de coulance",
    "confirm": "bij het bevestigen",
    "correction": "na kentekencorrectie",
    "manual": "handmatig",
}
MODE = {"remote": "op afstand", "on_site": "ter plaatse"}  # api.review.rules.DecisionMode
HIT_EVENT = {  # api.review.rules.HitAction: one line of a hit's history
    "grace_passed": "Coulance verstreken zonder parkeerrecht",
    "right_found": "Parkeerrecht gevonden; melding vervallen",
    "claim": "In behandeling genomen",
    "release": "Teruggegeven aan de wachtrij",
    "expire": "Behandeltijd verlopen; terug in de wachtrij",
    "confirm": "Overtreding bevestigd",
    "reject": "Melding afgewezen",
    "correct_plate": "Kenteken gecorrigeerd",
    "add_photo": "Foto ter plaatse toegevoegd",
}

# --------------------------------------------------------------------------- people and zones
ROLE = {  # api.auth.principal.Role
    "admin": "Beheerder",
    "backoffice": "Backoffice",
    "boa": "Handhaver (BOA)",
    "coordinator": "Coördinator meldkamer",
    "provider": "Parkeerdienstaanbieder",
    "resident": "Inwoner of bedrijf",
    "device": "Scanauto",
}
ZONE_KIND = {  # zones.model.ZoneKind
    "paid": "Betaald parkeren",
    "permit": "Vergunninghoudersgebied",
    "blue": "Blauwe zone",
    "loading": "Laad- en losplaats",
    "no_parking": "Parkeerverbod",
}

# --------------------------------------------------------------------------- scan cars
DEVICE_FLAG = {  # api.devices.health.DeviceFlag
    "silent": "Stil (geen teken van leven)",
    "blind": "Camera ziet niets",
    "lost": "Geen GPS-positie",
    "reading_nothing": "Leest geen kentekens",
}
CAMERA_STATE = {
    "starting": "start op",
    "up": "werkt",
    "reconnecting": "maakt opnieuw verbinding",
    "down": "uitgevallen",
}
GPS_STATE = {"ok": "positie", "no_fix": "geen positie", "silent": "ontvanger zwijgt"}
RIGHTS_STATE = {
    "cache": "eigen kopie van de parkeerrechten",
    "no_key": "wacht op de sleutel (rechten onbekend)",
}
ZONES_ORIGIN = {"file": "bestand", "backend": "van de server", "saved": "bewaarde kopie"}

# --------------------------------------------------------------------------- zone versions
ZONE_FIELD = {  # what a zone-set diff names (api.zones.versions.ZoneChange.fields)
    "geometry": "vorm",
    "name": "naam",
    "kind": "soort",
    "area_code": "gebiedscode",
    "priority": "voorrang",
    "schedule": "tijden en tarieven",
    "holidays": "feestdagen",
    "holiday_dates": "feestdagen",
    "max_stay_minutes": "maximale parkeerduur",
    "grace_minutes": "coulance",
    "fine_track": "soort boete",
    "remote_enforcement_allowed": "handhaving op afstand",
    "permit_types": "vergunningsoorten",
}
_ZONE_NOTES = (
    (re.compile(r"^rollback to version (\d+)$"), "teruggezet naar versie {0}"),
    (re.compile(r"^import (.+)$"), "ingelezen uit {0}"),
)


def period_days(start: datetime | None, end: datetime | None) -> str:
    """An export period [start, end) of whole local days: '01-12-2026 t/m 07-12-2026'."""
    from datetime import timedelta

    def day(t: datetime) -> str:
        return _local(t).strftime("%d-%m-%Y")

    last = _local(end) - timedelta(days=1) if end else None
    if start and last:
        return day(start) if day(start) == day(last) else f"{day(start)} t/m {day(last)}"
    if start:
        return f"vanaf {day(start)}"
    if last:
        return f"t/m {day(last)}"
    return "alles"


def zone_field(name: str) -> str:
    return ZONE_FIELD.get(name, name)


def zone_note(note: str | None) -> str:
    """A zone version's note in Dutch where it is one the system writes."""
    for pattern, text in _ZONE_NOTES:
        m = pattern.match(note or "")
        if m:
            return text.format(*m.groups())
    return note or ""


# --------------------------------------------------------------------------- fines
FINE_TRACK = {  # zones.model.FineTrack
    "tax": "Naheffingsaanslag",
    "wahv": "WAHV (Mulder)",
}
FINE_STATUS = {  # api.fines.rules.FineStatus
    "draft": "Concept",
    "issued": "Opgelegd",
    "paid": "Betaald",
    "objection": "Bezwaar",
    "objection_upheld": "Bezwaar gegrond (vervallen)",
    "objection_rejected": "Bezwaar ongegrond",
    "sent_to_collection": "Naar inning",
    "annulled": "Vernietigd",
}
FINE_EVENT = {  # api.fines.rules.FineAction (plus "draft", the fine's creation)
    "draft": "Concept aangemaakt",
    "approve": "Tweede akkoord gegeven",
    "issue": "Opgelegd",
    "pay": "Deelbetaling ontvangen",
    "pay_in_full": "Volledig betaald",
    "object": "Bezwaar ontvangen",
    "uphold": "Bezwaar gegrond verklaard",
    "reject_objection": "Bezwaar ongegrond verklaard",
    "send_to_collection": "Overgedragen voor inning",
    "annul": "Vernietigd",
    "recalculate": "Opnieuw berekend",
    "export": "Opgenomen in een exportbatch voor inning",
}
OFFENCE = {  # offence codes of the WAHV tariff table the fines use
    "blue_zone": "Blauwe zone: parkeerschijf of maximale duur",
    "loading_zone": "Laad- en losplaats",
    "no_parking": "Parkeerverbod",
}
CALCULATION_LINE = {
    "parking_tax": "Parkeerbelasting (naheffing)",
    "assessment_costs": "Kosten naheffingsaanslag",
}
CALCULATION_BASIS = {  # api.fines.rules: what an amount was calculated from (in this order)
    "zone_id": "Zone",
    "zone_version": "Versie zonebestand",
    "charged_from": "Parkeerbelasting berekend vanaf",
    "charged_to": "Parkeerbelasting berekend tot",
    "cost_table_id": "Regel kostentabel",
    "cost_valid_from": "Kosten geldig vanaf",
    "cost_valid_to": "Kosten geldig tot",
    "offence_table_id": "Regel boetetabel",
    "offence_valid_from": "Boetebedrag geldig vanaf",
    "offence_valid_to": "Boetebedrag geldig tot",
    "description": "Omschrijving",
}
BASIS_TIMES = frozenset({"charged_from", "charged_to"})  # ISO times, shown in local time

# --------------------------------------------------------------------------- permits
PERMIT_TYPE = {  # permits.model.PermitType
    "resident": "Bewonersvergunning",
    "business": "Bedrijfsvergunning",
    "visitor": "Bezoekersvergunning",
    "care": "Mantelzorgvergunning",
    "disabled": "Gehandicaptenparkeerkaart (op kenteken)",
    "exemption": "Ontheffing",
}
PERMIT_STATUS = {  # permits.model.PermitStatus
    "applied": "Aangevraagd",
    "in_review": "In behandeling",
    "waitlisted": "Op de wachtlijst",
    "granted": "Toegekend",
    "refused": "Geweigerd",
    "active": "Actief",
    "suspended": "Geschorst",
    "revoked": "Ingetrokken",
    "expired": "Verlopen",
}
PERMIT_EVENT = {  # permits.lifecycle.PermitAction, plus "create" and "update" (api.permits)
    "create": "Aangemaakt",
    "update": "Gewijzigd",
    "start_review": "In behandeling genomen",
    "grant": "Toegekend",
    "refuse": "Geweigerd",
    "waitlist": "Op de wachtlijst gezet",
    "activate": "Actief gemaakt",
    "suspend": "Geschorst",
    "reinstate": "Hersteld",
    "revoke": "Ingetrokken",
    "expire": "Beëindigd",
    "change_plate": "Kenteken gewijzigd",
}
# reasons the backend writes itself into a permit's history (api.permits), in Dutch
PERMIT_REASON = {
    "application filed": "aanvraag ingediend",
    "application received": "aanvraag ontvangen",
    "granted permit activated": "toegekende vergunning actief",
    "granted directly by the back office": "direct verleend door de backoffice",
    "imported from CSV": "ingelezen uit CSV",
    "imported application received": "ingelezen aanvraag ontvangen",
    "plate changed by the holder": "kenteken gewijzigd door de houder",
    "ended by the holder": "beëindigd door de houder",
}
_PERMIT_REASON_PATTERNS = (
    (re.compile(r"^place freed in area (\S+) \(by (\S+)\); first on waiting list$"),
     r"plaats vrijgekomen in gebied \1 (door \2); eerste op de wachtlijst"),
    (re.compile(r"^place free in area (\S+) \(capacity raised to (\d+)\)$"),
     r"plaats vrij in gebied \1 (quotum verhoogd naar \2)"),
    (re.compile(r"^place free in area (\S+) at a CSV import$"),
     r"plaats vrij in gebied \1 bij een CSV-import"),
    (re.compile(r"^place free in area (\S+)$"), r"plaats vrij in gebied \1"),
    (re.compile(r"^validity ended at (.+)$"), r"geldigheid verlopen op \1"),
    (re.compile(r"^area (\S+) is full \(1 place\)$"), r"gebied \1 is vol (1 plaats)"),
    (re.compile(r"^area (\S+) is full \((\d+) places?\)$"), r"gebied \1 is vol (\2 plaatsen)"),
)  # fmt: skip


def permit_reason(text: str | None) -> str:
    """A reason in a permit's history: the backend's own reasons in Dutch, a person's as
    written."""
    if not text:
        return ""
    if text in PERMIT_REASON:
        return PERMIT_REASON[text]
    for pattern, dutch in _PERMIT_REASON_PATTERNS:
        if pattern.match(text):
            return pattern.sub(dutch, text)
    return text


def actor(name: str | None) -> str:
    """Who did it, for people: a resident through the portal, the system, or a user's name."""
    if not name:
        return "-"
    if name.startswith("user:oidc-"):
        return "de aanvrager (Mijn parkeren)"
    if name.startswith("system"):
        return "het systeem" + (" (verlopen)" if "expiry" in name else "")
    return name.removeprefix("user:")


WEEKDAYS = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")
MONTHS = (
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
)


def label(table: Mapping[str, str], code: str | None, missing: str = "-") -> str:
    """The Dutch label of ``code``; an unknown code is shown as it is (a test keeps the tables
    complete), a missing one as ``missing``."""
    if code is None or code == "":
        return missing
    return table.get(code, code)


# --------------------------------------------------------------------------- formats
def days(n: int) -> str:
    """1 -> '1 dag'; 7 -> '7 dagen'."""
    return f"{n} dag" if n == 1 else f"{n} dagen"


def euro(cents: int | None) -> str:
    """1150 -> '€ 11,50'; -250 -> '-€ 2,50'; thousands with a dot (€ 1.234,00)."""
    if cents is None:
        return "-"
    sign = "-" if cents < 0 else ""
    euros, rest = divmod(abs(cents), 100)
    return f"{sign}€\u00a0{euros:,}".replace(",", ".") + f",{rest:02d}"


def _local(t: datetime) -> datetime:
    if t.tzinfo is None:  # SQLite hands back naive datetimes; they are stored in UTC
        from datetime import UTC

        t = t.replace(tzinfo=UTC)
    return t.astimezone(LOCAL)


def local_datetime(t: datetime | None) -> str:
    """'07-03-2025 14:05' in Europe/Amsterdam."""
    return _local(t).strftime("%d-%m-%Y %H:%M") if t else "-"


def local_time(t: datetime | None) -> str:
    """'14:05' in Europe/Amsterdam."""
    return _local(t).strftime("%H:%M") if t else "-"


def local_date(t: datetime | date | None) -> str:
    """'vrijdag 7 maart 2025'."""
    if t is None:
        return "-"
    d = _local(t).date() if isinstance(t, datetime) else t
    return f"{WEEKDAYS[d.weekday()]} {d.day} {MONTHS[d.month - 1]} {d.year}"


def iso_local(value: str | None) -> str:
    """An ISO time from a stored snapshot, shown in local time (dd-mm-jjjj uu:mm:ss)."""
    if not value:
        return "-"
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        return value
    return _local(t).strftime("%d-%m-%Y %H:%M:%S")


def duration(seconds: float | None) -> str:
    """A duration in words: '45 s', '12 min', '2 u 05 min', '3 d 4 u'."""
    if seconds is None:
        return "-"
    s = max(0, round(seconds))
    if s < 60:
        return f"{s} s"
    minutes = s // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} u {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} u"


def metres(m: float | None) -> str:
    """A distance: '35 m', '1,2 km'."""
    if m is None:
        return "-"
    if m < 1000:
        return f"{m:.0f} m"
    return f"{m / 1000:.1f} km".replace(".", ",")


def plate(text: str | None) -> str:
    """A stored plate (no dashes) with its sidecode dashes, e.g. 'GZ123T' -> 'GZ-123-T'."""
    if not text:
        return "-"
    from permits.plates import format_plate

    return format_plate(text)


def calculation_basis(basis: dict[str, Any]) -> list[tuple[str, str]]:
    """A calculation's basis as (Dutch label, value) lines: known keys in their order, times
    local, dates as dd-mm-jjjj, nothing as "-", then any key this table does not know yet."""
    known = [k for k in CALCULATION_BASIS if k in basis]
    out = []
    for key in [*known, *sorted(set(basis) - set(CALCULATION_BASIS))]:
        value = basis[key]
        if value is None or value == "":
            shown = "geen einddatum" if key.endswith("_valid_to") else "-"
        elif key in BASIS_TIMES:
            shown = iso_local(str(value))
        elif key.endswith(("_from", "_to")):
            shown = _day(str(value))
        else:
            shown = str(value)
        out.append((label(CALCULATION_BASIS, key), shown))
    return out


def _day(value: str) -> str:
    try:
        return date.fromisoformat(value).strftime("%d-%m-%Y")
    except ValueError:
        return value


def calculation_line(code: str) -> str:
    if code.startswith("offence:"):
        offence = code.removeprefix("offence:")
        return f"Boetebedrag ({label(OFFENCE, offence)})"
    return label(CALCULATION_LINE, code)


# --------------------------------------------------------------------------- history lines
class HitEvent(Protocol):
    action: str
    detail: str


_PAIR = re.compile(r"(\w+)=([^\s;]+)")


def _pairs(detail: str) -> dict[str, str]:
    return dict(_PAIR.findall(detail or ""))


def _confirm_line(text: str, _detail: str, kv: dict[str, str]) -> str:
    parts = [label(MODE, kv.get("mode"), "")]
    if "distance_m" in kv:
        parts.append(f"op {metres(float(kv['distance_m']))} van het voertuig")
    shown = [p for p in parts if p]
    return f"{text} ({', '.join(shown)})" if shown else text


def _reject_line(text: str, _detail: str, kv: dict[str, str]) -> str:
    return f"{text}: {label(REJECT_REASON, kv['reason']).lower()}" if "reason" in kv else text


def _right_found_line(text: str, _detail: str, kv: dict[str, str]) -> str:
    if "reason" not in kv:
        return text
    return f"Parkeerrecht gevonden ({label(RIGHT_REASON, kv['reason'])}); melding vervallen"


def _claim_line(text: str, detail: str, _kv: dict[str, str]) -> str:
    return f"{text} (opnieuw, bij het versturen van het besluit)" if "renewed" in detail else text


def _grace_line(text: str, detail: str, _kv: dict[str, str]) -> str:
    return f"{text} (herhaling vandaag)" if "(repeat)" in detail else text


def hit_event(e: HitEvent) -> str:
    """One history line of a hit in Dutch, from its action and its stored detail
    (``mode=remote check=12 distance_m=8.1``, ``reason=driver_present``, ``GZ123T -> XK52GV;
    ...``): no codes, no ids."""
    line = _LINES.get(e.action)
    text = label(HIT_EVENT, e.action)
    return line(text, e.detail or "", _pairs(e.detail)) if line else text


def _plate_correction(text: str, detail: str, kv: dict[str, str]) -> str:
    m = re.match(r"\s*(\w+) -> (\w+)", detail)
    out = f"{text}: {plate(m.group(1))} → {plate(m.group(2))}" if m else text
    if "allowed" in kv:
        found = kv["allowed"] == "True"
        out += "; parkeerrecht gevonden" if found else "; geen parkeerrecht"
    why = re.search(r"reason: (.+)$", detail)
    if why:
        out += f" (reden: {why.group(1).strip()})"
    return out


_LINES = {
    "confirm": _confirm_line,
    "reject": _reject_line,
    "right_found": _right_found_line,
    "claim": _claim_line,
    "grace_passed": _grace_line,
    "correct_plate": _plate_correction,
}
