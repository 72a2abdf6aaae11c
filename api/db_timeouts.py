"""Time limits on PostgreSQL, so a slow, locked or frozen database is a quick 503.

Three limits are set on every new connection (``DbTimeouts``): the connect timeout (libpq's
``connect_timeout``), the server's ``statement_timeout`` and ``lock_timeout``. A statement
over them fails (``QueryCanceled``, ``LockNotAvailable``) and the app answers 503.

A *frozen* server (a stopped process, a hung host; the kernel still accepts and acknowledges
TCP) enforces nothing: a pooled connection waits for its answer for ever, and so does the
request. ``StatementWatchdog`` bounds that wait on the client side: every statement, commit,
rollback and ping is armed with a deadline (the statement timeout plus ``grace_s``), and a
watchdog thread shuts down the socket of a connection whose deadline passes. The driver then
sees a closed connection, SQLAlchemy invalidates it (and every older connection of the pool),
and the request gets 503 ``database_unavailable``. SQLite needs none of this.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DbTimeouts:
    connect_s: float = 5.0
    statement_s: float = 10.0
    lock_s: float = 5.0
    grace_s: float = 2.0  # the watchdog's margin over the statement timeout

    @property
    def watchdog_s(self) -> float:
        return self.statement_s + self.grace_s

    def connect_args(self) -> dict[str, Any]:
        """psycopg connection arguments that set the limits."""
        options = (
            f"-c statement_timeout={int(self.statement_s * 1000)} "
            f"-c lock_timeout={int(self.lock_s * 1000)}"
        )
        return {"connect_timeout": max(1, round(self.connect_s)), "options": options}


def _socket_of(dbapi_conn: Any) -> int | None:
    """The file descriptor of a psycopg connection's socket (``None``: none or closed)."""
    try:
        fd = dbapi_conn.pgconn.socket
    except Exception:  # closed, or not psycopg
        return None
    return int(fd) if isinstance(fd, int) and fd >= 0 else None


class StatementWatchdog:
    """Shuts down the socket of a connection that waits past its deadline (one thread for
    all connections of a process; it sleeps while nothing is armed)."""

    def __init__(self, limit_s: float) -> None:
        self.limit_s = limit_s
        self.fired = 0
        self._armed: dict[int, tuple[float, int]] = {}
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    def arm(self, dbapi_conn: Any, limit_s: float | None = None) -> None:
        fd = _socket_of(dbapi_conn)
        if fd is None:
            return
        deadline = time.monotonic() + (self.limit_s if limit_s is None else limit_s)
        with self._wake:
            was_idle = not self._armed
            self._armed[id(dbapi_conn)] = (deadline, fd)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="db-watchdog", daemon=True)
                self._thread.start()
            elif was_idle or limit_s is not None:
                self._wake.notify()

    def disarm(self, dbapi_conn: Any) -> None:
        with self._wake:
            self._armed.pop(id(dbapi_conn), None)

    def _run(self) -> None:
        while True:
            with self._wake:
                now = time.monotonic()
                due = [(key, fd) for key, (at, fd) in self._armed.items() if at <= now]
                for key, _ in due:
                    del self._armed[key]
                if not due:
                    nearest = min((at for at, _ in self._armed.values()), default=None)
                    self._wake.wait(None if nearest is None else nearest - now)
                    continue
            for _, fd in due:
                self._cut(fd)

    def _cut(self, fd: int) -> None:
        self.fired += 1
        log.warning("the database did not answer within %.0f s: connection dropped", self.limit_s)
        try:
            with socket.socket(fileno=os.dup(fd)) as sock:
                sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # already closed


_GUARDS: weakref.WeakKeyDictionary[Engine, tuple[DbTimeouts, StatementWatchdog]] = (
    weakref.WeakKeyDictionary()
)


def install_timeouts(engine: Engine, timeouts: DbTimeouts) -> StatementWatchdog | None:
    """Arm ``engine``'s statements, commits, rollbacks (also the pool's reset) and pings with
    a watchdog; the server-side limits come from ``DbTimeouts.connect_args`` at connect time
    (``make_engine``)."""
    if engine.dialect.name != "postgresql":
        return None
    dog = StatementWatchdog(timeouts.watchdog_s)

    def arm(conn: Any, *_: Any) -> None:
        dbapi_conn = conn.connection.dbapi_connection
        if dbapi_conn is not None:
            dog.arm(dbapi_conn)

    def disarm(conn: Any, *_: Any) -> None:
        dbapi_conn = conn.connection.dbapi_connection
        if dbapi_conn is not None:
            dog.disarm(dbapi_conn)

    def disarm_on_error(ctx: Any) -> None:
        if ctx.connection is not None and not ctx.connection.closed:
            disarm(ctx.connection)

    event.listen(engine, "before_cursor_execute", arm)
    event.listen(engine, "after_cursor_execute", disarm)
    event.listen(engine, "handle_error", disarm_on_error)
    dialect = engine.dialect
    for name in ("do_commit", "do_rollback", "do_ping"):
        setattr(dialect, name, _guarded(dog, getattr(dialect, name)))
    _GUARDS[engine] = (timeouts, dog)
    return dog


def _guarded(dog: StatementWatchdog, call: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``call(dbapi_connection)`` under the watchdog (a commit, rollback or ping)."""

    def guarded(dbapi_conn: Any) -> Any:
        raw = getattr(dbapi_conn, "dbapi_connection", dbapi_conn)  # a pool's fairy
        dog.arm(raw)
        try:
            return call(dbapi_conn)
        finally:
            dog.disarm(raw)

    return guarded


def guard_of(engine: Engine) -> tuple[DbTimeouts, StatementWatchdog] | None:
    """The limits and the watchdog ``install_timeouts`` gave ``engine`` (the rights check's
    own pool uses them too); ``None`` without."""
    return _GUARDS.get(engine)
