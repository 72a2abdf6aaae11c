"""The zone pages over HTTP, on both databases: a broken file refused with its problems as
the CLI lists them (feature, field, place) and nothing stored, a good file (WGS84 or RD New)
kept aside and previewed with its changes before it becomes a version, an identical file not
stored again, the versions with who and when, a version's page with what it changed, a
rollback stored as a new version (audit), and the pages closed to other roles."""

from __future__ import annotations

import copy
import json
import re
from html import unescape

from api.ui.labels import zone_note
from tests.api.test_admin_pages import _csrf, _login, _text
from tests.conftest import REPO

TOWN_TEXT = (REPO / "fixtures" / "zones" / "town.geojson").read_text()
TOWN = json.loads(TOWN_TEXT)
TOWN_RD = (REPO / "fixtures" / "zones" / "town_rd.geojson").read_bytes()


def _upload(client, csrf: str, data: bytes, name: str = "zones.geojson", **fields: str):
    return client.post(
        "/ui/zones/upload",
        data={"csrf": csrf, **fields},
        files={"bestand": (name, data, "application/geo+json")},
        follow_redirects=False,
    )


def _broken() -> bytes:
    doc = copy.deepcopy(TOWN)
    doc["features"][0]["properties"]["kind"] = "purple"
    doc["features"][2]["properties"].pop("name")
    doc["features"][3]["geometry"] = {
        "type": "Polygon",
        "coordinates": [[[4.35, 52.0], [4.36, 52.01], [4.36, 52.0], [4.35, 52.01], [4.35, 52.0]]],
    }
    return json.dumps(doc).encode()


def _plain(r) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", _text(r)))


def _versions(client) -> list[str]:
    return re.findall(r'class="utrecht-table__row version-row" data-version="(\d+)"',
                      client.get("/ui/zones").text)  # fmt: skip


