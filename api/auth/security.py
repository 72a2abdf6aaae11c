"""Password hashing, JWT access tokens and opaque device tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

JWT_ALGORITHM = "HS256"
DEVICE_TOKEN_PREFIX = "scd_"  # noqa: S105 - a prefix, not a secret
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# A hash of a password nobody has, verified when the user does not exist, so a login for an
# unknown user costs the same time as one for a known user.
DUMMY_PASSWORD_HASH = hash_password(secrets.token_urlsafe(16))


@dataclass(frozen=True, slots=True)
class AccessToken:
    token: str
    expires_in: int


def create_access_token(
    *, user_id: int, role: str, secret_key: str, minutes: int, now: datetime | None = None
) -> AccessToken:
    now = now or datetime.now(UTC)
    exp = now + timedelta(minutes=minutes)
    payload = {
        "sub": str(user_id),
        "role": role,
        "iat": int(now.timestamp()),
        "exp": int(exp.timestamp()),
        "typ": "access",
    }
    return AccessToken(jwt.encode(payload, secret_key, algorithm=JWT_ALGORITHM), minutes * 60)


class TokenError(Exception):
    pass


def decode_access_token(token: str, *, secret_key: str) -> tuple[int, str]:
    """Return (user id, role); raise ``TokenError`` saying why the token is refused."""
    try:
        payload = jwt.decode(
            token, secret_key, algorithms=[JWT_ALGORITHM], options={"require": ["exp", "sub"]}
        )
    except jwt.ExpiredSignatureError:
        raise TokenError("the access token has expired; log in again") from None
    except jwt.InvalidTokenError:
        raise TokenError("the access token is invalid") from None
    if payload.get("typ") != "access":
        raise TokenError("the access token is invalid")
    try:
        return int(payload["sub"]), str(payload["role"])
    except (KeyError, ValueError):
        raise TokenError("the access token is invalid") from None


def new_device_token() -> str:
    return DEVICE_TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_device_token(token: str) -> str:
    """Device tokens are 256-bit random, so a plain SHA-256 is a sound stored form."""
    return hashlib.sha256(token.encode()).hexdigest()
