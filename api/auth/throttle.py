"""Login throttling that cannot be used to lock users out.

Three counters ("buckets") per attempt, each a row in ``login_throttle``:

- ``pair``: one user from one client address. ``login_max_failures`` failures lock only this
  pair for ``login_lockout_minutes``; the same user from another address still logs in.
- ``client``: one address, any user. ``login_client_max_failures`` failures lock the address
  (password spraying from one place).
- ``user``: one user, any address. Never locks: after ``login_user_slowdown_after`` failures
  in the window each attempt for that user waits a little longer before its password is
  checked, up to ``login_user_max_delay_s``, also when the password is right.

An attempt is counted *before* its password is checked (``admit``): the rows are taken under a
row lock (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite has one writer at a time), so twenty
parallel attempts from one address see each other and at most the limit is ever tried. When
the password was right, ``settle`` gives the attempt back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from api.auth.db import LoginThrottleRow
from api.errors import TooManyRequests
from api.settings import BackendSettings

_table = LoginThrottleRow.__table__  # type: ignore[attr-defined]
PAIR, CLIENT, USER = "pair", "client", "user"
# per failure over the slow-down threshold, before the cap
DELAY_STEP_S = 0.25


@dataclass(frozen=True, slots=True)
class LoginLimits:
    pair_max: int
    client_max: int
    user_slowdown_after: int
    user_max_delay_s: float
    window: timedelta
    lockout: timedelta

    @classmethod
    def from_settings(cls, settings: BackendSettings) -> LoginLimits:
        return cls(
            pair_max=settings.login_max_failures,
            client_max=settings.login_client_max_failures,
            user_slowdown_after=settings.login_user_slowdown_after,
            user_max_delay_s=settings.login_user_max_delay_s,
            window=timedelta(minutes=settings.login_window_minutes),
            lockout=timedelta(minutes=settings.login_lockout_minutes),
        )

    def delay_for(self, user_failures: int) -> float:
        """The gentle slow-down for a user with ``user_failures`` recent failures."""
        over = user_failures - self.user_slowdown_after + 1
        if over <= 0:
            return 0.0
        return min(self.user_max_delay_s, over * DELAY_STEP_S)


@dataclass(frozen=True, slots=True)
class LoginKeys:
    """The bucket keys of one attempt: the username (case-folded) and the client address."""

    username: str
    client: str

    @classmethod
    def of(cls, username: str, client: str) -> LoginKeys:
        return cls(username.strip().casefold()[:64], client[:64])

    def ordered(self) -> list[tuple[str, str]]:
        """(bucket, key) in the one order every transaction locks them in (no deadlocks)."""
        return [
            (CLIENT, self.client),
            (PAIR, f"{self.username}\n{self.client}"),
            (USER, self.username),
        ]


@dataclass(frozen=True, slots=True)
class Admission:
    """An admitted attempt: how long to wait before checking its password."""

    keys: LoginKeys
    delay_s: float


@dataclass
class _Bucket:
    bucket: str
    key: str
    attempts: int
    window_start: datetime
    locked_until: datetime | None


def _insert(dialect: str) -> Any:
    return (postgresql if dialect == "postgresql" else sqlite).insert(_table)


def _lock(session: Session, bucket: str, key: str, now: datetime) -> _Bucket:
    """The bucket's row, created if missing, locked until the transaction ends."""
    conn = session.connection()
    conn.execute(
        _insert(conn.dialect.name)
        .values(bucket=bucket, key=key, attempts=0, window_start=now)
        .on_conflict_do_nothing(index_elements=["bucket", "key"])
    )
    row = conn.execute(
        select(_table.c.attempts, _table.c.window_start, _table.c.locked_until)
        .where(_table.c.bucket == bucket, _table.c.key == key)
        .with_for_update()
    ).one()
    return _Bucket(bucket, key, row.attempts, row.window_start, row.locked_until)


def _save(session: Session, b: _Bucket) -> None:
    session.connection().execute(
        update(_table)
        .where(_table.c.bucket == b.bucket, _table.c.key == b.key)
        .values(attempts=b.attempts, window_start=b.window_start, locked_until=b.locked_until)
    )


def _refresh(b: _Bucket, limits: LoginLimits, now: datetime) -> None:
    """Start a new window when the lock or the window is over."""
    lock_over = b.locked_until is not None and b.locked_until <= now
    if lock_over or b.window_start + limits.window <= now:
        b.attempts, b.window_start, b.locked_until = 0, now, None


def _refuse(until: datetime, now: datetime) -> TooManyRequests:
    wait = max(1, int((until - now).total_seconds()) + 1)
    return TooManyRequests(
        f"too many failed logins; try again in {wait} seconds",
        code="login_locked",
        headers={"Retry-After": str(wait)},
    )


def admit(session: Session, limits: LoginLimits, keys: LoginKeys, now: datetime) -> Admission:
    """Count one attempt before its password is checked, or raise 429 ``login_locked`` for a
    locked (or, with attempts in flight, full) pair or address. Commits."""
    try:
        client, pair, user = (_lock(session, b, k, now) for b, k in keys.ordered())
        for b, limit in ((client, limits.client_max), (pair, limits.pair_max)):
            _refresh(b, limits, now)
            if b.locked_until is not None:
                raise _refuse(b.locked_until, now)
            if b.attempts >= limit:  # the rest of the limit is in flight
                raise _refuse(b.window_start + limits.window, now)
        _refresh(user, limits, now)
        for b in (client, pair):
            b.attempts += 1
        for b in (client, pair, user):
            _save(session, b)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return Admission(keys, limits.delay_for(user.attempts))


def settle(
    session: Session, limits: LoginLimits, keys: LoginKeys, *, ok: bool, now: datetime
) -> None:
    """After the password check: a success gives the attempt back (and clears the pair); a
    failure stays counted, locks a pair or address that reached its limit, and adds to the
    user's slow-down. Commits."""
    try:
        client, pair, user = (_lock(session, b, k, now) for b, k in keys.ordered())
        if ok:
            client.attempts = max(0, client.attempts - 1)
            pair.attempts, pair.locked_until = 0, None
        else:
            for b, limit in ((client, limits.client_max), (pair, limits.pair_max)):
                if b.attempts >= limit and b.locked_until is None:
                    b.locked_until = now + limits.lockout
            _refresh(user, limits, now)
            user.attempts += 1
        for b in (client, pair, user):
            _save(session, b)
        session.commit()
    except BaseException:
        session.rollback()
        raise


def purge_throttle(session: Session, limits: LoginLimits, now: datetime) -> int:
    """Delete counters whose window and lock are over (they would start afresh anyway)."""
    result = session.connection().execute(
        delete(_table).where(
            _table.c.window_start <= now - limits.window,
            or_(_table.c.locked_until.is_(None), _table.c.locked_until <= now),
        )
    )
    return int(result.rowcount or 0)
