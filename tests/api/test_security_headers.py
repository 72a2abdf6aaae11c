"""Headers: no-store on personal data, HSTS over https, the docs' CSP, hosts and redirects."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
from fastapi.testclient import TestClient

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def test_api_answers_with_personal_data_are_not_stored(client, accounts):
    boa = accounts.headers("boa")
    for path in (
        "/api/v1/hits",
        "/api/v1/auth/me",
        "/api/v1/rights/check?plate=GZ123T&lon=4.3&lat=52",
    ):
        r = client.get(path, headers=boa)
        assert r.status_code in (200, 422), (path, r.text)
        assert r.headers["cache-control"] == "no-store", path
    bo = accounts.headers("backoffice")
    for path in ("/api/v1/fines", "/api/v1/permits", "/api/v1/devices"):
        r = client.get(path, headers=bo)
        assert r.status_code == 200, (path, r.text)
        assert "no-store" in r.headers["cache-control"], path
    token = client.post(
        "/api/v1/auth/token", data={"username": accounts.user("boa"), "password": "correct-horse-1"}
    )
    assert token.headers["cache-control"] == "no-store"
    # errors too (they may echo a plate)
    assert client.get("/api/v1/hits/999", headers=boa).headers["cache-control"] == "no-store"


def test_static_files_may_be_cached(client):
    from api.ui.templating import UI

    static = UI / "static"
    name = next(p for p in static.rglob("*.css")).relative_to(static)
    r = client.get(f"/static/{name}")
    assert r.status_code == 200
    assert "no-store" not in r.headers.get("cache-control", "")


def test_hsts_only_over_https(app):
    with TestClient(app, base_url="https://scancar.example") as https:
        r = https.get("/healthz")
        assert r.headers["strict-transport-security"].startswith("max-age=31536000")
    with TestClient(app) as plain:
        assert "strict-transport-security" not in plain.get("/healthz").headers


def test_hsts_when_a_trusted_proxy_says_https(settings, engine):
    """Behind a TLS-terminating proxy the scheme comes from X-Forwarded-Proto, only when the
    proxy is trusted (real HTTP: the peer address decides)."""
    import httpx

    from api.main import create_app
    from tests.e2e.server import serve

    settings.trusted_proxies = ["127.0.0.1"]
    with serve(create_app(settings, engine=engine)) as base:
        r = httpx.get(f"{base}/healthz", headers={"X-Forwarded-Proto": "https"})
        assert "strict-transport-security" in r.headers
    settings.trusted_proxies = []
    with serve(create_app(settings, engine=engine)) as base:
        r = httpx.get(f"{base}/healthz", headers={"X-Forwarded-Proto": "https"})
        assert "strict-transport-security" not in r.headers


def test_docs_have_a_csp_made_for_the_page(client):
    for path in ("/docs", "/redoc"):
        r = client.get(path)
        assert r.status_code == 200
        csp = r.headers["content-security-policy"]
        directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
        assert directives["frame-ancestors"] == "'none'"
        assert directives["object-src"] == "'none'"
        assert "'unsafe-inline'" not in directives["script-src"]
        assert "'unsafe-eval'" not in directives["script-src"]
        inline = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", r.text, re.S)
        assert inline or path == "/redoc", "Swagger UI's start-up script is inline"
        for body in inline:
            digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
            assert f"'sha256-{digest}'" in directives["script-src"]
        assert r.headers["x-frame-options"] == "DENY"


def test_pages_and_api_keep_their_csp(client):
    assert "script-src 'self'" in client.get("/ui/login").headers["content-security-policy"]
    api = client.get("/healthz").headers["content-security-policy"]
    assert api == "default-src 'none'; frame-ancestors 'none'"


def test_redirects_never_name_a_foreign_host(client):
    # Starlette's trailing-slash redirect builds an absolute URL from the Host header
    r = client.get("/ui", headers={"Host": "evil.example"}, follow_redirects=False)
    assert r.status_code in (301, 302, 303, 307, 308)
    assert "evil.example" not in r.headers["location"]
    assert r.headers["location"].startswith("/ui")
    login = client.get("/ui/queue", headers={"Host": "evil.example"}, follow_redirects=False)
    assert "evil.example" not in login.headers["location"]


def test_allowed_hosts_refuse_other_host_names(settings, engine):
    from api.main import create_app

    settings.allowed_hosts = ["scancar.gemeente.example", "*.scancar.example"]
    app = create_app(settings, engine=engine)
    with TestClient(app, base_url="https://scancar.gemeente.example") as c:
        assert c.get("/healthz").status_code == 200
        assert (
            c.get("/healthz", headers={"Host": "scancar.gemeente.example:8443"}).status_code == 200
        )
        assert c.get("/healthz", headers={"Host": "boa.scancar.example"}).status_code == 200
        bad = c.get("/ui/queue", headers={"Host": "evil.example"}, follow_redirects=False)
        assert bad.status_code == 400
        assert bad.json() == {
            "detail": "this server does not answer to that host name",
            "code": "bad_host",
        }
        assert c.get("/healthz", headers={"Host": "scancar.example"}).status_code == 400
