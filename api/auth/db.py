"""Tables for users, devices and login attempts."""

from __future__ import annotations

from datetime import datetime

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


class LoginAttemptRow(SQLModel, table=True):
    __tablename__ = "login_attempts"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, index=True)
    client: str = Field(max_length=64, index=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    success: bool = Field(default=False)
