"""The OpenID Connect adapter against a real provider (`oidc-provider` from npm) on loopback:
the authorization code flow with PKCE, the ID token's checks, and the refusals."""

from __future__ import annotations

from urllib.parse import parse_qs, urljoin, urlparse

import httpx
import pytest

from api.residents.oidc import OidcClient, OidcConfig, OidcError
from tests.oidc.harness import ProviderAccount, oidc_provider

REDIRECT = "http://127.0.0.1:9/mijn/inloggen/terug"  # never called: the test reads the code
JAN = ProviderAccount("jan", "jan-wachtwoord", "sub-jan-0001", "Jan Jansen", "jan@example.nl")


def _authorize(url: str, login: str, password: str) -> dict[str, str]:
    """Walk the provider's pages as a browser would; the query of the redirect back to us."""
    with httpx.Client(follow_redirects=False, timeout=10) as browser:
        r = browser.get(url)
        while r.status_code in (302, 303) and not r.headers["location"].startswith(REDIRECT):
            r = browser.get(urljoin(str(r.url), r.headers["location"]))
        assert r.status_code == 200, r.text[:300]
        assert "Inloggen bij Test-DigiD" in r.text
        r = browser.post(str(r.url), data={"login": login, "password": password})
        while r.status_code in (302, 303) and not r.headers["location"].startswith(REDIRECT):
            r = browser.get(urljoin(str(r.url), r.headers["location"]))
        if r.status_code == 200:
            return {"page": r.text}
        assert r.status_code in (302, 303), r.text[:300]
        return {k: v[0] for k, v in parse_qs(urlparse(r.headers["location"]).query).items()}


@pytest.fixture(scope="module")
def provider():
    with oidc_provider([REDIRECT], [JAN]) as running:
        yield running


@pytest.fixture
def client(provider) -> OidcClient:
    return OidcClient(OidcConfig(provider.issuer, provider.client_id, provider.client_secret))


def test_oidc_login_code_flow_with_pkce_gives_the_identity(client, provider):
    start = client.start(REDIRECT)
    query = parse_qs(urlparse(start.url).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["code_challenge"][0] != start.code_verifier
    assert query["nonce"] == [start.nonce]
    back = _authorize(start.url, JAN.login, JAN.password)
    assert back["state"] == start.state
    identity = client.finish(
        REDIRECT, code=back["code"], nonce=start.nonce, code_verifier=start.code_verifier
    )
    assert (identity.issuer, identity.subject) == (provider.issuer, JAN.sub)
    assert identity.name == JAN.name


def test_oidc_login_refuses_a_wrong_verifier_a_wrong_nonce_and_a_used_code(client):
    start = client.start(REDIRECT)
    code = _authorize(start.url, JAN.login, JAN.password)["code"]
    with pytest.raises(OidcError, match="refused the code: invalid_grant"):
        client.finish(REDIRECT, code=code, nonce=start.nonce, code_verifier="x" * 50)
    start = client.start(REDIRECT)
    code = _authorize(start.url, JAN.login, JAN.password)["code"]
    with pytest.raises(OidcError, match="nonce"):
        client.finish(REDIRECT, code=code, nonce="another-nonce", code_verifier=start.code_verifier)
    with pytest.raises(OidcError, match="invalid_grant"):  # a code is used once
        client.finish(REDIRECT, code=code, nonce=start.nonce, code_verifier=start.code_verifier)


def test_oidc_login_wrong_password_gives_no_code(client):
    start = client.start(REDIRECT)
    back = _authorize(start.url, JAN.login, "wrong")
    assert "code" not in back
    assert "onjuist" in back["page"]


def test_oidc_client_names_an_unreachable_provider():
    client = OidcClient(OidcConfig("http://127.0.0.1:9", "c", "s", timeout_s=2))
    with pytest.raises(OidcError, match="unreachable"):
        client.start(REDIRECT)
