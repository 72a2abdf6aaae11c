"""The rights check on PostgreSQL, on the event loop: psycopg's async connections.

On a worker thread (``check_sql``) a check paid twice for threading: the hop to the thread
and back, and every statement's hand-over of the GIL between the thread, its seven siblings
and the event loop. Measured in one process at 8 checks in flight (``docs/performance.md``),
the hop cost 0.25 ms and the hand-overs made the check's own work cost 0.85 ms instead of
0.46 ms. Here the same statements (``CheckStatements``) run on the event loop, so a check
needs no thread. SQLite has no async driver here; it keeps the worker thread.

``CheckPool`` is this path's own small pool (psycopg_pool), opened and closed with the app.
Connections are in autocommit mode: the reads need no transaction and the check-log insert
commits by itself before the answer goes out. A connection unused for longer than the engine's
``PING_AFTER_IDLE_S`` is pinged before it is handed out, and so is every connection returned
before a lost-connection error: the database may have restarted under them. Driver errors are
raised as SQLAlchemy's ``DBAPIError`` (503 for a database that is gone), as on the thread path.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from api.auth.service import BearerClaim
from api.db import PING_AFTER_IDLE_S
from api.deps import PendingPrincipal
from api.rights.check_sql import CallerAndRights, CheckStatements, check_log_values
from api.rights.checker import CheckPlan, PointCheck, conclude_check


class AsyncCheckSql:
    """The statements of one rights check on one async connection."""

    def __init__(self, cursor: psycopg.AsyncCursor[Any], statements: CheckStatements) -> None:
        self._cursor = cursor
        self._sql = statements

    async def caller_and_rights(self, claim: BearerClaim, plan: CheckPlan) -> CallerAndRights:
        await self._cursor.execute(*self._sql.caller_and_rights(claim, plan))
        return self._sql.read_caller_and_rights(claim, await self._cursor.fetchall())

    async def log(self, values: Mapping[str, Any]) -> None:
        await self._cursor.execute(self._sql.log_sql, self._sql.log_params(values))


class CheckPool:
    """Async PostgreSQL connections for ``GET /rights/check``; ``open`` and ``close`` run in
    the app's lifespan (a pool belongs to one event loop). Closed, the route uses the worker
    thread instead."""

    def __init__(
        self,
        connect_kwargs: Mapping[str, Any],
        max_size: int,
        *,
        ping_after_idle_s: float = PING_AFTER_IDLE_S,
        timeout_s: float = 10.0,
    ) -> None:
        self._kwargs = {**connect_kwargs, "autocommit": True}
        self.max_size = max_size
        self.ping_after_idle_s = ping_after_idle_s
        self.timeout_s = timeout_s
        self._sql = CheckStatements("postgresql")
        self._pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]] | None = None
        self._returned: weakref.WeakKeyDictionary[psycopg.AsyncConnection[Any], float] = (
            weakref.WeakKeyDictionary()
        )
        self._lost_at = float("-inf")

    @classmethod
    def for_engine(cls, engine: Engine, max_size: int) -> CheckPool | None:
        """A pool to the engine's database, or ``None`` when it is not PostgreSQL."""
        if engine.dialect.name != "postgresql":
            return None
        _, kwargs = engine.dialect.create_connect_args(engine.url)
        return cls(kwargs, max_size)

    @property
    def is_open(self) -> bool:
        return self._pool is not None

    def stats(self) -> dict[str, int]:
        """psycopg_pool's counters (``requests_num``: connections handed out, ...)."""
        return self._pool.get_stats() if self._pool is not None else {}

    async def open(self) -> None:
        """Open a new pool (a closed psycopg pool cannot be reopened). No connection is made
        until the first check needs one."""
        pool = AsyncConnectionPool(
            kwargs=self._kwargs,
            min_size=0,
            max_size=self.max_size,
            open=False,
            check=self._check,
            reset=self._stamp,
            timeout=self.timeout_s,
            name="rights-check",
        )
        await pool.open()
        self._pool = pool

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    async def _stamp(self, conn: psycopg.AsyncConnection[Any]) -> None:
        self._returned[conn] = time.monotonic()

    async def _check(self, conn: psycopg.AsyncConnection[Any]) -> None:
        """Ping a connection that sat idle, or came back before a connection was lost; a
        failed ping makes the pool discard it and hand out another."""
        returned = self._returned.get(conn)
        if returned is None:
            return  # new
        if time.monotonic() - returned > self.ping_after_idle_s or returned <= self._lost_at:
            await conn.execute("SELECT 1")

    @asynccontextmanager
    async def statements(self) -> AsyncIterator[AsyncCheckSql]:
        """A connection for one check. psycopg errors come out as SQLAlchemy's ``DBAPIError``
        (``connection_invalidated`` when the connection was lost)."""
        if self._pool is None:
            raise RuntimeError("the rights-check pool is not open")
        conn: psycopg.AsyncConnection[Any] | None = None
        try:
            async with self._pool.connection() as conn:
                yield AsyncCheckSql(conn.cursor(), self._sql)
        except psycopg.Error as exc:
            lost = conn is not None and (conn.broken or conn.closed)
            if lost:
                self._lost_at = time.monotonic()
            raise DBAPIError.instance(
                None, None, exc, psycopg.Error, connection_invalidated=lost
            ) from exc


async def check_and_log_on_loop(
    pool: CheckPool, pending: PendingPrincipal, plan: CheckPlan, lon: float, lat: float
) -> PointCheck:
    """Confirm the caller, read the plan's rights, decide, write the check-log row."""
    async with pool.statements() as sql:
        read = await sql.caller_and_rights(pending.claim, plan)
        caller = pending.resolve_row(read.caller)
        result = conclude_check(plan, read.rights)
        await sql.log(check_log_values(caller, plan, lon, lat, result))
    return result
