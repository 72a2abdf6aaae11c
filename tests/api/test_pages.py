"""The page foundation over HTTP: role start pages and navigation, HTML error pages under /ui
(never the API's JSON), page refusals with the API's status and Dutch text, the theme file,
the favicon and compressed static files."""

from __future__ import annotations

import re
from html import unescape

import pytest

from api.review import service
from api.settings import BackendSettings
from api.ui.session import COOKIE
from tests.api.review_support import FakeRights, FakeZoneRules, after_grace, post_hit
from tests.conftest import make_test_settings

NAV_LINK = re.compile(r'class="app-nav__link"[^>]*href="([^"]+)"')
BUTTON_LINK = re.compile(r'<a class="utrecht-button-link[^"]*" href="([^"]+)"')


@pytest.fixture
def app(settings, engine):
    from api.main import create_app

    return create_app(
        settings, engine=engine, rights_checker=FakeRights(), zone_rules=FakeZoneRules()
    )


def _login(client, accounts, role: str, name: str | None = None, next_url: str = "") -> str:
    name = accounts.user(role, name=name, password="correct-horse-1")
    client.cookies.clear()
    r = client.post(
        "/ui/login",
        data={"username": name, "password": "correct-horse-1", "next": next_url},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    client.cookies.set(COOKIE, r.cookies[COOKIE], path="/ui")
    return r.headers["location"]


def _open_hit(client, accounts, app, engine, **overrides) -> int:
    hid = post_hit(client, accounts.headers("device"), **overrides)
    service.run_grace_step(
        engine,
        app.state.backend.evidence_store,
        app.state.backend.rights_checker,
        app.state.backend.zone_rules,
        app.state.backend.settings,
        now=after_grace(),
    )
    return hid


def _csrf(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, "no CSRF token on the page"
    return m.group(1)


@pytest.mark.parametrize(
    ("role", "start"),
    [
        ("boa", "/ui/queue"),
        ("backoffice", "/ui/dashboard"),
        ("admin", "/ui/admin"),
        ("coordinator", "/ui/meldkamer"),
    ],
)
def test_pages_each_role_lands_on_its_start_page_and_every_nav_link_answers(
    client, accounts, role, start
):
    assert _login(client, accounts, role) == start
    page = client.get(start)
    assert page.status_code == 200
    assert "Uitloggen" in page.text
    links = NAV_LINK.findall(page.text)
    assert start in links
    for href in links:
        assert client.get(href).status_code == 200, href
    root = client.get("/ui/", follow_redirects=False)
    assert (root.status_code, root.headers["location"]) == (303, start)


def test_pages_login_refusals_are_dutch_with_the_api_status(client, accounts):
    name = accounts.user("provider", password="correct-horse-1")
    r = client.post("/ui/login", data={"username": name, "password": "correct-horse-1"})
    assert r.status_code == 403
    assert "geen toegang tot deze pagina" in r.text
    wrong = client.post("/ui/login", data={"username": name, "password": "wrong-password"})
    assert wrong.status_code == 401
    assert "Gebruikersnaam of wachtwoord onjuist." in wrong.text
    assert f'value="{name}"' in wrong.text  # the typed name is kept, the password is not
    assert "wrong-password" not in wrong.text
    empty = client.post("/ui/login", data={"username": "", "password": ""})
    assert empty.status_code == 422
    assert 'href="#username">Vul uw gebruikersnaam in.' in empty.text
    assert 'aria-describedby="username-error"' in empty.text


def test_pages_errors_under_ui_are_html_with_a_way_back(client, accounts, app, engine):
    hid = _open_hit(client, accounts, app, engine)
    _login(client, accounts, "boa")
    cases = [
        ("/ui/no-such-page", 404, "bestaat niet"),
        ("/ui/hits/999999", 404, "bestaat niet"),
        ("/ui/hits/abc", 422, "ongeldige waarde voor 'hit_id'"),
        ("/ui/queue?lat=north", 422, "ongeldige waarde voor 'lat'"),
        (f"/ui/hits/{hid}/evidence/nope.jpg", 404, "foto is niet (meer) beschikbaar"),
        ("/ui/dashboard", 403, "niet voor uw rol"),
    ]
    for url, status, text in cases:
        r = client.get(url)
        assert r.status_code == status, url
        assert r.headers["content-type"].startswith("text/html"), url
        assert text in unescape(r.text), url
        assert '"code"' not in r.text
        ways = BUTTON_LINK.findall(r.text)
        assert "/ui/queue" in ways, url  # the BOA's start page
        for href in ways:  # a way back never leads to another refusal
            assert client.get(href).status_code == 200, (url, href)
    evidence = client.get(f"/ui/hits/{hid}/evidence/nope.jpg")
    assert f'href="/ui/hits/{hid}"' in evidence.text
    # the API keeps its JSON
    api = client.get("/api/v1/hits/999999", headers=accounts.headers("boa"))
    assert api.status_code == 404
    assert api.json()["code"] == "not_found"
    client.cookies.clear()
    anon = client.get("/ui/no-such-page")
    assert anon.status_code == 404
    assert 'href="/ui/login"' in anon.text


def test_pages_refuse_with_the_api_status_and_keep_what_was_typed(client, accounts, app, engine):
    hid = _open_hit(client, accounts, app, engine)
    other = _open_hit(client, accounts, app, engine, plate="XK52GV")
    # the API: reason "other" without a note is 422
    boa_api = accounts.headers("boa")
    assert client.post(f"/api/v1/hits/{hid}/claim", headers=boa_api).status_code == 200
    api = client.post(f"/api/v1/hits/{hid}/reject", json={"reason": "other"}, headers=boa_api)
    assert (api.status_code, api.json()["code"]) == (422, "note_required")
    assert client.post(f"/api/v1/hits/{hid}/release", headers=boa_api).status_code == 200

    _login(client, accounts, "boa", name="boa-page")
    csrf = _csrf(client.get(f"/ui/hits/{hid}").text)
    claimed = client.post(f"/ui/hits/{hid}/claim", data={"csrf": csrf})
    assert claimed.status_code == 200, unescape(claimed.text)[-3000:]
    page = client.post(
        f"/ui/hits/{hid}/reject", data={"csrf": csrf, "reason": "other", "note": "   "}
    )
    assert page.status_code == 422
    assert "Bij 'Anders' is een toelichting verplicht" in unescape(page.text)
    assert 'href="#reject-note"' in page.text  # the summary links to the field
    assert re.search(r'id="reject-other"[^>]*checked|value="other" checked', page.text)
    kept = client.post(
        f"/ui/hits/{hid}/reject",
        data={"csrf": csrf, "reason": "unknown_reason", "note": "mijn aantekening"},
    )
    assert kept.status_code == 422
    assert "mijn aantekening</textarea>" in kept.text

    # a colleague's claim: 409 from both
    assert client.post(f"/api/v1/hits/{other}/claim", headers=boa_api).status_code == 200
    taken = client.post(f"/ui/hits/{other}/claim", data={"csrf": csrf})
    third = accounts.login(accounts.user("boa", name="boa-third"))
    api_taken = client.post(
        f"/api/v1/hits/{other}/claim", headers={"Authorization": f"Bearer {third}"}
    )
    assert taken.status_code == api_taken.status_code == 409
    assert "Een collega behandelt deze melding al." in taken.text


def test_pages_theme_favicon_and_compressed_static(client, tmp_path, db_url, engine):
    css = client.get("/ui/theme.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert ".voorbeeld-theme" in css.text
    icon = client.get("/favicon.ico")
    assert (icon.status_code, icon.headers["content-type"]) == (200, "image/svg+xml")
    big = client.get(
        "/static/nlds/utrecht-component-library.css", headers={"Accept-Encoding": "gzip"}
    )
    assert big.status_code == 200
    assert big.headers["content-encoding"] == "gzip"
    assert ".utrecht-button" in big.text
    assert big.num_bytes_downloaded < len(big.content) / 5  # sent compressed

    # a municipality's own tokens file and class
    from fastapi.testclient import TestClient

    from api.main import create_app

    own = tmp_path / "gemeente.css"
    own.write_text(".gemeente-theme { --utrecht-document-color: #123456; }")
    settings = make_test_settings(db_url, tmp_path).model_copy(
        update={"ui_theme_css": own, "ui_theme_class": "gemeente-theme"}
    )
    with TestClient(create_app(settings, engine=engine)) as c:
        assert c.get("/ui/theme.css").text == own.read_text()
        assert 'class="utrecht-root gemeente-theme"' in c.get("/ui/login").text


def test_pages_theme_setting_must_name_a_file(tmp_path):
    with pytest.raises(ValueError, match=r"SCANCAR_UI_THEME_CSS=.*no such file"):
        BackendSettings(env="test", secret_key="x" * 40, ui_theme_css=tmp_path / "none.css")


def test_pages_hit_read_only_for_the_back_office_says_so(client, accounts, app, engine):
    """The back office may open a hit from the queue but not decide it: the page says so
    instead of showing no decision bar without a word; the BOA sees no such line."""
    hid = _open_hit(client, accounts, app, engine)
    _login(client, accounts, "backoffice")
    page = client.get(f"/ui/hits/{hid}")
    assert page.status_code == 200
    assert "Alleen lezen: beoordelen doet een handhaver." in page.text
    assert 'id="open-confirm"' not in page.text
    assert "Beoordelen</button>" not in page.text
    _login(client, accounts, "boa")
    boa = client.get(f"/ui/hits/{hid}")
    assert "Alleen lezen" not in boa.text
    assert "Beoordelen</button>" in boa.text


def test_pages_login_never_returns_to_a_page_outside_ui(client, accounts):
    """After login, ``next`` leads to a page under /ui/ only: a dot segment that the browser
    would resolve to the JSON API (``/ui/../api/v1/hits``) goes to the start page instead."""
    name = accounts.user("backoffice", password="correct-horse-1")
    cases = {
        "/ui/fines": "/ui/fines",
        "/ui/meldingen?kenteken=AA-11": "/ui/meldingen?kenteken=AA-11",
        "/ui/../api/v1/hits": "/ui/dashboard",
        "/ui/%2e%2e/api/v1/hits": "/ui/dashboard",
        "/ui/./fines": "/ui/dashboard",
        "//evil.example/ui/": "/ui/dashboard",
    }
    for next_url, lands in cases.items():
        client.cookies.clear()
        r = client.post(
            "/ui/login",
            data={"username": name, "password": "correct-horse-1", "next": next_url},
            follow_redirects=False,
        )
        assert (r.status_code, r.headers["location"]) == (303, lands), next_url
