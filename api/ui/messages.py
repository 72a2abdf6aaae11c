"""The one place where API error codes become Dutch text for the pages.

The API answers ``{"detail": <English>, "code": <code>}``; a page shows ``MESSAGES[code]``
instead, filled in with the values the error carries (``{distance_m}``, ``{outstanding}``...),
and, when the refusal is about one form field, links it to that field. A unit test walks the
codes raised in ``api/``, ``permits/`` and ``zones/`` and fails for a code without Dutch text
here: a new error code needs its line in this table.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Any

from api.ui.labels import FINE_STATUS, STATUS, euro, label, plate


@dataclass(frozen=True, slots=True)
class Message:
    text: str  # Dutch, plain words; may name {attributes} of the error
    field: str | None = None  # the form field the refusal is about (name attribute)


M = Message
MESSAGES: dict[str, Message] = {
    # ---------------------------------------------------------------- generic
    "bad_request": M("Het verzoek is niet goed opgebouwd. Laad de pagina opnieuw."),
    "invalid": M("Een ingevulde waarde is ongeldig. Controleer het formulier."),
    "validation_error": M("Een ingevulde waarde is ongeldig. Controleer het formulier."),
    "out_of_range": M("Een getal is te groot of te klein."),
    "nul_character": M("Een ingevulde tekst bevat een ongeldig teken. Controleer het formulier."),
    "implausible_time": M("Een tijdstip ligt te ver in het verleden of de toekomst."),
    "not_found": M("Deze pagina of dit gegeven bestaat niet (meer)."),
    "method_not_allowed": M("Deze actie kan op deze pagina niet."),
    "http_error": M("Het verzoek kon niet worden verwerkt."),
    "conflict": M("Het gegeven is intussen door iemand anders gewijzigd. Laad de pagina opnieuw."),
    "forbidden": M("U heeft geen toestemming voor deze actie."),
    "not_authenticated": M("U bent niet (meer) ingelogd. Log opnieuw in."),
    "too_many_requests": M("Te veel pogingen achter elkaar. Wacht even en probeer het opnieuw."),
    "payload_too_large": M("Het bestand is te groot om te versturen."),
    "unsupported_media_type": M("Dit soort bestand wordt niet ondersteund."),
    "unavailable": M("De dienst is tijdelijk niet beschikbaar. Probeer het zo opnieuw."),
    "database_unavailable": M("De database is even niet bereikbaar. Probeer het zo opnieuw."),
    "database_error": M("Er ging iets mis bij het opslaan. Probeer het opnieuw."),
    "internal_error": M("Er ging iets mis op de server. Probeer het opnieuw of meld dit."),
    "database_busy": M("De database is even te druk. Probeer het zo opnieuw."),
    "request_timeout": M("Het versturen duurde te lang. Probeer het opnieuw."),
    "client_gone": M("De verbinding werd verbroken tijdens het versturen. Probeer het opnieuw."),
    "insufficient_storage": M("De opslag van de server is vol. Meld dit bij de beheerder."),
    "integrity_failure": M("Opgeslagen gegevens kloppen niet meer. Meld dit bij de beheerder."),
    "csrf_failed": M(
        "Het formulier is verlopen of komt niet van deze site. Laad de pagina opnieuw."
    ),
    # ---------------------------------------------------------------- login
    "bad_credentials": M("Gebruikersnaam of wachtwoord onjuist."),
    "login_locked": M(
        "Te veel mislukte pogingen. Probeer het over {retry_after} seconden opnieuw."
    ),
    "no_page_access": M("Dit account heeft geen toegang tot deze pagina's."),
    # ---------------------------------------------------------------- review (BOA)
    "review_error": M("Deze actie kan nu niet op deze melding."),
    "invalid_transition": M(
        "Deze melding is al {status_label}; deze actie kan niet meer. Kies een andere melding."
    ),
    "already_claimed": M("Een collega behandelt deze melding al."),
    "claim_conflict": M("Een collega behandelt deze melding al."),
    "claim_taken": M(
        "Uw behandeltijd was verlopen en een collega heeft de melding intussen genomen. Uw "
        "besluit is niet opgeslagen; wat u invulde staat hieronder."
    ),
    "claim_expired": M(
        "Uw behandeltijd is verlopen en een collega heeft de melding intussen overgenomen."
    ),
    "decision_refused": M("Het besluit kan zo niet worden vastgelegd."),
    "remote_not_allowed": M(
        "In deze zone mag u niet op afstand bevestigen. Ga naar het voertuig en kies "
        "'Ter plaatse'.",
        "mode",
    ),
    "position_required": M(
        "Voor 'Ter plaatse' is uw positie nodig. Sta locatie toe in de browser en probeer "
        "het opnieuw.",
        "mode",
    ),
    "too_far_from_car": M(
        "U staat {distance} van het voertuig; ter plaatse bevestigen kan binnen {maximum}.",
        "mode",
    ),
    "unknown_reject_reason": M("Kies een reden uit de lijst.", "reason"),
    "note_required": M("Bij 'Anders' is een toelichting verplicht: schrijf kort waarom.", "note"),
    "note_too_long": M("De toelichting is te lang: maximaal {maximum} tekens.", "note"),
    "right_found": M(
        "Er is intussen een parkeerrecht gevonden. Wijs de melding af met reden "
        "'Parkeerrecht gevonden'."
    ),
    "same_plate": M("Dit is al het kenteken van de melding.", "plate"),
    "invalid_plate": M(
        "Dit is geen geldig kenteken: gebruik alleen letters en cijfers (streepjes mogen).",
        "plate",
    ),
    "not_dutch_plate": M(
        "{plate_shown} is geen Nederlands kenteken. Controleer het kenteken. Is het een "
        "buitenlands kenteken? Vink dan 'Buitenlands kenteken' aan.",
        "plate",
    ),
    "correction_reason_required": M("Geef aan waarom u het kenteken corrigeert.", "reason"),
    "plate_differs_from_read": M(
        "{new_plate_shown} wijkt meer af van wat de scanauto las ({read_plate_shown}) dan tekens "
        "die op elkaar lijken. Controleer het kenteken en vink aan dat u het gecontroleerd heeft.",
        "confirm_different",
    ),
    "rights_unavailable": M(
        "De controle van parkeerrechten is nu niet beschikbaar. Probeer het zo opnieuw."
    ),
    # ---------------------------------------------------------------- evidence and photos
    "invalid_image": M("De foto is geen geldige JPEG- of PNG-afbeelding.", "photo"),
    "photo_missing": M("Kies eerst een foto.", "photo"),
    "photo_too_large": M("De foto is te groot (maximaal {maximum}).", "photo"),
    "evidence_unavailable": M("Deze foto is niet (meer) beschikbaar."),
    "evidence_gone": M("De foto's van deze melding zijn volgens de bewaartermijn verwijderd."),
    "evidence_tampered": M(
        "Deze foto komt niet meer overeen met het origineel. Meld dit bij de beheerder."
    ),
    "evidence_disk_full": M("De opslag voor foto's is vol. Meld dit bij de beheerder."),
    # ---------------------------------------------------------------- fines (back office)
    "fine_error": M("Deze actie kan nu niet op deze boete."),
    "invalid_fine_transition": M("Deze boete is {fine_status_label}; deze actie kan niet meer."),
    "fine_changed": M("De boete is intussen gewijzigd. Laad de pagina opnieuw."),
    "overpayment": M(
        "Het bedrag ({amount}) is meer dan er openstaat ({outstanding}). Registreer ten hoogste "
        "het openstaande bedrag en betaal de rest terug.",
        "amount",
    ),
    "invalid_payment": M("Vul een bedrag in euro's in dat groter is dan nul.", "amount"),
    "invalid_amount": M("Vul een bedrag in euro's in, bijvoorbeeld 12,50.", "amount"),
    "invalid_date": M("Vul een geldige datum en tijd in.", "received_at"),
    "second_approval_required": M(
        "Een tweede medewerker moet eerst akkoord geven voordat deze boete wordt opgelegd."
    ),
    "already_approved": M("Deze boete heeft al een tweede akkoord."),
    "calculation_error": M(
        "Het bedrag kan niet worden berekend. Controleer de tarieven van de zone."
    ),
    "invalid_objection": M("Het bezwaar kan zo niet worden geregistreerd.", "text"),
    "reason_required": M("Geef een motivering.", "reason"),
    "choice_required": M("Maak een keuze.", "upheld"),
    "number_busy": M("Er kon geen boetenummer worden toegekend. Probeer het opnieuw."),
    "several_batches": M(
        "De boetes van deze periode zitten al in verschillende exportbatches; download die "
        "hieronder per batch, of kies een periode met nieuwe boetes."
    ),
    "export_period_reversed": M("De datum 'tot en met' ligt vóór de datum 'van'.", "tot"),
    # ---------------------------------------------------------------- permits
    "permits_error": M("Deze actie kan niet met deze vergunning."),
    "invalid_permit": M("De vergunning is niet goed ingevuld: {field} is ongeldig.", "{field}"),
    "naive_datetime": M("Geef een tijd met tijdzone op."),
    "naive_time": M("Geef een tijd met tijdzone op."),
    "partial_position": M("Geef zowel lengte- als breedtegraad op, of geen van beide."),
    "quota_error": M("Er zijn geen vergunningen meer beschikbaar in dit gebied."),
    "area_quota_full": M(
        "Het gebied {area_code} is vol ({holders} van {capacity} vergunningen uitgegeven)."
    ),
    "visitor_budget_exceeded": M(
        "Er is niet genoeg bezoekerstegoed: nog {remaining_minutes} minuten over, "
        "{requested_minutes} gevraagd.",
        "minutes",
    ),
    "feed_error": M("De gegevens voor de scanauto zijn verlopen; haal ze opnieuw op."),
    "feed_cursor_expired": M("De gegevens voor de scanauto zijn verlopen; haal ze opnieuw op."),
    "csv_import_error": M("Het bestand bevat fouten; er is niets ingelezen."),
    "csv_row_error": M("Regel {line} van het bestand bevat een fout."),
    "csv_encoding": M(
        "Het bestand kan niet worden gelezen. Sla het in het spreadsheetprogramma op als "
        "'CSV UTF-8 (door komma's gescheiden)' en probeer het opnieuw."
    ),
    "zone_version_not_found": M("Deze versie van de zones bestaat niet."),
    "metrics_forbidden": M("U heeft geen toestemming voor deze actie."),
    # ---------------------------------------------------------------- residents (portal)
    "address_outside_permit_area": M(
        "Dit adres ligt niet in een gebied waar u deze vergunning kunt krijgen. Kies een "
        "ander adres of een andere vergunning.",
        "postcode",
    ),
    "unknown_address": M(
        "Dit adres kennen wij niet. Controleer postcode en huisnummer.", "postcode"
    ),
    "bad_postcode": M("Vul een postcode in zoals 1234 AB.", "postcode"),
    "already_applied": M(
        "U heeft voor dit adres al een vergunning of aanvraag van deze soort.", "type"
    ),
    "plates_count": M("Vul het kenteken in (maximaal 2).", "plate1"),
    "business_details": M(
        "Vul de naam van het bedrijf en het KvK-nummer (8 cijfers) in.", "kvk_number"
    ),
    "care_details": M("Vul de naam in van degene voor wie u zorgt.", "cared_for_name"),
    "too_many_favourites": M("U kunt maximaal 10 favoriete kentekens bewaren.", "plate"),
    "account_disabled": M("Dit account is geblokkeerd. Neem contact op met de gemeente."),
    # ---------------------------------------------------------------- zones
    "zones_error": M("De zonegegevens kloppen niet."),
    "invalid_zone": M("De zone is niet goed ingevuld: {field} is ongeldig."),
    "invalid_zone_file": M("Het zonebestand bevat fouten; er is niets ingelezen."),
    "hit_not_open": M(
        "Deze melding is al {status_label}; toewijzen kan alleen bij open meldingen."
    ),
    "not_a_boa": M("Kies een actieve handhaver (BOA).", "boa_id"),
    "zone_file_missing": M("Kies een zonebestand om aan te leveren.", "bestand"),
    "zone_upload_not_found": M(
        "Dit voorbeeld bestaat niet meer (al opgeslagen, ouder dan een dag of van een ander). "
        "Lever het bestand opnieuw aan."
    ),
    "unknown_crs": M("Het coördinatenstelsel van het bestand wordt niet ondersteund."),
    # ---------------------------------------------------------------- accounts (admin)
    "unknown_role": M("Kies een rol uit de lijst.", "role"),
    "invalid_username": M(
        "Een gebruikersnaam heeft 1 tot 64 tekens: letters, cijfers, punt, streepje of liggend "
        "streepje, zonder spaties.",
        "username",
    ),
    "password_too_short": M("Het wachtwoord moet minstens {min_length} tekens hebben.", "password"),
    "user_exists": M(
        "Er is al een gebruiker met de naam {username}. Kies een andere gebruikersnaam.",
        "username",
    ),
    "cannot_change_self": M(
        "U kunt uw eigen account niet uitschakelen en uw eigen beheerdersrol niet afnemen. "
        "Vraag dit aan een andere beheerder."
    ),
    # ---------------------------------------------------------------- car uploads (API only)
    "observation_conflict": M("Deze waarneming is al ontvangen."),
    "invalid_metadata": M("De gegevens van de waarneming zijn ongeldig."),
    "missing_metadata": M("De gegevens van de waarneming ontbreken."),
    "bad_multipart": M("Het verzoek is niet goed opgebouwd."),
    "bad_part": M("Een deel van het verzoek is geen bestand."),
    "duplicate_part": M("Een bestand is twee keer verstuurd."),
    "missing_part": M("Een bestand ontbreekt."),
    "unexpected_part": M("Er is een onverwacht bestand verstuurd."),
    "sha256_mismatch": M("Een bestand is onderweg beschadigd."),
}
FALLBACK = Message("De actie kon niet worden uitgevoerd.")


class _Values(string.Formatter):
    """Fills ``{name}`` from the error's attributes; a missing one leaves the text usable."""

    def get_value(self, key: int | str, args: Any, kwargs: Any) -> Any:  # noqa: ARG002
        return kwargs.get(str(key), "")


