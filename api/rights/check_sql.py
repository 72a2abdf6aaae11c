"""The rights check's statements, on the pool's driver connection.

``GET /rights/check`` is the busiest read route. Per check it reads the caller and the rights
of the plate and its look-alikes (one statement), and writes one check-log row. Through
SQLAlchemy's ``Connection`` each statement cost 0.15-0.35 ms of server CPU in the machinery
around it (pool events, execution context, result metadata); on the driver's connection, the
same round trip costs 0.05-0.09 ms (``docs/performance.md``). So both statements are driver
SQL here, in the driver's parameter style, values always bound. The connection is taken from
the engine's pool in autocommit mode: the read needs no transaction and the insert commits by
itself before the answer goes out, so there are no BEGIN and COMMIT round trips.

Driver errors are raised as SQLAlchemy's ``DBAPIError`` (the app answers 503 for a database
that is gone). A connection the driver lost is invalidated, and the pool is replaced, as
SQLAlchemy does for its own statements.

This is the worker-thread path (``check_and_log_on_thread``), taken on SQLite; on PostgreSQL
the same statements run on the event loop (``check_pg``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from api.auth.principal import Principal
from api.auth.security import hash_device_token
from api.auth.service import BearerClaim, CallerRow
from api.db import utcnow
from api.deps import PendingPrincipal
from api.rights.checker import CheckPlan, PointCheck, conclude_check
from api.rights.repository import RIGHT_SELECT, rights_condition, rights_from_rows, sqlite_time
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


@dataclass(frozen=True, slots=True)
class CallerAndRights:
    """What the first statement of a check reads: the caller (``None``: no such user or
    device) and the rights of the plan's plates over its window."""

    caller: CallerRow | None
    rights: list[Right]


class CheckStatements:
    """A check's two statements in a dialect's parameter style (``?`` for SQLite, ``%s`` for
    psycopg): fixed names, values always bound.

    The first reads the caller and the rights in one round trip: the caller's row (a user by
    id, a device by token hash) left-joined to the rights of the plan's plates over its
    window. No row: unknown caller. One row with empty right columns: a caller, no rights.
    The caller columns are the same for both kinds: id, name, role, and whether it may act
    (a user's ``is_active``; a device not revoked).
    """

    def __init__(self, dialect_name: str) -> None:
        self.dialect = dialect_name
        self._sqlite = dialect_name == "sqlite"
        self._mark = "?" if self._sqlite else "%s"
        self.log_sql = (
            f"INSERT INTO rights_check_log ({', '.join(LOG_COLUMNS)}) "  # noqa: S608
            f"VALUES ({', '.join([self._mark] * len(LOG_COLUMNS))})"
        )

    def caller_and_rights(self, claim: BearerClaim, plan: CheckPlan) -> tuple[str, tuple[Any, ...]]:
        """The statement reading the caller behind ``claim`` and the rights ``plan`` names."""
        condition, params = rights_condition(
            self.dialect, plan.plates, plan.start, plan.end, table="r"
        )
        rights = ", ".join(f"r.{column}" for column in RIGHT_SELECT)
        key: int | str
        if claim.kind == "user":
            caller = "c.id, c.username, c.role, c.is_active"
            table, where, key = "users", "c.id", claim.user_id or 0
        else:
            caller = "c.id, c.name, 'device', c.revoked_at IS NULL"
            table, where, key = "devices", "c.token_hash", hash_device_token(claim.token)
        sql = (
            f"SELECT {caller}, {rights} FROM {table} c "  # noqa: S608
            f"LEFT JOIN rights r ON {condition} WHERE {where} = {self._mark}"
        )
        return sql, (*params, key)

    def read_caller_and_rights(
        self, claim: BearerClaim, rows: Sequence[Sequence[Any]]
    ) -> CallerAndRights:
        if not rows:
            return CallerAndRights(None, [])
        cid, name, role, may_act = rows[0][:4]
        if claim.kind == "user":
            caller = CallerRow(cid, name, role, active=bool(may_act))
        else:
            caller = CallerRow(cid, name, revoked=not may_act)
        rights = rights_from_rows(self.dialect, (row[4:] for row in rows if row[4] is not None))
        return CallerAndRights(caller, rights)

    def log_params(self, values: Mapping[str, Any]) -> list[Any]:
        """The insert's parameters from ``values`` (every name of ``LOG_COLUMNS``)."""
        params = []
        for name in LOG_COLUMNS:
            value = values[name]
            if self._sqlite and name in _LOG_TIMES:
                value = sqlite_time(value)
            params.append(value)
        return params


@functools.cache
def check_statements(dialect_name: str) -> CheckStatements:
    """The statements for a dialect, built once."""
    return CheckStatements(dialect_name)


class CheckSql:
    """The statements of one rights check on one driver cursor."""

    def __init__(self, cursor: Any, statements: CheckStatements) -> None:
        self._cursor = cursor
        self._sql = statements

    def caller_and_rights(self, claim: BearerClaim, plan: CheckPlan) -> CallerAndRights:
        self._cursor.execute(*self._sql.caller_and_rights(claim, plan))
        return self._sql.read_caller_and_rights(claim, self._cursor.fetchall())

    def log(self, values: Mapping[str, Any]) -> None:
        """Insert one check-log row (``values`` has every name of ``LOG_COLUMNS``); in
        autocommit mode it is committed when this returns."""
        self._cursor.execute(self._sql.log_sql, self._sql.log_params(values))


@contextmanager
def check_sql(engine: Engine) -> Iterator[CheckSql]:
    """A pooled connection in autocommit mode for the length of one check."""
    dialect = engine.dialect
    pooled = engine.raw_connection()
    driver_conn: Any = pooled.driver_connection
    cursor = None
    try:
        dialect.set_isolation_level(driver_conn, "AUTOCOMMIT")
        cursor = pooled.cursor()
        yield CheckSql(cursor, check_statements(dialect.name))
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
    """The check-log row of one check: who, when, in which zone, and the answer. The plate
    and the position only when a person (a BOA, the back office) was told "not allowed": who
    looked up which car stays traceable for a while. An allowed check names neither, nor the
    right (a permit id would name its holder); nor does a scan car's check: a car posts a
    suspect with its own copy of plate and position, and a car it let go (chalked in a
    max-stay zone, or checked in a place it then left) was parked lawfully."""
    zone, decision = result.zone, result.decision
    kept = not decision.allowed and caller.kind != "device"
    return {
        "at": utcnow(),
        "actor_type": caller.kind,
        "actor_id": caller.id,
        "actor_name": caller.name,
        "plate": plan.plate if kept else None,
        "lon": lon if kept else None,
        "lat": lat if kept else None,
        "check_at": plan.at,
        "zone_id": zone.id if zone else None,
        "area_code": zone.area_code if zone else None,
        "allowed": decision.allowed,
        "reason": decision.reason.value,
        "right_id": None,
    }


def check_and_log_on_thread(
    engine: Engine, pending: PendingPrincipal, plan: CheckPlan, lon: float, lat: float
) -> PointCheck:
    """Confirm the caller, read the plan's rights, decide, write the check-log row (blocking:
    run it on a worker thread)."""
    with check_sql(engine) as sql:
        read = sql.caller_and_rights(pending.claim, plan)
        caller = pending.resolve_row(read.caller)
        result = conclude_check(plan, read.rights)
        sql.log(check_log_values(caller, plan, lon, lat, result))
    return result
