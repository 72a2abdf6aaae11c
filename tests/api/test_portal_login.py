"""The portal's logins without a provider at hand: the OpenID login's refusals (provider
down, a way back without or with a wrong state), the demo password login refusing staff
accounts, logout ending the server-side session, and the visitor budget in hours or euros."""

from __future__ import annotations

import pytest

from api.ui.portal.routes import budget_text

PASSWORD = "correct-horse-1"


@pytest.fixture
def settings(db_url, tmp_path):  # type: ignore[no-untyped-def]
    from tests.conftest import make_test_settings

    return make_test_settings(db_url, tmp_path).model_copy(
        update={
            "portal_password_login": True,
            "oidc_issuer": "http://127.0.0.1:9",  # nothing listens there
            "oidc_client_id": "portal",
            "oidc_client_secret": "s" * 32,
        }
    )


def test_portal_oidc_login_refusals_are_dutch_pages(client):
    r = client.get("/mijn/inloggen")
    assert 'id="oidc-login"' in r.text
    down = client.get("/mijn/inloggen/oidc")
    assert down.status_code == 503
    assert "Inloggen bij DigiD lukt nu niet" in down.text
    lost = client.get("/mijn/inloggen/terug", params={"code": "abc", "state": "xyz"})
    assert lost.status_code == 400
    assert "afgebroken of verlopen" in lost.text
    cancelled = client.get("/mijn/inloggen/terug", params={"error": "access_denied"})
    assert cancelled.status_code == 400
    assert "scancar_portal=" not in cancelled.headers.get("set-cookie", "")


def test_portal_password_login_is_for_residents_and_logout_ends_the_session(client, accounts):
    clerk = accounts.user("backoffice")
    r = client.post("/mijn/inloggen", data={"username": clerk, "password": PASSWORD})
    assert r.status_code == 403
    assert "scancar_portal" not in client.cookies
    jan = accounts.user("resident")
    r = client.post("/mijn/inloggen", data={"username": jan, "password": "wrong-password-1"})
    assert r.status_code == 401
    assert 'value="wrong-password-1"' not in r.text  # a password is never sent back
    r = client.post("/mijn/inloggen", data={"username": jan, "password": PASSWORD})
    assert str(r.url).endswith("/mijn/")
    token = client.cookies["scancar_portal"]
    csrf = r.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    r = client.post("/mijn/uitloggen", data={"csrf": csrf})
    assert "U bent uitgelogd" in r.text
    client.cookies.set("scancar_portal", token, path="/mijn")  # a copy kept from before
    assert "/mijn/inloggen" in str(client.get("/mijn/").url)
    # a resident's session opens no staff page
    client.post("/mijn/inloggen", data={"username": jan, "password": PASSWORD})
    assert "/ui/login" in str(client.get("/ui/vergunningen").url)


@pytest.mark.parametrize(
    ("minutes", "unit", "text"),
    [
        (2400, "hours", "40 uur"),
        (150, "hours", "2 uur 30 min"),
        (0, "hours", "0 uur"),
        (150, "euros", "€\u00a03,75 (2 uur 30 min)"),
    ],
)
def test_portal_budget_text_in_hours_or_euros(minutes, unit, text):
    assert budget_text(minutes, unit, 150) == text


def test_portal_login_returns_only_to_a_portal_page(client, accounts):
    """``next`` after the portal's login stays under /mijn/: a dot segment the browser would
    resolve elsewhere (``/mijn/../api/...``) lands on the portal's start page."""
    jan = accounts.user("resident")
    for next_url, lands in (
        ("/mijn/bezoek", "/mijn/bezoek"),
        ("/mijn/../api/v1/resident/permits", "/mijn/"),
        ("/mijn/%2E%2E/ui/queue", "/mijn/"),
    ):
        client.cookies.clear()
        r = client.post(
            "/mijn/inloggen",
            data={"username": jan, "password": PASSWORD, "next": next_url},
            follow_redirects=False,
        )
        assert (r.status_code, r.headers["location"]) == (303, lands), next_url