_FORMAT = _Values()


def values_of(exc: BaseException) -> dict[str, Any]:
    """The values an error carries, plus the Dutch forms the texts above use."""
    v: dict[str, Any] = {k: x for k, x in vars(exc).items() if not k.startswith("_")}
    if "distance_m" in v:
        v["distance"] = f"{float(v['distance_m']):.0f} m"
    if "max_distance_m" in v:
        v["maximum"] = f"{float(v['max_distance_m']):.0f} m"
    if "max_length" in v:
        v["maximum"] = v["max_length"]
    status = v.get("status")
    if status is not None:
        v["status_label"] = label(STATUS, str(status)).lower()
        v["fine_status_label"] = label(FINE_STATUS, str(status)).lower()
    for key in ("read_plate", "new_plate", "plate"):
        if key in v:
            v[f"{key}_shown"] = plate(str(v[key]))
    for key in ("amount_cents", "outstanding_cents"):
        if key in v:
            v[key.removesuffix("_cents")] = euro(int(v[key]))
    headers = v.get("headers") or {}
    if "Retry-After" in headers:
        v["retry_after"] = headers["Retry-After"]
    return v


def message_for(code: str, exc: BaseException | None = None) -> Message:
    """The Dutch message for ``code``, filled in with the values ``exc`` carries."""
    m = MESSAGES.get(code, FALLBACK)
    if exc is None:
        return Message(_FORMAT.format(m.text), m.field)
    values = values_of(exc)
    field = _FORMAT.format(m.field, **values) if m.field else None
    return Message(_FORMAT.format(m.text, **values), field or None)


