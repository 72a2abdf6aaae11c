"""Server-side sessions for the pages: a random token in the cookie, a row in the database.

A session ends when its row is deleted: at logout, when its user is disabled or gets another
role (``set_user_active`` / ``set_user_role`` or ``end_user_sessions``), after
``session_idle_minutes`` without a request, and at the latest ``session_cookie_minutes`` after
it began. A cookie saved before any of these stops working at once: every page request looks
the token up. Only the token's SHA-256 is stored, so a copy of the table opens no session.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, or_, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.auth.db import UserRow, UserSessionRow
from api.auth.principal import USER_ROLES, Principal, Role
from api.db import utcnow
from api.errors import NotFound, Unprocessable
from api.settings import BackendSettings

_sessions = UserSessionRow.__table__  # type: ignore[attr-defined]
_users = UserRow.__table__  # type: ignore[attr-defined]
# a session's last use is written at most this often (the idle timeout's precision)
TOUCH_EVERY = timedelta(seconds=60)

_FIND = (
    select(
        _sessions.c.id,
        _sessions.c.role,
        _sessions.c.csrf,
        _sessions.c.last_seen_at,
        _sessions.c.expires_at,
        _users.c.id.label("user_id"),
        _users.c.username,
        _users.c.full_name,
        _users.c.role.label("user_role"),
        _users.c.is_active,
    )
    .join(_users, _users.c.id == _sessions.c.user_id)
    .where(_sessions.c.token_hash == bindparam("token_hash"))
)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class NewSession:
    """A session just begun: the cookie value (shown once), its CSRF token and lifetime."""

    token: str
    csrf: str
    max_age_s: int


@dataclass(frozen=True, slots=True)
class ActiveSession:
    """A live session and the user behind it."""

    id: int
    principal: Principal
    full_name: str
    csrf: str


def start_session(
    session: Session, settings: BackendSettings, user: UserRow, *, now: datetime | None = None
) -> NewSession:
    """Begin a session for ``user`` (flushed; the caller commits)."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    max_age = timedelta(minutes=settings.session_cookie_minutes)
    session.add(
        UserSessionRow(
            token_hash=_token_hash(token),
            user_id=user.id or 0,
            role=user.role,
            csrf=csrf,
            created_at=now,
            last_seen_at=now,
            expires_at=now + max_age,
        )
    )
    session.flush()
    return NewSession(token, csrf, int(max_age.total_seconds()))


def find_session(
    session: Session, settings: BackendSettings, token: str, *, now: datetime | None = None
) -> ActiveSession | None:
    """The live session of a cookie value, or ``None``: unknown or ended token, idle or
    expired session, disabled user, changed role (an expired session's row is deleted).
    Notes the use at most once per ``TOUCH_EVERY``; commits when it writes."""
    now = now or utcnow()
    if not token or len(token) > 128:
        return None
    conn = session.connection()
    row = conn.execute(_FIND, {"token_hash": _token_hash(token)}).first()
    if row is None:
        return None
    idle = timedelta(minutes=settings.session_idle_minutes)
    live = row.is_active and row.role == row.user_role
    live = live and row.expires_at > now and row.last_seen_at + idle > now
    if not live:
        conn.execute(delete(_sessions).where(_sessions.c.id == row.id))
        session.commit()
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        conn.execute(update(_sessions).where(_sessions.c.id == row.id).values(last_seen_at=now))
        session.commit()
    principal = Principal("user", row.user_id, row.username, Role(row.user_role))
    return ActiveSession(row.id, principal, row.full_name or row.username, row.csrf)


def end_session(session: Session, token: str) -> bool:
    """End the session of a cookie value (logout); ``False`` when none was live. The caller
    commits."""
    result = session.connection().execute(
        delete(_sessions).where(_sessions.c.token_hash == _token_hash(token))
    )
    return bool(result.rowcount)


def end_user_sessions(session: Session, user_id: int) -> int:
    """End every session of a user (e.g. after a password reset); how many ended. The
    caller commits."""
    result = session.connection().execute(delete(_sessions).where(_sessions.c.user_id == user_id))
    return int(result.rowcount or 0)


def set_user_active(session: Session, user_id: int, *, active: bool) -> UserRow:
    """Enable or disable a user; disabling ends all their sessions at once (their API
    tokens are refused from then on too). The caller commits."""
    user = _user(session, user_id)
    user.is_active = active
    session.add(user)
    session.flush()
    if not active:
        end_user_sessions(session, user_id)
    return user


def set_user_role(session: Session, user_id: int, role: str) -> UserRow:
    """Give a user another role; a change ends all their sessions (they sign in again and
    see what the new role may see). The caller commits."""
    if role not in {r.value for r in USER_ROLES}:
        allowed = ", ".join(r.value for r in USER_ROLES)
        raise Unprocessable(f"role {role!r} is not a user role; allowed: {allowed}")
    user = _user(session, user_id)
    if user.role != role:
        user.role = role
        session.add(user)
        session.flush()
        end_user_sessions(session, user_id)
    return user


def purge_sessions(session: Session, settings: BackendSettings, now: datetime) -> int:
    """Delete sessions that are expired or idle for longer than the idle timeout."""
    idle = timedelta(minutes=settings.session_idle_minutes)
    result = session.connection().execute(
        delete(_sessions).where(
            or_(_sessions.c.expires_at <= now, _sessions.c.last_seen_at <= now - idle)
        )
    )
    return int(result.rowcount or 0)


def _user(session: Session, user_id: int) -> UserRow:
    user = session.get(UserRow, user_id)
    if user is None:
        raise NotFound(f"no user with id {user_id}")
    return user


def purge_auth_state(engine: Engine, settings: BackendSettings, now: datetime | None = None) -> int:
    """The background job's share: ended sessions and spent login counters; how many rows."""
    from api.auth.throttle import LoginLimits, purge_throttle

    now = now or utcnow()
    with Session(engine) as session:
        removed = purge_sessions(session, settings, now)
        removed += purge_throttle(session, LoginLimits.from_settings(settings), now)
        session.commit()
    return removed
