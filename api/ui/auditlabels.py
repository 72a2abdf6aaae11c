"""The audit log in Dutch: what was done, to what (with a link to its page), and the change.

The backend writes audit rows with an action code (``fine.issue``, ``user.disabled``), an
object (``fine`` 12) and a short detail in the backend's own words (``issued->paid``,
``role=boa``, ``2 added (a, b); 0 changed; 0 removed``). ``audit_line`` turns one row into a
line a clerk reads; a unit test checks that every action the code records has its Dutch text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from api.ui.labels import (
    FINE_EVENT,
    FINE_STATUS,
    FINE_TRACK,
    HIT_EVENT,
    PERMIT_EVENT,
    PERMIT_STATUS,
    REJECT_REASON,
    RIGHT_REASON,
    ROLE,
    STATUS,
    SUSPECT_REASON,
    euro,
    label,
    permit_reason,
)

ACTION = {
    "auth.login": "Ingelogd (API)",
    "user.created": "Gebruiker aangemaakt",
    "user.password_reset": "Wachtwoord opnieuw ingesteld",
    "user.disabled": "Gebruiker uitgeschakeld",
    "user.enabled": "Gebruiker weer toegang gegeven",
    "user.role_changed": "Rol gewijzigd",
    "resident.created": "Inwoneraccount aangemaakt (eerste login)",
    "device.created": "Scanauto aangemaakt",
    "device.revoked": "Toegang scanauto ingetrokken",
    "observation.received": "Melding ontvangen van een scanauto",
    "evidence.tampered": "Bewijsfoto gewijzigd op schijf (niet getoond)",
    "hit.assigned": "Melding toegewezen aan een handhaver",
    "hit.unassigned": "Toewijzing van melding ingetrokken",
    "fine.exported": "Exportbatch gemaakt",
    "zones.version_created": "Nieuwe zoneversie ingelezen",
    "zones.rolled_back": "Zones teruggezet naar een eerdere versie",
    "retention.purge": "Bewaartermijnen toegepast (opgeschoond)",
    "tariffs.seeded": "Voorbeeldtarieven ingevuld",
    "tariffs.cost_added": "Kostenbedrag toegevoegd",
    "tariffs.offence_added": "Boetebedrag toegevoegd",
    "permit.created": "Vergunning aangemaakt",
    "permit.updated": "Vergunning gewijzigd",
    "permit.imported": "Vergunningen ingelezen uit CSV",
    "permit_application.created": "Aanvraag ingediend",
    "permit_application.granted": "Aanvraag toegekend",
    "permit_application.refused": "Aanvraag geweigerd",
    "permit_application.waitlisted": "Aanvraag op de wachtlijst gezet",
    "permit_application.granted_from_waiting_list": "Aanvraag toegekend van de wachtlijst",
    "permit_application.refused_validity_ended": "Aanvraag vervallen (geldigheid verstreken)",
    "permit_quota.set": "Quotum van een gebied ingesteld",
    "paid_session.created": "Betaalde parkeersessie gemeld",
    "paid_session.updated": "Betaalde parkeersessie gewijzigd",
    "paid_session.stopped": "Betaalde parkeersessie gestopt",
    "visitor_session.started": "Bezoekersparkeren gestart",
    "visitor_session.stopped": "Bezoekersparkeren gestopt",
}
# actions made from a state machine's action names: prefix -> (its table, fallback)
FAMILIES: dict[str, tuple[dict[str, str], str]] = {
    "hit.": (HIT_EVENT, "Melding gewijzigd"),
    "fine.": (FINE_EVENT, "Boete gewijzigd"),
    "permit.": (PERMIT_EVENT, "Vergunning gewijzigd"),
}
OBJECT = {
    "hit": "Melding",
    "fine": "Boete",
    "fine_export_batch": "Exportbatch",
    "user": "Gebruiker",
    "device": "Scanauto",
    "zone_version": "Zoneversie",
    "permit": "Vergunning",
    "permit_application": "Aanvraag",
    "permit_quota": "Quotum gebied",
    "paid_session": "Parkeersessie",
    "visitor_session": "Bezoekerssessie",
    "retention": "Opschoning",
    "tariffs": "Tarieven",
    "cost_table": "Kostentabel",
    "offence_amount": "Boetebedrag",
}
# where an object's page is, for the readers of the audit log (backoffice, admin)
LINKS = {
    "hit": "/ui/meldingen/{id}",
    "fine": "/ui/fines/{id}",
    "fine_export_batch": "/ui/exports#batch-{id}",
    "user": "/ui/gebruikers/{id}",
    "zone_version": "/ui/zones#version-{id}",
    "permit": "/ui/vergunningen/vergunning/{id}",
    "permit_application": "/ui/vergunningen/aanvragen/{id}",
    "device": "/ui/autos#device-{id}",
}


class AuditRow(Protocol):
    """What an audit line needs (read-only: an audit entry or a row)."""

    @property
    def action(self) -> str: ...
    @property
    def target_type(self) -> str: ...
    @property
    def target_id(self) -> str | None: ...
    @property
    def detail(self) -> str: ...


@dataclass(frozen=True, slots=True)
class AuditLine:
    action: str  # what was done, in Dutch
    target: str  # "Boete 12"
    url: str | None  # the object's page, where there is one
    change: str  # the change in Dutch ("" when there is nothing to add)


def action_text(action: str) -> str:
    if action in ACTION:
        return ACTION[action]
    for prefix, (table, fallback) in FAMILIES.items():
        if action.startswith(prefix):
            return table.get(action.removeprefix(prefix), fallback)
    return action


_TRANSITION = re.compile(r"^(\w+)->(\w+)\s*(.*)$")
_PAIR = re.compile(r"(\w+)=([^\s;]+)")
_DIFF = re.compile(r"(\d+) (added|changed|removed)(?: \(([^)]*)\))?")


def _pairs(text: str) -> dict[str, str]:
    return dict(_PAIR.findall(text))


def _transition(detail: str, states: dict[str, str]) -> tuple[str, str]:
    """``from->to rest`` -> ('Te beoordelen → In behandeling', rest)."""
    m = _TRANSITION.match(detail.strip())
    if not m:
        return "", detail
    before, after, rest = m.groups()
    if before == after:
        return "", rest
    return f"{label(states, before)} → {label(states, after)}", rest


def _hit_change(detail: str) -> str:
    moved, rest = _transition(detail, STATUS)
    kv = _pairs(rest)
    parts = [moved] if moved else []
    if "reason" in kv:
        why = kv["reason"]
        table = REJECT_REASON if why in REJECT_REASON else RIGHT_REASON
        parts.append(f"reden: {label(table, why).lower()}")
    if "mode" in kv:
        parts.append({"remote": "op afstand", "on_site": "ter plaatse"}.get(kv["mode"], kv["mode"]))
    if "to" in kv:
        parts.append(f"aan {kv['to']}")
    return "; ".join(parts)


def _fine_change(detail: str) -> str:
    moved, rest = _transition(detail, FINE_STATUS)
    kv = _pairs(rest)
    parts = [moved] if moved else []
    if "batch" in kv:
        parts.append(f"exportbatch {kv['batch']}")
    if "amount_cents" in kv:
        parts.append(euro(int(kv["amount_cents"])))
    return "; ".join(parts)


def _export_change(detail: str) -> str:
    kv = _pairs(detail)
    parts = []
    if "track" in kv:
        parts.append(label(FINE_TRACK, kv["track"]))
    if "fines" in kv:
        parts.append(f"{kv['fines']} boetes")
    if "total_cents" in kv and kv["total_cents"].lstrip("-").isdigit():
        parts.append(f"totaal {euro(int(kv['total_cents']))}")
    return ", ".join(parts)


def zone_diff_text(summary: str) -> str:
    """``2 added (a, b); 1 changed (c: geometry); 0 removed`` in Dutch."""
    if summary.strip() == "no changes":
        return "geen wijzigingen"
    words = {"added": "toegevoegd", "changed": "gewijzigd", "removed": "verwijderd"}
    parts = []
    for count, what, names in _DIFF.findall(summary):
        shown = names.replace("geometry", "vorm")
        parts.append(f"{count} {words[what]}" + (f" ({shown})" if shown else ""))
    if "collection" in summary:
        parts.append("instellingen van de hele set gewijzigd")
    return "; ".join(parts) or summary


def _user_change(detail: str) -> str:
    kv = _pairs(detail)
    if "role" in kv:
        return f"rol: {label(ROLE, kv['role'])}"
    if "sessions_ended" in kv:
        n = kv["sessions_ended"]
        return "geen sessies open" if n == "0" else f"{n} sessie(s) beëindigd"
    m = _TRANSITION.match(detail.strip())
    if m:
        return f"{label(ROLE, m.group(1))} → {label(ROLE, m.group(2))}"
    return detail


def _permit_change(detail: str) -> str:
    moved, rest = _transition(detail, PERMIT_STATUS)
    rest = permit_reason(rest.strip())
    return "; ".join(p for p in (moved, rest) if p)


def _observation_change(detail: str) -> str:
    kv = _pairs(detail)
    return label(SUSPECT_REASON, kv["reason"]) if "reason" in kv else ""


def _purge_change(detail: str) -> str:
    return "verwijderd en geanonimiseerd volgens de bewaartermijnen" if detail else ""


_CHANGES: dict[str, Callable[[str], str]] = {
    "hit.": _hit_change,
    "fine.exported": _export_change,
    "fine.": _fine_change,
    "user.": _user_change,
    "zones.": zone_diff_text,
    "permit.": _permit_change,
    "observation.": _observation_change,
    "retention.": _purge_change,
}


def change_text(action: str, detail: str) -> str:
    if not detail:
        return ""
    for prefix, fn in _CHANGES.items():
        if action == prefix or (prefix.endswith(".") and action.startswith(prefix)):
            return fn(detail)
    return detail


def audit_line(row: AuditRow) -> AuditLine:
    kind = label(OBJECT, row.target_type)
    target = f"{kind} {row.target_id}" if row.target_id else kind
    link = LINKS.get(row.target_type)
    url = link.format(id=row.target_id) if link and (row.target_id or "").isdigit() else None
    return AuditLine(action_text(row.action), target, url, change_text(row.action, row.detail))
