"""Resident accounts: users with the ``resident`` role, linked to an identity at the
municipality's OpenID provider (DigiD / eHerkenning behind a broker) on their first login, or
with a password (demo residents only)."""

from __future__ import annotations

import hashlib

from sqlmodel import Session, select

from api.audit.service import record
from api.auth.db import UserRow
from api.auth.principal import Role
from api.db import utcnow
from api.errors import Unauthorized
from api.residents.db import OidcIdentityRow
from api.residents.oidc import OidcIdentity

# No password verifies against this (argon2 refuses it as a hash): OpenID-only accounts.
NO_PASSWORD = "!no-password"  # noqa: S105 - a marker, not a secret


def resident_for_identity(session: Session, identity: OidcIdentity) -> UserRow:
    """The resident account of an OpenID identity, made on its first login; the name follows
    the provider's. 401 for a disabled account."""
    link = session.exec(
        select(OidcIdentityRow).where(
            OidcIdentityRow.issuer == identity.issuer, OidcIdentityRow.subject == identity.subject
        )
    ).first()
    now = utcnow()
    if link is None:
        digest = hashlib.sha256(f"{identity.issuer}\n{identity.subject}".encode()).hexdigest()
        user = UserRow(
            username=f"oidc-{digest[:24]}",
            full_name=identity.name[:128],
            role=Role.RESIDENT.value,
            password_hash=NO_PASSWORD,
        )
        session.add(user)
        session.flush()  # gives the user its id
        if user.id is None:  # pragma: no cover - the flush assigns it
            raise RuntimeError("a new user got no id")
        link = OidcIdentityRow(issuer=identity.issuer, subject=identity.subject, user_id=user.id)
        record(session, None, "resident.created", "user", user.id, "first OpenID Connect login")
    else:
        found = session.get(UserRow, link.user_id)
        if found is None:
            raise Unauthorized("this account no longer exists")
        user = found
        if identity.name and user.full_name != identity.name[:128]:
            user.full_name = identity.name[:128]
            session.add(user)
    if not user.is_active or user.role != Role.RESIDENT.value:
        raise Unauthorized("this account is disabled", code="account_disabled")
    link.last_login_at = now
    session.add(link)
    session.flush()
    return user