# pydantic's error types (the same schema as the API validates a page's form) -> Dutch
VALIDATION: dict[str, str] = {
    "missing": "Vul dit veld in.",
    "string_too_short": "Vul dit veld in.",
    "string_too_long": "Dit is te lang: maximaal {max_length} tekens.",
    "enum": "Kies een van de mogelijkheden.",
    "literal_error": "Kies een van de mogelijkheden.",
    "float_parsing": "Vul een getal in.",
    "int_parsing": "Vul een heel getal in.",
    "greater_than": "Vul een getal groter dan {gt} in.",
    "greater_than_equal": "Vul een getal van minstens {ge} in.",
    "less_than": "Vul een getal kleiner dan {lt} in.",
    "less_than_equal": "Vul een getal van hoogstens {le} in.",
    "datetime_parsing": "Vul een geldige datum en tijd in.",
    "datetime_from_date_parsing": "Vul een geldige datum en tijd in.",
    "date_parsing": "Vul een geldige datum in.",
    "bool_parsing": "Kies ja of nee.",
    "string_pattern_mismatch": "Deze waarde heeft niet de goede vorm.",
}


# the same, for one field: "<field>:<error type>"
FIELD_VALIDATION: dict[str, str] = {
    "reason:missing": "Geef een reden op.",  # a choice (BOA) or free text (permit desk)
    "reason:enum": "Kies een reden uit de lijst.",
    "mode:missing": "Kies hoe u de overtreding vaststelt.",
    "boa_id:missing": "Kies een handhaver voor deze melding.",  # control room: assign
    "boa_id:int_parsing": "Kies een handhaver voor deze melding.",
    "mode:enum": "Kies hoe u de overtreding vaststelt.",
    "plate:missing": "Vul het juiste kenteken in.",
    "plate:string_too_short": "Vul het juiste kenteken in.",
    "username:missing": "Vul uw gebruikersnaam in.",
    "password:missing": "Vul uw wachtwoord in.",
    "note:string_too_long": "De toelichting is te lang: maximaal {max_length} tekens.",
}