def test_zone_pages_upload_preview_save_and_rollback(client, accounts):
    admin = accounts.user("admin", name="beheer-zones")
    _login(client, admin)
    page = client.get("/ui/zones")
    assert page.status_code == 200
    assert "Nog geen zones" in _text(page)
    csrf = _csrf(page.text)

    nothing = _upload(client, csrf, b"", name="")
    assert nothing.status_code == 422
    assert "Kies een zonebestand om aan te leveren." in _text(nothing)

    broken = _upload(client, csrf, _broken(), note="nieuwe indeling")
    assert broken.status_code == 422
    text = _text(broken)
    assert "Het bestand is niet ingelezen: 3 problemen." in text
    rows = [
        unescape_cell(r)
        for r in re.findall(r'<li class="utrecht-ordered-list__item problem-row">(.*?)</li>',
                            broken.text, re.S)
    ]  # fmt: skip
    assert rows[0].startswith("Feature nr. 0 (id 'centrum'), veld properties.kind:")
    assert rows[1].startswith("Feature nr. 2 (id 'zuid'), veld properties.name:")
    assert rows[2].startswith(
        "Feature nr. 3 (id 'blauw'), veld geometry, plaats 52,00500 N, 4,35500 O:"
    )  # the self-intersection's place
    assert rows[2].endswith(": Ongeldige vorm: de rand snijdt zichzelf.")
    assert "feature 3 (id 'blauw'): geometry: invalid polygon" in text  # the CLI's own line
    assert "Ongeldige vormen herstellen" in text
    assert 'value="nieuwe indeling"' in broken.text  # the note as typed
    assert _versions(client) == []  # nothing stored

    # a good file: a preview first, nothing stored yet
    first = _upload(client, csrf, TOWN_TEXT.encode(), name="town.geojson", note="eerste")
    assert first.status_code == 303, _text(first)[:2000]
    preview_url = first.headers["location"]
    preview = client.get(preview_url)
    assert "nog niet in gebruik" in _text(preview)
    assert "Opslaan als versie 1" in _text(preview)
    assert len(client.get(preview_url + ".geojson").json()["features"]) == 6
    assert _versions(client) == []
    saved = client.post(preview_url, data={"csrf": csrf}, follow_redirects=False)
    assert saved.status_code == 303
    assert "Versie 1 is opgeslagen en nu in gebruik (6 zones)." in _text(client.get("/ui/zones"))
    assert client.get(preview_url).status_code == 404  # used up
    assert _versions(client) == ["1"]

    # the same file again: nothing to store
    same = _upload(client, csrf, TOWN_TEXT.encode(), name="town.geojson")
    assert "gelijk aan versie 1" in _text(client.get(same.headers["location"]))
    # the town in RD New: converted; the rounding moves every outline a little
    rd = _upload(client, csrf, TOWN_RD, name="town_rd.geojson", crs="EPSG:28992")
    assert rd.status_code == 303, _text(rd)[:2000]
    rd_page = _plain(client.get(rd.headers["location"]))
    assert "omgerekend uit RD New" in rd_page
    assert "6 gewijzigd: Blauwe zone West (vorm)" in rd_page

    # a changed set: one zone removed, one renamed; the preview names the changes
    doc = copy.deepcopy(TOWN)
    removed = doc["features"].pop()["properties"]["name"]
    doc["features"][0]["properties"]["name"] = "Binnenstad"
    second = _upload(client, csrf, json.dumps(doc).encode(), name="v2.geojson")
    preview2 = _plain(client.get(second.headers["location"]))
    assert "Wat er verandert tegenover versie 1" in preview2
    assert f"1 verwijderd: {removed}" in preview2
    assert "1 gewijzigd: Binnenstad (naam)" in preview2
    client.post(second.headers["location"], data={"csrf": csrf})
    assert _versions(client) == ["2", "1"]
    listing = _text(client.get("/ui/zones"))
    assert "v2.geojson" in listing
    assert "beheer-zones" in listing

    # version 1's page: what it made, and what a rollback would change
    v1 = _plain(client.get("/ui/zones/versies/1"))
    assert "De eerste versie" in v1
    assert f"1 nieuw: {removed}" in v1  # the rollback brings the removed zone back
    assert "Versie 1 terugzetten als versie 3" in v1
    back = client.post("/ui/zones/versies/1/terugzetten", data={"csrf": csrf},
                       follow_redirects=False)  # fmt: skip
    assert back.status_code == 303
    after = _text(client.get("/ui/zones"))
    assert "De zones van versie 1 zijn teruggezet als nieuwe versie 3." in after
    assert _versions(client) == ["3", "2", "1"]
    assert "teruggezet naar versie 1" in after
    assert len(client.get("/ui/zones/versies/3.geojson").json()["features"]) == 6
    audit = client.get("/ui/audit", params={"action": "zones.*"})
    assert audit.text.count("audit-row") == 3
    assert 'data-action="zones.rolled_back"' in audit.text
    assert client.get("/ui/zones/versies/9").status_code == 404

    # a clerk and a BOA do not manage zones
    _login(client, accounts.user("backoffice", name="bo-zones"))
    assert client.get("/ui/zones", follow_redirects=False).status_code == 403
    assert client.get("/ui/zones/versies/1.geojson", follow_redirects=False).status_code == 403


def _problem_rows(r) -> list[str]:
    row = r'<li class="utrecht-ordered-list__item problem-row">(.*?)</li>'
    return [unescape_cell(cell) for cell in re.findall(row, r.text, re.S)]


def test_zone_page_names_the_problems_in_dutch(client, accounts):
    """Each problem of a refused file in Dutch, where it is beside it; the English lines of
    ``scancar zones check`` only in the folded-away block marked as English."""
    _login(client, accounts.user("admin", name="beheer-nl"))
    csrf = _csrf(client.get("/ui/zones").text)
    doc = copy.deepcopy(TOWN)
    doc["features"][0]["properties"].pop("area_code")  # a missing property
    doc["features"][1]["properties"]["kind"] = "purple"  # not one of the kinds
    doc["features"][2]["properties"]["schedule"][0]["start"] = "25:00"  # no such time
    doc["features"][3]["geometry"]["coordinates"][0].pop()  # a ring not closed
    doc["features"][4]["properties"]["grace_minutes"] = -1
    r = _upload(client, csrf, json.dumps(doc).encode())
    assert r.status_code == 422
    assert _problem_rows(r) == [
        "Feature nr. 0 (id 'centrum'), veld properties.area_code: "
        "Dit veld ontbreekt; het is verplicht.",
        "Feature nr. 1 (id 'noord'), veld properties.kind: 'purple' is niet toegestaan; "
        "kies uit: 'paid', 'permit', 'blue', 'loading', 'no_parking'.",
        "Feature nr. 2 (id 'zuid'), veld properties.schedule[0].start: "
        "'25:00' bestaat niet: uren 00 tot 23 (of 24:00), minuten 00 tot 59.",
        "Feature nr. 3 (id 'blauw'), veld geometry.coordinates[0]: De rand is niet gesloten: "
        "het eerste punt (52,00850 N, 4,35300 O) is niet het laatste (52,00850 N, 4,34800 O). "
        "Een GeoJSON-rand herhaalt het eerste punt aan het eind.",
        "Feature nr. 4 (id 'laden-kerkstraat'), veld properties.grace_minutes: "
        "-1 is te klein: minstens 0.",
    ]
    listed = re.search(r'<ol [^>]*id="problem-list">(.*?)</ol>', r.text, re.S)
    assert listed is not None
    english = re.compile(r"\b(missing|required|allowed|should|must|ring|valid|hours|input)\b")
    assert not english.search(unescape_cell(listed.group(1)))
    assert 'lang="en"' not in listed.group(1)
    # the CLI's own lines, unchanged, folded away and marked as English
    cli = re.search(r'<pre class="bo-cli" lang="en">(.*?)</pre>', r.text, re.S)
    assert cli is not None
    assert "feature 0 (id 'centrum'): properties.area_code: missing (required)" in unescape(
        cli.group(1)
    )
    assert "Ongeldige vormen herstellen</a> aan" in r.text  # an open ring is repaired too


