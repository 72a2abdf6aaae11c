"""Authentication rules: users, devices, login throttling. Routes and the CLI call these."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from sqlalchemy import bindparam
from sqlalchemy import select as core_select
from sqlmodel import Session, select
from starlette.concurrency import run_in_threadpool

from api.auth.db import DeviceRow, UserRow
from api.auth.principal import USER_ROLES, Principal, Role
from api.auth.security import (
    DEVICE_TOKEN_PREFIX,
    DUMMY_PASSWORD_HASH,
    AccessToken,
    TokenError,
    create_access_token,
    decode_access_token,
    hash_device_token,
    hash_password,
    new_device_token,
    verify_password,
)
from api.auth.throttle import Admission, LoginKeys, LoginLimits, admit, settle
from api.db import utcnow
from api.errors import Conflict, NotFound, Unauthorized, Unprocessable
from api.settings import BackendSettings

MIN_PASSWORD_LENGTH = 10

# Every authenticated request runs one of these: Core statements built once, only the columns
# the principal needs (an ORM entity load costs several times the query itself).
_users = UserRow.__table__  # type: ignore[attr-defined]
_devices = DeviceRow.__table__  # type: ignore[attr-defined]
_USER_FOR_TOKEN = core_select(
    _users.c.id, _users.c.username, _users.c.role, _users.c.is_active
).where(_users.c.id == bindparam("user_id"))
DEVICE_FOR_TOKEN = core_select(_devices.c.id, _devices.c.name, _devices.c.revoked_at).where(
    _devices.c.token_hash == bindparam("token_hash")
)


@dataclass(frozen=True, slots=True)
class BearerClaim:
    """What a bearer token says about itself, checked without the database: a user's JWT with
    a valid signature and expiry, or a device token of the right shape."""

    token: str
    kind: Literal["user", "device"]
    user_id: int | None
    claimed_role: Role


_DEVICE_TOKEN_LENGTH = len(new_device_token())


def read_bearer(token: str, settings: BackendSettings) -> BearerClaim:
    """The database-free half of authentication; 401 for a token that cannot be valid."""
    if token.count(".") == 2:
        try:
            user_id, role = decode_access_token(token, secret_key=settings.secret_key)
            claimed = Role(role)
        except (TokenError, ValueError) as exc:
            why = str(exc) if isinstance(exc, TokenError) else "the access token is invalid"
            raise Unauthorized(why, headers={"WWW-Authenticate": "Bearer"}) from None
        return BearerClaim(token, "user", user_id, claimed)
    if not token.startswith(DEVICE_TOKEN_PREFIX) or len(token) != _DEVICE_TOKEN_LENGTH:
        raise Unauthorized("unknown token", headers={"WWW-Authenticate": "Bearer"})
    return BearerClaim(token, "device", None, Role.DEVICE)


@dataclass(frozen=True, slots=True)
class CallerRow:
    """What the database says about the caller behind a token: a user (``role``, ``active``)
    or a device (``revoked``)."""

    id: int
    name: str
    role: str = Role.DEVICE.value
    active: bool = True
    revoked: bool = False


class CallerLookup(Protocol):
    """Where ``confirm_claim`` reads the caller from (``SessionCallers``). The rights check
    reads its caller in its own first statement (``api.rights.check_sql``) and confirms it
    with ``principal_from_row``."""

    def user(self, user_id: int) -> CallerRow | None: ...

    def device(self, token_hash: str) -> CallerRow | None: ...


class SessionCallers:
    """``CallerLookup`` through a session's connection (Core statements built once)."""

    def __init__(self, session: Session) -> None:
        self._conn = session.connection()

    def user(self, user_id: int) -> CallerRow | None:
        row = self._conn.execute(_USER_FOR_TOKEN, {"user_id": user_id}).first()
        return None if row is None else CallerRow(row.id, row.username, row.role, row.is_active)

    def device(self, token_hash: str) -> CallerRow | None:
        row = self._conn.execute(DEVICE_FOR_TOKEN, {"token_hash": token_hash}).first()
        if row is None:
            return None
        return CallerRow(row.id, row.name, revoked=row.revoked_at is not None)


def confirm_claim(lookup: CallerLookup, claim: BearerClaim) -> Principal:
    """The database half: the user still exists and is active (its role is the database's, not
    the token's), or the device token is known and not revoked."""
    if claim.kind == "user":
        return principal_from_row(claim, lookup.user(claim.user_id or 0))
    return principal_from_row(claim, lookup.device(hash_device_token(claim.token)))


def principal_from_row(claim: BearerClaim, row: CallerRow | None) -> Principal:
    """``confirm_claim`` for a caller row already read (``None``: no such user or device)."""
    if claim.kind == "user":
        if row is None or not row.active:
            raise Unauthorized("the user of this token is unknown or disabled")
        return Principal("user", row.id, row.name, Role(row.role))
    if row is None:
        raise Unauthorized("unknown token", headers={"WWW-Authenticate": "Bearer"})
    if row.revoked:
        raise Unauthorized("this device token has been revoked")
    return Principal("device", row.id, row.name, Role.DEVICE)


def authenticate_bearer(session: Session, token: str, settings: BackendSettings) -> Principal:
    """Resolve a bearer token (a user's JWT or a device token) to a principal, or 401."""
    return confirm_claim(SessionCallers(session), read_bearer(token, settings))


