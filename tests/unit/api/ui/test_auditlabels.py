"""The audit log in Dutch: every action the backend records has Dutch text, and the stored
details become readable changes without codes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from api.ui.auditlabels import action_text, audit_line, change_text, zone_diff_text

API = Path(__file__).resolve().parents[4] / "api"
# record(session, actor, "fine.exported", ...) / append(conn, actor, f"hit.{...}", ...)
RECORDED = re.compile(r"\b(?:record|append)\(\s*\w+,\s*[\w.()]+,\s*(f?)\"([a-z_]+)\.([a-z_{}.]+)\"")
# ... or handed on as action="zones.rolled_back"
NAMED = re.compile(r"\baction=\"([a-z_]+\.[a-z_]+)\"")


def _recorded_actions() -> set[str]:
    found = set()
    for path in API.rglob("*.py"):
        for is_f, family, name in RECORDED.findall(path.read_text(encoding="utf-8")):
            found.add(f"{family}.{'*' if is_f and '{' in name else name}")
        found.update(NAMED.findall(path.read_text(encoding="utf-8")))
    return found


def test_auditlabels_every_recorded_action_has_dutch_text() -> None:
    actions = _recorded_actions()
    assert {"user.created", "fine.exported", "hit.*", "fine.*", "zones.version_created"} <= actions
    missing = [a for a in actions if "*" not in a and action_text(a) == a]
    assert missing == []


@pytest.mark.parametrize(
    ("action", "text"),
    [("hit.confirm", "Overtreding bevestigd"), ("fine.issue", "Opgelegd"),
     ("permit.revoke", "Ingetrokken"), ("hit.brand_new", "Melding gewijzigd")],
)  # fmt: skip
def test_auditlabels_state_machine_actions_use_their_tables(action, text) -> None:
    assert action_text(action) == text


@pytest.mark.parametrize(
    ("action", "detail", "text"),
    [
        ("hit.claim", "awaiting_review->claimed ", "Te beoordelen → In behandeling"),
        ("hit.reject", "claimed->rejected reason=driver_present",
         "In behandeling → Afgewezen; reden: bestuurder aanwezig"),
        ("hit.confirm", "claimed->confirmed mode=on_site check=3 distance_m=8.1",
         "In behandeling → Bevestigd; ter plaatse"),
        ("fine.issue", "draft->issued ", "Concept → Opgelegd"),
        ("fine.exported", "track=wahv fines=3 total_cents=34500",
         "WAHV (Mulder), 3 boetes, totaal €\u00a0345,00"),
        ("user.role_changed", "boa->coordinator", "Handhaver (BOA) → Coördinator meldkamer"),
        ("user.created", "role=backoffice", "rol: Backoffice"),
        ("zones.rolled_back", "1 added (noord); 1 changed (centrum: geometry/schedule); 0 removed",
         "1 toegevoegd (noord); 1 gewijzigd (centrum: vorm/schedule); 0 verwijderd"),
        ("observation.received", "reason=no_right", "Geen parkeerrecht"),
        ("device.revoked", "", ""),
    ],
)  # fmt: skip
def test_auditlabels_changes_in_dutch(action, detail, text) -> None:
    assert change_text(action, detail) == text


def test_auditlabels_zone_diff_without_changes() -> None:
    assert zone_diff_text("no changes") == "geen wijzigingen"


@dataclass
class Row:
    action: str
    target_type: str
    target_id: str
    detail: str


def test_auditlabels_line_links_to_the_object_page() -> None:
    line = audit_line(Row("fine.issue", "fine", "12", "draft->issued "))
    assert (line.action, line.target, line.url) == ("Opgelegd", "Boete 12", "/ui/fines/12")
    purge = audit_line(Row("retention.purge", "retention", "2026-03-07", "hits=2"))
    assert purge.url is None
    assert purge.target == "Opschoning 2026-03-07"
