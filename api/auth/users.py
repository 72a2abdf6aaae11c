"""Managing staff accounts (the administrator's users page): list, create with a role, reset a
password, disable or enable, change the role. Every change writes one audit row in the same
transaction; disabling, a role change and a password reset end the user's page sessions at once
(``api.auth.sessions``). The caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from api.audit.service import record
from api.auth.db import UserRow, UserSessionRow
from api.auth.principal import USER_ROLES, Principal, Role
from api.auth.security import hash_password
from api.auth.service import MIN_PASSWORD_LENGTH, PasswordTooShort, check_role, create_user
from api.auth.sessions import end_user_sessions, set_user_active, set_user_role
from api.errors import Conflict, NotFound

# Roles an administrator hands out on the users page (residents come through the portal's
# OpenID login; providers and cars get their access from the CLI).
STAFF_ROLES = (Role.BOA, Role.BACKOFFICE, Role.COORDINATOR, Role.ADMIN, Role.PROVIDER)


class CannotChangeSelf(Conflict):
    """An administrator may not disable themselves or take away their own admin role (the
    system could be left without anyone who can manage it)."""

    code = "cannot_change_self"


@dataclass(frozen=True, slots=True)
class UserInfo:
    id: int
    username: str
    full_name: str
    role: Role
    badge_number: str | None
    is_active: bool
    created_at: datetime
    sessions: int  # live page sessions
    last_seen_at: datetime | None  # the latest use of a page session

    @property
    def display_name(self) -> str:
        return self.full_name or self.username


def _info(row: UserRow, sessions: int, last_seen: datetime | None) -> UserInfo:
    return UserInfo(
        id=row.id or 0,
        username=row.username,
        full_name=row.full_name,
        role=Role(row.role),
        badge_number=row.badge_number,
        is_active=row.is_active,
        created_at=row.created_at,
        sessions=sessions,
        last_seen_at=last_seen,
    )


def list_users(
    session: Session, *, roles: tuple[Role, ...] = USER_ROLES, active_only: bool = False
) -> list[UserInfo]:
    """Users of ``roles`` by name, with their live page sessions (two queries)."""
    stmt = select(UserRow).where(col(UserRow.role).in_([r.value for r in roles]))
    if active_only:
        stmt = stmt.where(col(UserRow.is_active).is_(True))
    rows = session.exec(stmt.order_by(col(UserRow.username))).all()
    stats = session.exec(
        select(
            UserSessionRow.user_id,
            func.count(col(UserSessionRow.id)),
            func.max(UserSessionRow.last_seen_at),
        ).group_by(col(UserSessionRow.user_id))
    ).all()
    by_user = {user_id: (count, last) for user_id, count, last in stats}
    return [_info(r, *by_user.get(r.id or 0, (0, None))) for r in rows]


def get_user(session: Session, user_id: int) -> UserInfo:
    row = session.get(UserRow, user_id)
    if row is None:
        raise NotFound(f"no user with id {user_id}")
    live = session.exec(
        select(func.count(col(UserSessionRow.id)), func.max(UserSessionRow.last_seen_at)).where(
            UserSessionRow.user_id == user_id
        )
    ).one()
    return _info(row, int(live[0] or 0), live[1])


def add_user(
    session: Session,
    actor: Principal,
    *,
    username: str,
    password: str,
    role: str,
    full_name: str = "",
    badge_number: str | None = None,
) -> UserRow:
    """A new active user (``create_user``'s checks: role, user name, password length)."""
    user = create_user(
        session,
        username=username.strip(),
        password=password,
        role=role,
        full_name=full_name.strip(),
        badge_number=(badge_number or "").strip() or None,
    )
    record(session, actor, "user.created", "user", user.id, f"role={user.role}")
    return user


def reset_password(session: Session, actor: Principal, user_id: int, password: str) -> UserRow:
    """Give a user a new password; their page sessions end (they sign in with the new one)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordTooShort(MIN_PASSWORD_LENGTH)
    user = session.get(UserRow, user_id)
    if user is None:
        raise NotFound(f"no user with id {user_id}")
    user.password_hash = hash_password(password)
    session.add(user)
    session.flush()
    ended = end_user_sessions(session, user_id)
    record(session, actor, "user.password_reset", "user", user_id, f"sessions_ended={ended}")
    return user


def set_active(session: Session, actor: Principal, user_id: int, *, active: bool) -> UserRow:
    """Disable (all sessions end at once, API tokens are refused) or enable a user."""
    if not active and actor.kind == "user" and actor.id == user_id:
        raise CannotChangeSelf("you cannot disable your own account; ask another administrator")
    before = session.get(UserRow, user_id)
    was_active = before.is_active if before is not None else None
    user = set_user_active(session, user_id, active=active)
    if was_active != active:
        action = "user.enabled" if active else "user.disabled"
        record(session, actor, action, "user", user_id)
    return user


def change_role(session: Session, actor: Principal, user_id: int, role: str) -> UserRow:
    """Another role for a user; a change ends their sessions."""
    check_role(role)
    if actor.kind == "user" and actor.id == user_id and role != Role.ADMIN.value:
        raise CannotChangeSelf("you cannot take away your own administrator role")
    before = session.get(UserRow, user_id)
    old = before.role if before is not None else None
    user = set_user_role(session, user_id, role)
    if old != role:
        record(session, actor, "user.role_changed", "user", user_id, f"{old}->{role}")
    return user