def validation_message(error_type: str, ctx: dict[str, Any], name: str | None = None) -> str:
    """Dutch text for one pydantic validation error of field ``name`` (``ctx`` holds its
    limits)."""
    text = FIELD_VALIDATION.get(f"{name}:{error_type}") or VALIDATION.get(
        error_type, "Deze waarde is ongeldig."
    )
    return _FORMAT.format(text, **{k: str(v) for k, v in ctx.items()})


# the filters of the list pages by query parameter, for the messages that name one
FILTER_LABELS: dict[str, str] = {
    "status": "Status",
    "track": "Spoor",
    "zone": "Zone",
    "boa": "Beoordeeld door",
    "van": "Gezien van",
    "tot": "Tot en met",
    "groep": "Groep",
    "gebied": "Gebied",
    "soort": "Soort",
    "vanaf": "Ontvangen vanaf",
    "start": "Begin van de lijst",
    "pagina": "Pagina",
}


def filter_label(name: str) -> str:
    return FILTER_LABELS.get(name, name)


def filter_choice_message(name: str) -> str:
    """A filter with a value that is not one of its choices (an edited or old link)."""
    return f"Kies bij het filter '{filter_label(name)}' een van de mogelijkheden."


def filter_date_message(name: str) -> str:
    return (
        f"Vul een geldige datum in bij het filter '{filter_label(name)}', bijvoorbeeld 2026-03-07."
    )


def bad_parameter_message(names: list[str]) -> str:
    """A page's address with values it refuses: a filter by its Dutch label, else by name."""
    shown = ", ".join(f"'{filter_label(n)}'" for n in sorted(set(names)))
    return f"Het adres bevat een ongeldige waarde voor {shown}."
