"""Tables of the address source, resident logins through OpenID Connect, and favourite
visitor plates."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from api.db import UTCDateTime, utcnow


class AddressRow(SQLModel, table=True):
    """A residential or business address (adres), as the municipality's address register
    (BAG) lists it; loaded with ``scancar addresses import``. The parking area of an address
    follows from the zones at its position, never from this table."""

    __tablename__ = "addresses"
    __table_args__ = (
        UniqueConstraint(
            "postcode", "house_number", "house_letter", "addition", name="uq_addresses_number"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    postcode: str = Field(max_length=6, index=True)  # 1234AB, no space
    house_number: int
    house_letter: str = Field(default="", max_length=1)
    addition: str = Field(default="", max_length=4)  # huisnummertoevoeging
    street: str = Field(max_length=80)
    city: str = Field(max_length=80)
    lon: float
    lat: float
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class OidcIdentityRow(SQLModel, table=True):
    """A resident's identity at an OpenID provider (issuer + subject), linked to the
    resident's user account on their first login."""

    __tablename__ = "oidc_identities"
    __table_args__ = (UniqueConstraint("issuer", "subject", name="uq_oidc_identities_subject"),)

    id: int | None = Field(default=None, primary_key=True)
    issuer: str = Field(max_length=255)
    subject: str = Field(max_length=255)
    user_id: int = Field(foreign_key="users.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class FavouritePlateRow(SQLModel, table=True):
    """A visitor plate a resident keeps for quick visitor sessions (favoriete kentekens)."""

    __tablename__ = "favourite_plates"
    __table_args__ = (UniqueConstraint("user_id", "plate", name="uq_favourite_plates_plate"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    plate: str = Field(max_length=10)
    label: str = Field(default="", max_length=40)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