def test_zone_preview_names_repairs_and_warnings_in_dutch(client, accounts):
    _login(client, accounts.user("admin", name="beheer-herstel"))
    csrf = _csrf(client.get("/ui/zones").text)
    doc = json.loads(_broken())
    doc["features"][0]["properties"]["kind"] = "paid"
    doc["features"][2]["properties"]["name"] = "Zuid"
    doc["features"][1]["properties"]["kleur"] = "rood"  # not a property of a zone
    r = _upload(client, csrf, json.dumps(doc).encode(), fix="1")  # feature 3 self-intersects
    assert r.status_code == 303, _text(r)[:2000]
    preview = client.get(r.headers["location"]).text
    listed = re.search(r'<ul ([^>]*id="notices"[^>]*)>(.*?)</ul>', preview, re.S)
    assert listed is not None
    assert 'lang="en"' not in listed.group(0)
    rows = [unescape_cell(row) for row in re.findall(r"<li [^>]*>(.*?)</li>", listed.group(2))]
    assert rows == [
        "Feature nr. 3 (id 'blauw'), veld geometry, plaats 52,00500 N, 4,35500 O: "
        "De ongeldige vorm (de rand snijdt zichzelf) is hersteld; de zone is nu 2 losse vlakken.",
        "Feature nr. 1 (id 'noord'), veld properties.kleur: "
        "Onbekende eigenschap; die is genegeerd.",
    ]


def unescape_cell(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", "", html))).strip()


def test_zone_notes_and_export_periods_in_dutch():
    from datetime import UTC, datetime

    from api.ui.labels import period_days

    start = datetime(2026, 11, 30, 23, 0, tzinfo=UTC)  # 1 December, local midnight
    assert period_days(start, datetime(2026, 12, 7, 23, 0, tzinfo=UTC)) == (
        "01-12-2026 t/m 07-12-2026"
    )
    assert period_days(start, datetime(2026, 12, 1, 23, 0, tzinfo=UTC)) == "01-12-2026"
    assert period_days(None, None) == "alles"
    assert zone_note("rollback to version 4") == "teruggezet naar versie 4"
    assert zone_note("import town.geojson") == "ingelezen uit town.geojson"
    assert zone_note("mijn eigen tekst") == "mijn eigen tekst"


def test_zone_upload_of_text_that_is_no_json_is_never_read_as_a_path(client, accounts, tmp_path):
    """An uploaded file whose text is not JSON is refused as such; its text is never taken
    for a path on the server (it used to be: 'cannot read <the text>')."""
    secret = tmp_path / "elders.geojson"
    secret.write_text(TOWN_TEXT)  # a valid zone file somewhere on the server
    _login(client, accounts.user("admin", name="beheer-pad"))
    csrf = _csrf(client.get("/ui/zones").text)
    for data in (str(secret).encode(), b"hallo"):
        r = _upload(client, csrf, data)
        assert r.status_code == 422, data
        text = _plain(r)
        assert (
            "Het bestand als geheel, veld file: Het bestand is geen geldige JSON. "
            "Een GeoJSON-bestand begint met '{'."
        ) in text, text
        assert "cannot read" not in text
        assert str(secret) not in text
    assert _versions(client) == []  # nothing stored, the server's file not imported
