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

This is the worker-thread path (``check_and_log_on_thread``), taken on SQLite; on PostgreSQL
the same statements run on the event loop (``check_pg``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from api.auth.principal import Principal
from api.auth.security import hash_device_token
from api.auth.service import BearerClaim, CallerRow
from api.db import utcnow
from api.deps import PendingPrincipal
from api.rights.checker import CheckPlan, PointCheck, conclude_check
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


class CheckStatements:
    """The three statements in a dialect's parameter style (``?`` for SQLite, ``%s`` for
    psycopg): fixed names, values always bound."""

    def __init__(self, dialect_name: str) -> None:
        self.dialect = dialect_name
        self._sqlite = dialect_name == "sqlite"
        mark = "?" if self._sqlite else "%s"
        self.user_sql = f"SELECT id, username, role, is_active FROM users WHERE id = {mark}"  # noqa: S608
        self.device_sql = f"SELECT id, name, revoked_at FROM devices WHERE token_hash = {mark}"  # noqa: S608
        self.log_sql = (
            f"INSERT INTO rights_check_log ({', '.join(LOG_COLUMNS)}) "  # noqa: S608
            f"VALUES ({', '.join([mark] * len(LOG_COLUMNS))})"
        )

    def caller(self, claim: BearerClaim) -> tuple[str, tuple[Any, ...]]:
        """The statement that reads the caller behind ``claim`` (a user or a device)."""
        if claim.kind == "user":
            return self.user_sql, (claim.user_id or 0,)
        return self.device_sql, (hash_device_token(claim.token),)

    @staticmethod
    def user_row(row: Sequence[Any] | None) -> CallerRow | None:
        return None if row is None else CallerRow(row[0], row[1], row[2], bool(row[3]))

    @staticmethod
    def device_row(row: Sequence[Any] | None) -> CallerRow | None:
        return None if row is None else CallerRow(row[0], row[1], revoked=row[2] is not None)

    def caller_row(self, claim: BearerClaim, row: Sequence[Any] | None) -> CallerRow | None:
        return self.user_row(row) if claim.kind == "user" else self.device_row(row)

    def rights(
        self, plates: Sequence[str], start: datetime, end: datetime
    ) -> tuple[str, tuple[Any, ...]]:
        return rights_statement(self.dialect, plates, start, end)

    def rights_from_rows(self, rows: Iterable[Sequence[Any]]) -> list[Right]:
        return rights_from_rows(self.dialect, rows)

    def log_params(self, values: Mapping[str, Any]) -> list[Any]:
        """The insert's parameters from ``values`` (every name of ``LOG_COLUMNS``)."""
        params = []
        for name in LOG_COLUMNS:
            value = values[name]
            if self._sqlite and name in _LOG_TIMES:
                value = sqlite_time(value)
            params.append(value)
        return params


class CheckSql:
    """The statements of one rights check on one driver cursor; a ``CallerLookup`` too."""

    def __init__(self, cursor: Any, statements: CheckStatements) -> None:
        self._cursor = cursor
        self._sql = statements

    def user(self, user_id: int) -> CallerRow | None:
        self._cursor.execute(self._sql.user_sql, (user_id,))
        return self._sql.user_row(self._cursor.fetchone())

    def device(self, token_hash: str) -> CallerRow | None:
        self._cursor.execute(self._sql.device_sql, (token_hash,))
        return self._sql.device_row(self._cursor.fetchone())

    def rights(self, plates: Sequence[str], start: datetime, end: datetime) -> list[Right]:
        self._cursor.execute(*self._sql.rights(plates, start, end))
        return self._sql.rights_from_rows(self._cursor.fetchall())

    def log(self, values: Mapping[str, Any]) -> None:
        """Insert one check-log row (``values`` has every name of ``LOG_COLUMNS``); in
        autocommit mode it is committed when this returns."""
        self._cursor.execute(self._sql.log_sql, self._sql.log_params(values))


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
        yield CheckSql(cursor, CheckStatements(dialect.name))
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


def check_log_values(
    caller: Principal, plan: CheckPlan, lon: float, lat: float, result: PointCheck
) -> dict[str, Any]:
    """The check-log row of one check: who, when, what, where, and the answer."""
    zone, decision = result.zone, result.decision
    return {
        "at": utcnow(),
        "actor_type": caller.kind,
        "actor_id": caller.id,
        "actor_name": caller.name,
        "plate": plan.plate,
        "lon": lon,
        "lat": lat,
        "check_at": plan.at,
        "zone_id": zone.id if zone else None,
        "area_code": zone.area_code if zone else None,
        "allowed": decision.allowed,
        "reason": decision.reason.value,
        "right_id": decision.right_id,
    }


def check_and_log_on_thread(
    engine: Engine, pending: PendingPrincipal, plan: CheckPlan, lon: float, lat: float
) -> PointCheck:
    """Confirm the caller, read the plan's rights, decide, write the check-log row (blocking:
    run it on a worker thread)."""
    with check_sql(engine) as sql:
        caller = pending.resolve_with(sql)
        result = conclude_check(plan, sql.rights(plan.plates, plan.start, plan.end))
        sql.log(check_log_values(caller, plan, lon, lat, result))
    return result
