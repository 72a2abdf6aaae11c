"""The rights check's statements, on the pool's driver connection.

``GET /rights/check`` is the busiest read route. Per check it reads the caller, reads the
rights of the plate and its look-alikes, and writes one check-log row. Through SQLAlchemy's
``Connection`` each statement cost 0.15-0.35 ms of server CPU in the machinery around it (pool
events, execution context, result metadata); on the driver's connection, the same round trip
costs 0.05-0.09 ms (``docs/performance.md``). So these three statements are driver SQL here, in
the driver's parameter style, values always bound. The connection is taken from the engine's
pool in autocommit mode: the reads need no transaction and the insert commits by itself before
the answer goes out, so there are no BEGIN and COMMIT round trips.

Driver errors are raised as SQLAlchemy's ``DBAPIError`` (the app answers 503 for a database
that is gone). A connection the driver lost is invalidated, and the pool is replaced, as
SQLAlchemy does for its own statements.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from api.auth.service import CallerRow
from api.rights.repository import rights_from_rows, rights_statement, sqlite_time
from permits.model import Right

# the check log's columns, in the order of ``CheckSql.log``'s statement
LOG_COLUMNS = (
    "at",
    "actor_type",
    "actor_id",
    "actor_name",
    "plate",
    "lon",
    "lat",
    "check_at",
    "zone_id",
    "area_code",
    "allowed",
    "reason",
    "right_id",
)
_LOG_TIMES = frozenset({"at", "check_at"})


class CheckSql:
    """The statements of one rights check on one driver cursor; a ``CallerLookup`` too."""

    def __init__(self, cursor: Any, dialect_name: str) -> None:
        self._cursor = cursor
        self._dialect = dialect_name
        self._sqlite = dialect_name == "sqlite"
        # fixed names and the driver's placeholder: values are always bound
        mark = "?" if self._sqlite else "%s"
        self._user_sql = f"SELECT id, username, role, is_active FROM users WHERE id = {mark}"  # noqa: S608
        self._device_sql = f"SELECT id, name, revoked_at FROM devices WHERE token_hash = {mark}"  # noqa: S608
        self._log_sql = (
            f"INSERT INTO rights_check_log ({', '.join(LOG_COLUMNS)}) "  # noqa: S608
            f"VALUES ({', '.join([mark] * len(LOG_COLUMNS))})"
        )

    def user(self, user_id: int) -> CallerRow | None:
        self._cursor.execute(self._user_sql, (user_id,))
        row = self._cursor.fetchone()
        return None if row is None else CallerRow(row[0], row[1], row[2], bool(row[3]))

    def device(self, token_hash: str) -> CallerRow | None:
        self._cursor.execute(self._device_sql, (token_hash,))
        row = self._cursor.fetchone()
        return None if row is None else CallerRow(row[0], row[1], revoked=row[2] is not None)

    def rights(self, plates: Sequence[str], start: datetime, end: datetime) -> list[Right]:
        if not plates:
            return []
        sql, params = rights_statement(self._dialect, plates, start, end)
        self._cursor.execute(sql, params)
        return rights_from_rows(self._dialect, self._cursor.fetchall())

    def log(self, values: Mapping[str, Any]) -> None:
        """Insert one check-log row (``values`` has every name of ``LOG_COLUMNS``); in
        autocommit mode it is committed when this returns."""
        params = []
        for name in LOG_COLUMNS:
            value = values[name]
            if self._sqlite and name in _LOG_TIMES:
                value = sqlite_time(value)
            params.append(value)
        self._cursor.execute(self._log_sql, params)


@contextmanager
def check_sql(engine: Engine) -> Iterator[CheckSql]:
    """A pooled connection in autocommit mode for the length of one check."""
    dialect = engine.dialect
    pooled = engine.raw_connection()
    driver_conn = pooled.driver_connection
    cursor = None
    try:
        dialect.set_isolation_level(driver_conn, "AUTOCOMMIT")
        cursor = pooled.cursor()
        yield CheckSql(cursor, dialect.name)
    except dialect.loaded_dbapi.Error as exc:
        lost = dialect.is_disconnect(exc, driver_conn, cursor)
        if lost:
            pooled.invalidate(exc)
            engine.dispose()  # the other pooled connections are as dead as this one
        raise DBAPIError.instance(
            None,
            None,
            exc,
            dialect.loaded_dbapi.Error,
            connection_invalidated=lost,
            dialect=dialect,
        ) from exc
    finally:
        if cursor is not None and pooled.is_valid:
            cursor.close()
        if pooled.is_valid:
            dialect.reset_isolation_level(driver_conn)
        pooled.close()
