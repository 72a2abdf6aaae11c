"""The permit desk (/ui/vergunningen) and the residents' portal (/mijn/) through HTTP, on SQLite
and PostgreSQL: the application questions with their errors, the desk's decisions with the
rules that apply, the waiting list, the letter, CSV import from a spreadsheet-made file and
export, visitor sessions as rights, and one resident never seeing another's permit.

The browser test (tests/e2e/test_permits_browser.py) runs the same flows in Chromium with the
OpenID login; this file checks the details that a browser test would make slow."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import timedelta

import pytest

from tests.api.permits_support import NOORD, check, now
from tests.conftest import REPO

ADDRESSES = REPO / "fixtures" / "addresses" / "town.csv"
PASSWORD = "correct-horse-1"


@pytest.fixture
def settings(db_url, tmp_path):  # type: ignore[no-untyped-def]
    from tests.conftest import make_test_settings

    return make_test_settings(db_url, tmp_path).model_copy(update={"portal_password_login": True})


@pytest.fixture
def world(engine, town):  # type: ignore[no-untyped-def]
    from api.db import session_scope
    from api.residents.addresses import import_addresses, read_addresses

    with session_scope(engine) as session:
        import_addresses(session, read_addresses(ADDRESSES.read_text(encoding="utf-8")))


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


class Browser:
    """A cookie-keeping client for one person (the app's TestClient with its own cookies)."""

    def __init__(self, app) -> None:  # type: ignore[no-untyped-def]
        from fastapi.testclient import TestClient

        self.client = TestClient(app)
        self.csrf = ""

    def get(self, url: str, status: int = 200):  # type: ignore[no-untyped-def]
        r = self.client.get(url)
        assert r.status_code == status, (url, r.status_code, r.text[:800])
        if 'name="csrf"' in r.text:
            self.csrf = _csrf(r.text)
        return r

    def post(self, url: str, data: dict, status: int = 200, files=None):  # type: ignore[no-untyped-def]
        r = self.client.post(url, data={"csrf": self.csrf, **data}, files=files)
        assert r.status_code == status, (url, r.status_code, r.text[:1500])
        if 'name="csrf"' in r.text:
            self.csrf = _csrf(r.text)
        return r

    def login_resident(self, name: str) -> None:
        r = self.get("/mijn/")
        assert "/mijn/inloggen" in str(r.url)
        r = self.client.post("/mijn/inloggen", data={"username": name, "password": PASSWORD})
        assert r.status_code == 200, r.text[:500]
        assert str(r.url).endswith("/mijn/")
        self.csrf = _csrf(r.text)

    def login_clerk(self, name: str) -> None:
        self.client.get("/ui/login")
        r = self.client.post("/ui/login", data={"username": name, "password": PASSWORD})
        assert r.status_code == 200, r.text[:500]
        self.csrf = _csrf(r.text)


def _apply(b: Browser, kind: str, postcode: str, number: str, **details: str) -> str:
    """Answer the application's questions and send it; the permit id from the confirmation."""
    state = {"type": kind}
    b.post("/mijn/aanvragen", {"step": "type", **state})
    state |= {"postcode": postcode, "house_number": number}
    r = b.post("/mijn/aanvragen", {"step": "address", **state})
    if "Kies uw adres" in r.text:
        state["address_id"] = re.findall(r'name="address_id" value="(\d+)"', r.text)[0]
        r = b.post("/mijn/aanvragen", {"step": "choose", **state})
    if kind != "visitor":
        state |= dict(re.findall(r'type="hidden" name="(address_id)" value="(\d+)"', r.text))
        state |= details
        r = b.post("/mijn/aanvragen", {"step": "details", **state})
    assert "Controleer uw aanvraag" in r.text
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', r.text))
    hidden.pop("csrf", None)
    r = b.post("/mijn/aanvragen", {**hidden, "step": "check"})
    assert "Aanvraag ontvangen" in r.text
    return re.search(r"<strong>(P-\w+)</strong>", r.text).group(1)  # type: ignore[union-attr]


def _application_id(b: Browser, permit_id: str) -> int:
    r = b.get(f"/ui/vergunningen/vergunning/{permit_id}")
    return int(re.search(r"/ui/vergunningen/aanvragen/(\d+)", r.text).group(1))  # type: ignore[union-attr]


def test_portal_application_questions_keep_answers_and_name_each_problem(app, accounts, world):
    jan = Browser(app)
    jan.login_resident(accounts.user("resident"))
    r = jan.post("/mijn/aanvragen", {"step": "type"}, status=422)
    assert 'href="#type"' in r.text  # the summary links to the field
    assert "Kies welke vergunning" in r.text
    r = jan.post(
        "/mijn/aanvragen",
        {"step": "address", "type": "resident", "postcode": "99", "house_number": "x"},
        status=422,
    )
    assert "Vul een postcode in zoals 1234 AB" in r.text
    assert "Vul het huisnummer in" in r.text
    assert 'value="99"' in r.text  # what was typed stays
    r = jan.post(
        "/mijn/aanvragen",
        {"step": "address", "type": "resident", "postcode": "9994 XA", "house_number": "1"},
        status=422,
    )
    assert "Westsingel 1, 9994 XA Voorbeeldstad ligt niet in een gebied" in r.text
    r = jan.post(
        "/mijn/aanvragen",
        {"step": "address", "type": "resident", "postcode": "9991aa", "house_number": "3"},
    )
    assert r.text.count('name="address_id"') == 4  # 3, 3A, 3B, 3-2
    base = {"type": "business", "postcode": "9992GA", "house_number": "1", "address_id": "0"}
    r = jan.post("/mijn/aanvragen", {"step": "choose", **base}, status=422)
    assert "Kies uw adres" in r.text
    r = jan.post(
        "/mijn/aanvragen",
        {"step": "details", "type": "business", "postcode": "9992GA", "house_number": "1",
         "address_id": "1", "plate1": "XX", "kvk_number": "123"},
        status=422,
    )  # fmt: skip
    for problem in ("Nederlands kenteken", "naam van het bedrijf", "KvK-nummer in: 8 cijfers"):
        assert problem in r.text
    assert 'value="XX"' in r.text


def test_desk_grants_refuses_and_the_resident_sees_decision_and_letter(app, accounts, world):
    jan, clerk = Browser(app), Browser(app)
    jan.login_resident(accounts.user("resident"))
    clerk_name = accounts.user("backoffice")
    clerk.login_clerk(clerk_name)
    granted = _apply(jan, "resident", "9991 AA", "1", plate1="gz-123-t")
    refused = _apply(jan, "business", "9992 GA", "1", plate1="XK-52-GV",
                     company_name="Bakkerij De Korst", kvk_number="12345678")  # fmt: skip
    r = clerk.get("/ui/vergunningen")
    assert re.search(r'id="group-open"[^>]*>Te beoordelen <span class="app-count">2<', r.text)
    assert "Bakkerij De Korst" in r.text
    r = clerk.get("/ui/vergunningen?groep=open&soort=business")
    assert "Bakkerij De Korst" in r.text
    assert "Lindelaan 1" not in r.text
    r = clerk.get("/ui/vergunningen?groep=open&gebied=9999_NOORD")
    assert "Lindelaan 1, 9991 AA" in r.text
    for junk, label in (("vanaf=garbage", "Ontvangen vanaf"), ("soort=zzz", "Soort")):
        r = clerk.get(f"/ui/vergunningen?groep=open&{junk}", status=422)  # never ignored
        assert f"ongeldige waarde voor &#39;{label}&#39;" in r.text, junk
    assert "Bakkerij" not in r.text
    app_id = _application_id(clerk, granted)
    r = clerk.get(f"/ui/vergunningen/aanvragen/{app_id}")
    assert "Geen quotum voor deze soort" in r.text
    assert "Geen andere vergunningen" in r.text
    r = clerk.post(f"/ui/vergunningen/aanvragen/{app_id}/besluit", {"decision": "grant"}, 422)
    assert 'id="grant-reason-error"' in r.text
    r = clerk.post(
        f"/ui/vergunningen/aanvragen/{app_id}/besluit",
        {"decision": "grant", "reason": "Woont op het adres; kenteken op eigen naam."},
    )
    assert "Het besluit is vastgelegd" in r.text
    assert f"Toegekend door {clerk_name} op" in r.text  # who and when
    letter = clerk.get(f"/ui/vergunningen/aanvragen/{app_id}/brief").text
    assert "Wij <strong>verlenen</strong> u de vergunning" in letter
    assert "GZ-123-T" in letter
    assert "bezwaar" in letter
    biz = _application_id(clerk, refused)
    clerk.post(
        f"/ui/vergunningen/aanvragen/{biz}/besluit",
        {"decision": "refuse", "reason": "Het bedrijf staat niet op dit adres ingeschreven."},
    )
    assert (
        "Wij <strong>weigeren</strong>" in clerk.get(f"/ui/vergunningen/aanvragen/{biz}/brief").text
    )
    mine = jan.get(f"/mijn/vergunningen/{refused}").text
    assert "Het bedrijf staat niet op dit adres ingeschreven." in mine
    assert "Actief" in jan.get(f"/mijn/vergunningen/{granted}").text
    # another resident: neither the page nor the API shows the permit
    piet = Browser(app)
    piet.login_resident(accounts.user("resident"))
    r = piet.get(f"/mijn/vergunningen/{granted}", status=404)
    assert "Niet gevonden" in r.text
    assert granted not in piet.get("/mijn/").text
    # a resident is no clerk
    assert piet.client.get("/ui/vergunningen").status_code in (200, 303)
    assert "/ui/login" in str(piet.client.get("/ui/vergunningen").url)


def test_desk_waiting_list_fills_when_a_place_frees(app, client, accounts, bo, world):
    r = client.put(
        "/api/v1/permit-quotas/9999_NOORD", json={"capacity": 1, "permit_types": ["resident"]},
        headers=bo,
    )  # fmt: skip
    assert r.status_code == 200, r.text
    jan, els, clerk = Browser(app), Browser(app), Browser(app)
    jan.login_resident(accounts.user("resident"))
    els.login_resident(accounts.user("resident"))
    clerk.login_clerk(accounts.user("backoffice"))
    first = _apply(jan, "resident", "9991AA", "1", plate1="GZ123T")
    second = _apply(els, "resident", "9991AB", "2", plate1="XK52GV")
    for pid in (first, second):
        app_id = _application_id(clerk, pid)
        page = clerk.get(f"/ui/vergunningen/aanvragen/{app_id}").text
        if pid == second:
            assert "Toekennen zet de aanvraag op de wachtlijst" in page
            assert ">Op de wachtlijst zetten</button>" in page
            quota = '<li id="rule-quota">Quotum Vergunninggebied Noord (gebied 9999_NOORD):'
            assert quota in page  # the area's name, its code beside it
        clerk.post(
            f"/ui/vergunningen/aanvragen/{app_id}/besluit",
            {"decision": "grant", "reason": "Voldoet aan de voorwaarden."},
        )
    assert (
        "plaats <strong>1</strong> van de wachtlijst"
        in els.get(f"/mijn/vergunningen/{second}").text
    )
    place = "op de wachtlijst van Vergunninggebied Noord (gebied 9999_NOORD), sinds"
    assert place in clerk.get(f"/ui/vergunningen/aanvragen/{app_id}").text  # the second's
    audit = clerk.get("/ui/audit?object=permit_application").text  # the outcomes, in Dutch
    cells = re.findall(r'class="utrecht-table__cell audit-action">([^<]*)<', audit)
    assert "Aanvraag toegekend" in cells
    assert "Aanvraag op de wachtlijst gezet" in cells
    assert "permit_application.grant" not in cells  # was: the code, unlabelled
    waiting = clerk.get("/ui/vergunningen/wachtlijsten").text
    assert re.search(r"Quotum <strong>1</strong>.*1 uitgegeven.*<strong>0</strong> vrij", waiting)
    assert "9991 AB" not in waiting  # names, not addresses, on the list
    heading = 'id="area-9999_NOORD">Vergunninggebied Noord (gebied 9999_NOORD)</h3>'
    assert heading in waiting  # the area's name, its code beside it
    jan.get(f"/mijn/vergunningen/{first}/beeindigen")
    r = jan.post(f"/mijn/vergunningen/{first}/beeindigen", {})
    assert "Uw vergunning is beëindigd" in r.text
    assert "Actief" in els.get(f"/mijn/vergunningen/{second}").text
    assert check(client, bo, "XK52GV", NOORD)["allowed"] is True
    assert check(client, bo, "GZ123T", NOORD, now() + timedelta(minutes=1))["allowed"] is False


def test_portal_plate_change_and_visitor_sessions_are_rights_at_once(
    app, client, accounts, bo, world
):
    jan, clerk = Browser(app), Browser(app)
    jan.login_resident(accounts.user("resident"))
    clerk.login_clerk(accounts.user("backoffice"))
    permit = _apply(jan, "resident", "9991AA", "1", plate1="GZ123T")
    visitor = _apply(jan, "visitor", "9991AA", "1")
    for pid in (permit, visitor):
        clerk.post(
            f"/ui/vergunningen/aanvragen/{_application_id(clerk, pid)}/besluit",
            {"decision": "grant", "reason": "In orde."},
        )
    jan.get(f"/mijn/vergunningen/{permit}/kenteken")
    r = jan.post(
        f"/mijn/vergunningen/{permit}/kenteken",
        {"old_plate": "GZ123T", "new_plate": "1-abc-23"},
        200,
    )
    assert "Het kenteken is gewijzigd" in r.text
    assert "1-ABC-23" in r.text
    later = now() + timedelta(minutes=1)
    assert check(client, bo, "1ABC23", NOORD, later)["allowed"] is True
    r = jan.post("/mijn/bezoek/start", {"plate": "", "until": "2"}, 422)
    assert 'href="#start-plate"' in r.text
    # a plate no Dutch series has is a typing error unless the resident says it is foreign
    r = jan.post("/mijn/bezoek/start", {"plate": "gz-123-tt", "until": "2"}, 422)
    assert "GZ123TT is geen Nederlands kenteken" in r.text
    assert 'href="#start-plate"' in r.text
    r = jan.post("/mijn/bezoek/favorieten", {"plate": "AB-12-CD", "label": "Oma"}, 422)
    assert "AB-12-CD is geen Nederlands kenteken" in r.text
    r = jan.post(
        "/mijn/bezoek/favorieten", {"plate": "AB-12-CD", "label": "Oma", "buitenlands": "1"}
    )
    assert "Oma" in r.text
    # a saved favourite was checked when it was saved
    r = jan.post("/mijn/bezoek/start", {"plate": "ab-12-cd", "until": "2"})
    assert "Het bezoek is aangemeld" in r.text
    assert ">38 uur<" in r.text  # 40 h less the 2 h just charged
    assert check(client, bo, "AB12CD", NOORD)["reason"] == "visitor"
    stop = re.search(r'action="(/mijn/bezoek/\d+/stop)"', r.text).group(1)  # type: ignore[union-attr]
    r = jan.post(stop, {})
    assert "Het bezoek is afgemeld" in r.text
    assert check(client, bo, "AB12CD", NOORD, now() + timedelta(minutes=2))["allowed"] is False
    history = clerk.get(f"/ui/vergunningen/vergunning/{visitor}").text
    assert "AB-12-CD" in history


def _spreadsheet_file(rows: list[list[str]]) -> bytes:
    """A CSV as a Dutch spreadsheet saves it: ';' separated, Windows-1252, CRLF."""
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode("cp1252")


def test_desk_csv_import_from_a_spreadsheet_and_export(app, accounts, world):
    clerk = Browser(app)
    clerk.login_clerk(accounts.user("backoffice"))
    clerk.get("/ui/vergunningen/import")
    header = [
        "id",
        "type",
        "holder_ref",
        "plates",
        "area_codes",
        "valid_from",
        "valid_to",
        "status",
    ]
    start = "2026-01-01T00:00:00+01:00"
    good = [
        header,
        ["IMP-1", "resident", "Café Zoë", "GZ-123-T;XK-52-GV", "9999_NOORD", start, "", ""],
        ["IMP-2", "business", "Bakkerij", "1ABC23", "9999_CENTRUM", start, "", "active"],
    ]
    bad = [
        header,
        ["IMP-3", "resident", "A", "GZ123T", "", "2026-01-01T00:00:00+01:00", "", ""],
        ["IMP-4", "boat", "B", "GZ123T", "9999_NOORD", "2026-01-01", "", ""],
    ]
    r = clerk.post(
        "/ui/vergunningen/import", {}, 422,
        files={"file": ("vergunningen.csv", _spreadsheet_file(bad), "text/csv")},
    )  # fmt: skip
    assert "2 foute regel(s); er is niets ingelezen" in r.text
    assert (
        "Regel 2, kolom area_codes: een vergunning van soort resident heeft een gebied nodig"
        in r.text
    )
    assert re.search(
        r"Regel 3, kolom type: (&#34;|&#39;)boat(&#34;|&#39;) mag niet; toegestaan:", r.text
    )
    r = clerk.post(
        "/ui/vergunningen/import", {}, 200,
        files={"file": ("vergunningen.csv", _spreadsheet_file(good), "text/csv")},
    )  # fmt: skip
    assert "2 vergunningen ingelezen" in r.text
    utf8 = (
        "\ufeff"
        + ";".join(header)
        + "\r\n"
        + ";".join(
            ["IMP-5", "care", "Zoë", "GZ12TT", "9999_NOORD", "2026-01-01T00:00:00+01:00", "", ""]
        )
    )  # Excel's "CSV UTF-8": a byte-order mark
    r = clerk.post(
        "/ui/vergunningen/import", {}, 200,
        files={"file": ("utf8.csv", utf8.encode("utf-8"), "text/csv")},
    )  # fmt: skip
    assert "1 vergunningen ingelezen" in r.text
    again = clerk.post(
        "/ui/vergunningen/import", {}, 409,
        files={"file": ("utf8.csv", utf8.encode("utf-8"), "text/csv")},
    )  # fmt: skip
    assert "1 vergunningnummer(s) bestaan al: IMP-5; er is niets ingelezen" in again.text
    found = clerk.get("/ui/vergunningen/zoeken?q=caf%C3%A9").text
    assert "IMP-1" in found
    assert "Café Zoë" in found
    assert "IMP-1" in clerk.get("/ui/vergunningen/zoeken?q=xk-52-gv").text
    export = clerk.client.get("/ui/vergunningen/export.csv")
    assert export.status_code == 200
    assert "attachment" in export.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert {r["id"] for r in rows} >= {"IMP-1", "IMP-2"}
    assert next(r for r in rows if r["id"] == "IMP-1")["holder_ref"] == "Café Zoë"


def test_desk_and_letter_name_the_area_and_say_what_is_missing(app, accounts, world):
    """The area by its name (the zone's) on the application and in the letter, the code
    beside it; an empty refusal asks for a reason without 'kies' (it is typed, not chosen);
    two unreadable plates are not called 'the same'."""
    jan, clerk = Browser(app), Browser(app)
    jan.login_resident(accounts.user("resident"))
    base = {"type": "resident", "postcode": "9991AA", "house_number": "1", "address_id": "1"}
    r = jan.post("/mijn/aanvragen", {"step": "details", **base, "plate1": "xx", "plate2": "xx"},
                 status=422)  # fmt: skip
    assert "Nederlands kenteken" in r.text
    assert "hetzelfde als het eerste" not in r.text
    r = jan.post("/mijn/aanvragen",
                 {"step": "details", **base, "plate1": "GZ-123-T", "plate2": "gz123t"},
                 status=422)  # fmt: skip
    assert "Het tweede kenteken is hetzelfde als het eerste." in r.text

    permit = _apply(jan, "resident", "9991 AA", "1", plate1="gz-123-t")
    clerk.login_clerk(accounts.user("backoffice"))
    app_id = _application_id(clerk, permit)
    page = clerk.get(f"/ui/vergunningen/aanvragen/{app_id}").text
    assert "<dt>Gebied</dt><dd>Vergunninggebied Noord (gebied 9999_NOORD)</dd>" in page
    r = clerk.post(f"/ui/vergunningen/aanvragen/{app_id}/besluit", {"decision": "refuse"}, 422)
    assert "Geef een reden op." in r.text
    assert "Kies een reden" not in r.text
    clerk.post(f"/ui/vergunningen/aanvragen/{app_id}/besluit",
               {"decision": "grant", "reason": "Woont op het adres."})  # fmt: skip
    letter = clerk.get(f"/ui/vergunningen/aanvragen/{app_id}/brief").text
    assert "voor Vergunninggebied Noord (gebied 9999_NOORD), geldig van" in letter
    label = "Vergunninggebied Noord (gebied 9999_NOORD)"
    inbox = clerk.get("/ui/vergunningen?groep=granted").text
    assert f'<option value="9999_NOORD">{label}</option>' in inbox
    assert f'<td class="utrecht-table__cell">{label}</td>' in inbox
    found = clerk.get("/ui/vergunningen/zoeken?q=GZ-123-T").text
    assert f'<option value="9999_NOORD">{label}</option>' in found
    assert f'<td class="utrecht-table__cell">{label}</td>' in found
    shown = clerk.get(f"/ui/vergunningen/vergunning/{permit}").text
    assert f"<dt>Gebied</dt><dd>{label}</dd>" in shown


def test_desk_csv_import_names_bad_dates_and_plates_in_dutch(app, accounts, world):
    clerk = Browser(app)
    clerk.login_clerk(accounts.user("backoffice"))
    clerk.get("/ui/vergunningen/import")
    rows = [
        ["id", "type", "holder_ref", "plates", "area_codes", "valid_from"],
        ["IMP-7", "resident", "A", "GZ123T", "9999_NOORD", "gisteren"],
        ["IMP-8", "resident", "B", "GZ?23T", "9999_NOORD", "2026-01-01"],
    ]
    r = clerk.post(
        "/ui/vergunningen/import", {}, 422,
        files={"file": ("vergunningen.csv", _spreadsheet_file(rows), "text/csv")},
    )  # fmt: skip
    text = html.unescape(r.text)
    assert 'Regel 2, kolom valid_from: "gisteren" is geen datum of tijd; schrijf 2026-01-01' in text
    assert "Regel 3, kolom plates: de tekens '?' mogen niet in een kenteken" in text
    assert "is not a date" not in text
    assert "are not allowed" not in text