def principal_for_user(user: UserRow) -> Principal:
    return Principal("user", user.id or 0, user.username, Role(user.role))


@dataclass(frozen=True, slots=True)
class LoginResult:
    user: UserRow
    token: AccessToken


def begin_login(
    session: Session,
    settings: BackendSettings,
    *,
    username: str,
    client: str,
    now: datetime | None = None,
) -> Admission:
    """Count a login attempt before its password is checked (429 ``login_locked`` when its
    user-and-address pair or its address is locked); the admission says how long to wait
    before ``finish_login`` (the gentle per-user slow-down)."""
    limits = LoginLimits.from_settings(settings)
    return admit(session, limits, LoginKeys.of(username, client), now or utcnow())


def finish_login(
    session: Session,
    settings: BackendSettings,
    admission: Admission,
    *,
    username: str,
    password: str,
    now: datetime | None = None,
) -> LoginResult:
    """Check the password of an admitted attempt: a token, or 401 ``bad_credentials`` (the
    failure stays counted)."""
    now = now or utcnow()
    username = username.strip()[:64]
    user = session.exec(select(UserRow).where(UserRow.username == username)).first()
    ok = verify_password(user.password_hash if user else DUMMY_PASSWORD_HASH, password)
    ok = ok and user is not None and user.is_active
    settle(session, LoginLimits.from_settings(settings), admission.keys, ok=ok, now=now)
    if not ok or user is None:
        raise Unauthorized("wrong username or password", code="bad_credentials")
    token = create_access_token(
        user_id=user.id or 0,
        role=user.role,
        secret_key=settings.secret_key,
        minutes=settings.access_token_minutes,
        now=now,
    )
    return LoginResult(user, token)


def login(
    session: Session,
    settings: BackendSettings,
    *,
    username: str,
    password: str,
    client: str,
    now: datetime | None = None,
) -> LoginResult:
    """``begin_login`` and ``finish_login`` without the slow-down's wait (CLI and tests; the
    HTTP routes use ``login_over_http``)."""
    admission = begin_login(session, settings, username=username, client=client, now=now)
    return finish_login(session, settings, admission, username=username, password=password, now=now)


async def login_over_http(
    session: Session, settings: BackendSettings, *, username: str, password: str, client: str
) -> LoginResult:
    """A login from a route: the database work and the password hash on worker threads, the
    slow-down's wait on the event loop (a slowed-down attempt holds no thread)."""
    admission = await run_in_threadpool(
        begin_login, session, settings, username=username, client=client
    )
    if admission.delay_s > 0:
        await asyncio.sleep(admission.delay_s)
    return await run_in_threadpool(
        finish_login, session, settings, admission, username=username, password=password
    )


class UnknownRole(Unprocessable):
    code = "unknown_role"

    def __init__(self, role: str):
        self.role = role
        allowed = ", ".join(r.value for r in USER_ROLES)
        super().__init__(f"role {role!r} is not a user role; allowed: {allowed}")


class InvalidUsername(Unprocessable):
    code = "invalid_username"

    def __init__(self, username: str):
        self.username = username
        super().__init__(f"username {username!r} must be 1-64 letters, digits, '.', '_' or '-'")


class PasswordTooShort(Unprocessable):
    code = "password_too_short"

    def __init__(self, min_length: int):
        self.min_length = min_length
        super().__init__(f"the password must be at least {min_length} characters")


class UserExists(Conflict):
    code = "user_exists"

    def __init__(self, username: str):
        self.username = username
        super().__init__(f"user {username!r} already exists")


def check_role(role: str) -> Role:
    """``role`` as a user role, or ``UnknownRole`` naming the allowed ones."""
    try:
        role_ = Role(role)
    except ValueError:
        raise UnknownRole(role) from None
    if role_ not in USER_ROLES:
        raise UnknownRole(role)
    return role_


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: str,
    full_name: str = "",
    badge_number: str | None = None,
) -> UserRow:
    role_ = check_role(role)
    if (
        not username
        or len(username) > 64
        or not username.replace("_", "").replace(".", "").replace("-", "").isalnum()
        or not username.isascii()
    ):
        raise InvalidUsername(username)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordTooShort(MIN_PASSWORD_LENGTH)
    if session.exec(select(UserRow).where(UserRow.username == username)).first():
        raise UserExists(username)
    user = UserRow(
        username=username,
        password_hash=hash_password(password),
        role=role_.value,
        full_name=full_name[:128],
        badge_number=badge_number[:32] if badge_number else None,
    )
    session.add(user)
    session.flush()
    return user


def create_device(session: Session, *, name: str) -> tuple[DeviceRow, str]:
    """Create a scan-car device; the plain token is returned once and stored only hashed."""
    if not name or len(name) > 64:
        raise Unprocessable(f"device name {name!r} must be 1-64 characters")
    if session.exec(select(DeviceRow).where(DeviceRow.name == name)).first():
        raise Conflict(f"device {name!r} already exists")
    token = new_device_token()
    device = DeviceRow(name=name, token_hash=hash_device_token(token))
    session.add(device)
    session.flush()
    return device, token


def revoke_device(session: Session, *, name: str, now: datetime | None = None) -> DeviceRow:
    device = session.exec(select(DeviceRow).where(DeviceRow.name == name)).first()
    if device is None:
        raise NotFound(f"no device named {name!r}")
    if device.revoked_at is None:
        device.revoked_at = now or utcnow()
        session.add(device)
        session.flush()
    return device
