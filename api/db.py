"""Database plumbing: engine factory, the UTC time column type, sessions.

No engine exists at import time; ``create_app`` and the CLI build one from settings.
"""

from __future__ import annotations

import math
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, event
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session, SQLModel, create_engine

from api.db_timeouts import DbTimeouts, install_timeouts

# Named constraints, so migrations can alter them on SQLite (batch mode) and PostgreSQL alike.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on SQLite and PostgreSQL alike.

    Naive datetimes are refused on the way in; values come back aware in UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: times must be timezone-aware")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(
        self,
        value: datetime | None,
        dialect: Dialect,  # noqa: ARG002
    ) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    try:  # nearest first needs sin and cos; SQLite has them unless built without math
        cur.execute("SELECT sin(0), cos(0)")
    except sqlite3.OperationalError:
        dbapi_conn.create_function("sin", 1, math.sin, deterministic=True)
        dbapi_conn.create_function("cos", 1, math.cos, deterministic=True)
    cur.close()


def make_engine(
    database_url: str,
    *,
    pool_size: int = 10,
    ping_after_idle_s: float | None = None,
    timeouts: DbTimeouts | None = None,
) -> Engine:
    """An engine for SQLite (WAL, foreign keys) or PostgreSQL (psycopg 3). ``timeouts``
    (PostgreSQL): connect, statement and lock limits and the watchdog for a frozen server
    (``api.db_timeouts``); the server's engine has them, the CLI's only the connect limit.

    ``database_url`` as operators write it (``postgres://`` too, see ``api.dburl``); a bad URL
    raises ``DatabaseUrlError``, a SQLite folder that cannot be made ``DatabaseNotReady``."""
    from api.dburl import normalise_database_url

    database_url = normalise_database_url(database_url)
    if database_url.startswith("sqlite"):
        path = database_url.split("///", 1)[-1]
        if path and path != ":memory:":
            _make_sqlite_folder(path)
        engine = create_engine(
            database_url,
            connect_args={"check_same_thread": False, "timeout": 10},
            hide_parameters=True,  # no plates or positions in error messages and logs
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_engine(
        database_url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_recycle=RECYCLE_AFTER_S,
        connect_args=timeouts.connect_args() if timeouts else {"connect_timeout": 10},
        hide_parameters=True,  # no plates or positions in error messages and logs
    )
    ping_after_idle(engine, PING_AFTER_IDLE_S if ping_after_idle_s is None else ping_after_idle_s)
    if timeouts is not None:
        install_timeouts(engine, timeouts)
    return engine


def _make_sqlite_folder(path: str) -> None:
    from pathlib import Path

    from api.dburl import DatabaseNotReady

    folder = Path(path).parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise DatabaseNotReady(
            f"cannot make the folder {folder} for the SQLite database: a file of that name exists"
        ) from None
    except OSError as exc:
        raise DatabaseNotReady(
            f"cannot make the folder {folder} for the SQLite database: {exc.strerror}"
        ) from None


# A pooled connection unused for this long is pinged before it is handed out.
PING_AFTER_IDLE_S = 5.0
# A pooled connection older than this is closed instead of reused.
RECYCLE_AFTER_S = 1800


def ping_after_idle(engine: Engine, idle_s: float) -> None:
    """Ping a pooled connection before use only when it sat idle for more than ``idle_s``.

    ``pool_pre_ping`` pings on every checkout: one extra round trip on every request, a fifth
    of the database round trips of a rights check. A connection in steady use has just
    proved itself; one that sat idle (the database may have restarted meanwhile) is pinged,
    and a failed ping makes the pool replace it (``DisconnectionError``) before the request
    sees it. A restart under load still costs the request that meets the dead connection
    (503 ``database_unavailable``); that error invalidates every older connection of the pool.
    """

    def on_checkin(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    def on_checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since <= idle_s:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError(f"idle connection failed its ping: {exc}") from exc

    event.listen(engine, "checkin", on_checkin)
    event.listen(engine, "checkout", on_checkout)


def connection_budget_problem(
    engine: Engine, *, workers: int, pool_size: int, check_pool_size: int
) -> str | None:
    """``budget_problem`` with the limits of the engine's PostgreSQL server; ``None`` on
    SQLite."""
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as conn:
        max_connections = int(conn.exec_driver_sql("SHOW max_connections").scalar_one())
        reserved = int(conn.exec_driver_sql("SHOW superuser_reserved_connections").scalar_one())
    return budget_problem(
        workers=workers,
        pool_size=pool_size,
        check_pool_size=check_pool_size,
        max_connections=max_connections,
        reserved=reserved,
    )


def budget_problem(
    *, workers: int, pool_size: int, check_pool_size: int, max_connections: int, reserved: int
) -> str | None:
    """What is wrong when ``workers`` server processes could open more PostgreSQL connections
    than the server accepts (``max_connections`` less the superuser reserve): each process
    keeps ``pool_size`` connections, opens as many again in bursts, and has the rights
    check's ``check_pool_size``. ``None`` when they fit."""
    per_process = 2 * pool_size + check_pool_size
    needed, allowed = workers * per_process, max_connections - reserved
    if needed <= allowed:
        return None
    return (
        f"{workers} worker(s) may open up to {needed} PostgreSQL connections "
        f"({per_process} each: {pool_size} pooled, {pool_size} more in bursts, "
        f"{check_pool_size} for the rights check), but the server accepts {allowed} "
        f"(max_connections {max_connections}, {reserved} reserved): lower "
        "SCANCAR_DATABASE_POOL_SIZE / SCANCAR_RIGHTS_CHECK_POOL_SIZE or raise max_connections"
    )


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on error (CLI and jobs)."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
