"""Dutch interface text for codes shown on the pages."""

from __future__ import annotations

STATUS = {
    "pending_grace": "In coulance",
    "awaiting_review": "Te beoordelen",
    "claimed": "In behandeling",
    "confirmed": "Bevestigd",
    "rejected": "Afgewezen",
    "dismissed": "Vervallen (recht gevonden)",
}
SUSPECT_REASON = {
    "no_right": "Geen parkeerrecht",
    "max_stay_exceeded": "Maximale parkeerduur overschreden",
    "no_parking": "Parkeerverbod",
    "loading_zone": "Laad- en losplaats",
}
REJECT_REASON = {
    "driver_present": "Bestuurder aanwezig",
    "loading_unloading": "Laden en lossen",
    "disabled_card_visible": "Gehandicaptenparkeerkaart zichtbaar",
    "plate_misread": "Kenteken verkeerd gelezen",
    "right_found": "Parkeerrecht gevonden",
    "vehicle_exempt": "Voertuig vrijgesteld",
    "evidence_insufficient": "Bewijs onvoldoende",
    "other": "Anders (toelichting verplicht)",
}
RIGHT_REASON = {
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
MODE = {"remote": "op afstand", "on_site": "ter plaatse"}
