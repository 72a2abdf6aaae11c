"""Hostile text is stored as text and shown escaped; pages carry the security headers."""

from __future__ import annotations

import pytest
from markupsafe import escape
from sqlmodel import Session, func, select

from api.hits.db import HitRow
from api.review import service
from tests.api.review_support import FakeRights, FakeZoneRules, after_grace, post_hit

PAYLOADS = [
    "'; DROP TABLE hits;--",
    '<script>alert("x")</script>',
    '"><img src=x onerror=alert(1)>',
    "${7*7}{{7*7}}",
]


@pytest.fixture
def app(settings, engine):
    from api.main import create_app

    return create_app(
        settings, engine=engine, rights_checker=FakeRights(), zone_rules=FakeZoneRules()
    )


def _login_page_session(client, accounts):
    name = accounts.user("boa", password="correct-horse-1")
    r = client.post(
        "/ui/login",
        data={"username": name, "password": "correct-horse-1", "next": "/ui/queue"},
        follow_redirects=False,
    )
    assert r.status_code == 303


@pytest.mark.parametrize("payload", PAYLOADS)
def test_injection_payloads_are_stored_verbatim_and_escaped(client, accounts, app, engine, payload):
    hid = post_hit(client, accounts.headers("device"), camera=payload[:64], zone_id=payload)
    service.run_grace_step(
        engine,
        app.state.backend.evidence_store,
        app.state.backend.rights_checker,
        app.state.backend.zone_rules,
        app.state.backend.settings,
        now=after_grace(),
    )
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(HitRow)).one() == 1
        assert s.get(HitRow, hid).zone_id == payload
    # query filters are bound parameters: the payload matches itself and nothing else
    r = client.get("/api/v1/hits", params={"zone": payload}, headers=accounts.headers("boa"))
    assert [h["id"] for h in r.json()["data"]] == [hid]
    r = client.get("/api/v1/hits", params={"zone": "' OR '1'='1"}, headers=accounts.headers("boa"))
    assert r.json()["count"] == 0
    _login_page_session(client, accounts)
    page = client.get(f"/ui/hits/{hid}")
    assert page.status_code == 200
    assert "<script>alert" not in page.text
    assert "<img src=x" not in page.text
    queue = client.get("/ui/queue")
    assert "<script>alert" not in queue.text
    assert str(escape(payload)) in queue.text  # shown, as text


@pytest.mark.parametrize("plate", ["GZ123T<script>", "1 OR 1=1", "GZ'123"])
def test_injection_bad_plates_are_refused(client, accounts, plate):
    r = client.get("/api/v1/hits", params={"plate": plate}, headers=accounts.headers("boa"))
    assert r.status_code in (200, 422)
    if r.status_code == 200:
        assert r.json()["count"] == 0


def test_pages_carry_security_headers(client, accounts):
    r = client.get("/ui/login")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "no-store" in r.headers["cache-control"]
    api = client.get("/healthz")
    assert api.headers["x-frame-options"] == "DENY"


def test_session_cookie_flags(client, accounts):
    name = accounts.user("boa", password="correct-horse-1")
    r = client.post(
        "/ui/login", data={"username": name, "password": "correct-horse-1"}, follow_redirects=False
    )
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert "path=/ui" in cookie


def test_login_form_from_another_origin_is_refused(client, accounts):
    name = accounts.user("boa", password="correct-horse-1")
    r = client.post(
        "/ui/login",
        data={"username": name, "password": "correct-horse-1"},
        headers={"Origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert r.status_code == 403
