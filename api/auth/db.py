"""Tables for users, devices, login throttling and the pages' server-side sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from api.db import UTCDateTime, utcnow


class UserRow(SQLModel, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True, index=True)
    full_name: str = Field(default="", max_length=128)
    role: str = Field(max_length=16)
    badge_number: str | None = Field(default=None, max_length=32)  # BOA's id number
    password_hash: str = Field(max_length=256)
    is_active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DeviceRow(SQLModel, table=True):
    __tablename__ = "devices"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True, index=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_seen_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class LoginThrottleRow(SQLModel, table=True):
    """A login counter: failed (and in-flight) attempts of one bucket in its current window.

    ``bucket`` is ``pair`` (user and client address), ``client`` (an address, any user) or
    ``user`` (a user, any address: only slows down, never locks). ``key`` is the username,
    the address, or both. A row is taken under a row lock for every attempt, so parallel
    attempts cannot pass the limit; rows whose window and lock are over are purged.
    """

    __tablename__ = "login_throttle"
    __table_args__ = (UniqueConstraint("bucket", "key", name="uq_login_throttle_bucket_key"),)

    id: int | None = Field(default=None, primary_key=True)
    bucket: str = Field(max_length=8)
    key: str = Field(max_length=200)
    attempts: int = Field(default=0)
    window_start: datetime = Field(sa_type=UTCDateTime, index=True)
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)


class UserSessionRow(SQLModel, table=True):
    """A signed-in page session. The cookie holds a random token; only its SHA-256 is stored.

    Deleting the row ends the session at once (logout, user disabled, role changed); a
    session unused for ``session_idle_minutes`` or older than ``session_cookie_minutes`` is
    refused and purged.
    """

    __tablename__ = "user_sessions"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    role: str = Field(max_length=16)  # the role when it began: a change ends it anyway
    csrf: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime)
    last_seen_at: datetime = Field(sa_type=UTCDateTime, index=True)
    expires_at: datetime = Field(sa_type=UTCDateTime)
