"""Logging residents in through OpenID Connect: the authorization code flow with PKCE (S256),
as municipalities put DigiD / eHerkenning behind a broker.

The one adapter around the client libraries: Authlib's OAuth 2 client (authorization URL with
the PKCE challenge, the token request with the verifier and the client secret) and joserfc
(the ID token's signature against the provider's published keys, and its claims: issuer,
audience, expiry, nonce). The provider's metadata and keys are read from its discovery
document and kept for an hour; a key the cached set lacks makes one fresh read (key rotation).
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc6749 import OAuth2Error
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

METADATA_MAX_AGE_S = 3600.0
ID_TOKEN_ALGORITHMS = ("RS256", "PS256", "ES256")
LEEWAY_S = 60


class OidcError(Exception):
    """The login did not complete; the message says why (for the log and the error page)."""


@dataclass(frozen=True, slots=True)
class OidcConfig:
    issuer: str
    client_id: str
    client_secret: str
    scopes: str = "openid profile"
    timeout_s: float = 10.0


@dataclass(frozen=True, slots=True)
class LoginStart:
    """Where to send the browser, and what to keep until it comes back (server side or in a
    signed cookie): ``state``, ``nonce`` and the PKCE ``code_verifier``."""

    url: str
    state: str
    nonce: str
    code_verifier: str


@dataclass(frozen=True, slots=True)
class OidcIdentity:
    issuer: str
    subject: str
    name: str
    email: str | None


class OidcClient:
    """One per process (built in the composition root); thread-safe."""

    def __init__(self, config: OidcConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._metadata: dict[str, Any] | None = None
        self._keys: KeySet | None = None
        self._read_at = 0.0

    # ------------------------------------------------------------------ provider metadata
    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = requests.get(url, timeout=self.config.timeout_s)
        except requests.RequestException as exc:
            raise OidcError(f"the OpenID provider is unreachable ({type(exc).__name__})") from None
        if response.status_code != 200:
            raise OidcError(f"the OpenID provider answered {response.status_code} for {url}")
        try:
            data = response.json()
        except ValueError:
            raise OidcError(f"the OpenID provider sent no JSON for {url}") from None
        if not isinstance(data, dict):
            raise OidcError(f"the OpenID provider sent no JSON object for {url}")
        return data

    def _refresh(self) -> tuple[dict[str, Any], KeySet]:
        issuer = self.config.issuer.rstrip("/")
        metadata = self._get_json(f"{issuer}/.well-known/openid-configuration")
        if metadata.get("issuer") != self.config.issuer:
            raise OidcError(
                f"the provider's issuer {metadata.get('issuer')!r} is not the configured "
                f"{self.config.issuer!r}"
            )
        for field in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(metadata.get(field), str):
                raise OidcError(f"the provider's metadata has no {field}")
        try:
            keys = KeySet.import_key_set(self._get_json(metadata["jwks_uri"]))  # type: ignore[arg-type]
        except (JoseError, ValueError, KeyError, TypeError) as exc:
            raise OidcError(f"the provider's keys cannot be read: {exc}") from None
        with self._lock:
            self._metadata, self._keys, self._read_at = metadata, keys, time.monotonic()
        return metadata, keys

    def _provider(self) -> tuple[dict[str, Any], KeySet]:
        with self._lock:
            fresh = time.monotonic() - self._read_at < METADATA_MAX_AGE_S
            if fresh and self._metadata is not None and self._keys is not None:
                return self._metadata, self._keys
        return self._refresh()

    def _session(self, redirect_uri: str) -> OAuth2Session:
        return OAuth2Session(
            client_id=self.config.client_id,
            client_secret=self.config.client_secret,
            scope=self.config.scopes,
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_basic",  # noqa: S106 - a method name
        )

    # ------------------------------------------------------------------ the flow
    def start(self, redirect_uri: str) -> LoginStart:
        """The authorization request: a fresh state, nonce and PKCE verifier."""
        metadata, _ = self._provider()
        state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        verifier = secrets.token_urlsafe(48)
        with self._session(redirect_uri) as client:
            url, _ = client.create_authorization_url(
                metadata["authorization_endpoint"], state=state, code_verifier=verifier, nonce=nonce
            )
        return LoginStart(url, state, nonce, verifier)

    def finish(
        self, redirect_uri: str, *, code: str, nonce: str, code_verifier: str
    ) -> OidcIdentity:
        """Exchange the code (with the verifier) and check the ID token; the caller has
        compared the returned ``state`` with the one it kept."""
        metadata, keys = self._provider()
        with self._session(redirect_uri) as client:
            try:
                token = client.fetch_token(
                    metadata["token_endpoint"],
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=code_verifier,
                    timeout=self.config.timeout_s,
                )
            except (OAuth2Error, OAuthError) as exc:
                raise OidcError(f"the provider refused the code: {exc.error}") from None
            except requests.RequestException as exc:
                raise OidcError(f"the token request failed ({type(exc).__name__})") from None
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise OidcError("the provider sent no ID token")
        claims = self._verified_claims(id_token, keys, nonce)
        name = claims.get("name")
        email = claims.get("email")
        return OidcIdentity(
            issuer=self.config.issuer,
            subject=str(claims["sub"]),
            name=name if isinstance(name, str) else "",
            email=email if isinstance(email, str) else None,
        )

    def _verified_claims(self, id_token: str, keys: KeySet, nonce: str) -> dict[str, Any]:
        try:
            try:
                decoded = jwt.decode(id_token, keys, algorithms=list(ID_TOKEN_ALGORITHMS))
            except JoseError:
                _, keys = self._refresh()  # the provider may have rotated its keys
                decoded = jwt.decode(id_token, keys, algorithms=list(ID_TOKEN_ALGORITHMS))
            jwt.JWTClaimsRegistry(
                leeway=LEEWAY_S,
                iss={"essential": True, "value": self.config.issuer},
                aud={"essential": True, "value": self.config.client_id},
                sub={"essential": True},
                exp={"essential": True},
                nonce={"essential": True, "value": nonce},
            ).validate(decoded.claims)
        except (JoseError, ValueError) as exc:
            raise OidcError(f"the ID token is not valid: {exc}") from None
        return decoded.claims
