"""The rights check on PostgreSQL, on the event loop: psycopg's async connections.

On a worker thread (``check_sql``) a check paid twice for threading: the hop to the thread
and back, and every statement's hand-over of the GIL between the thread, its seven siblings
and the event loop. Measured in one process at 8 checks in flight (``docs/performance.md``),
the hop cost 0.25 ms and the hand-overs made the check's own work cost 0.85 ms instead of
0.46 ms. Here the same statements (``CheckStatements``) run on the event loop, so a check
needs no thread. SQLite has no async driver here; it keeps the worker thread.

``CheckPool`` is this path's own small pool, opened and closed with the app. Connections are
in autocommit mode: the reads need no transaction and the check-log insert commits by itself
before the answer goes out. A connection unused for longer than the engine's
``PING_AFTER_IDLE_S`` is pinged before it is handed out, and so is every connection returned
before a lost-connection error: the database may have restarted under them. Like the engine's
pool, connections are replaced after ``RECYCLE_AFTER_S``. Driver errors are raised as
SQLAlchemy's ``DBAPIError`` (503 for a database that is gone), as on the thread path.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from api.auth.service import BearerClaim
from api.db import PING_AFTER_IDLE_S, RECYCLE_AFTER_S
from api.db_timeouts import StatementWatchdog, guard_of
from api.deps import PendingPrincipal
from api.rights.check_sql import (
    CallerAndRights,
    CheckStatements,
    check_log_values,
    check_statements,
)
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


@dataclass(slots=True)
class _Pooled:
    conn: psycopg.AsyncConnection[Any]
    created: float
    returned: float = 0.0


class CheckPool:
    """Async PostgreSQL connections for ``GET /rights/check``, at most ``max_size`` in use;
    ``open`` and ``close`` run in the app's lifespan (a pool belongs to one event loop).
    Closed, the route uses the worker thread instead.

    Small on purpose, where psycopg_pool would do more: a check that finds no idle connection
    connects there and then, so a database that is down is a 503 at once, not a wait for a
    pool that keeps retrying in the background. A check waits only while all ``max_size``
    connections are in use, for at most ``wait_s``.
    """

    def __init__(
        self,
        connect_kwargs: Mapping[str, Any],
        max_size: int,
        *,
        ping_after_idle_s: float = PING_AFTER_IDLE_S,
        wait_s: float = 10.0,
        max_idle_s: float = 600.0,
        max_age_s: float = RECYCLE_AFTER_S,
    ) -> None:
        self._kwargs = {"connect_timeout": 5, **connect_kwargs, "autocommit": True}
        self.max_size = max_size
        self.ping_after_idle_s = ping_after_idle_s
        self.wait_s = wait_s
        self.max_idle_s = max_idle_s
        self.max_age_s = max_age_s
        self.handed_out = 0  # connections handed to checks since the pool was made
        self._sql = check_statements("postgresql")
        self._idle: list[_Pooled] = []  # the most recently returned last
        self._slots: asyncio.Semaphore | None = None
        self._closing: set[asyncio.Task[None]] = set()
        self._lost_at = float("-inf")
        # shuts down a connection whose check waits past the engine's limit (frozen server)
        self.watchdog: StatementWatchdog | None = None

    @classmethod
    def for_engine(cls, engine: Engine, max_size: int) -> CheckPool | None:
        """A pool to the engine's database, or ``None`` when it is not PostgreSQL."""
        if engine.dialect.name != "postgresql":
            return None
        _, kwargs = engine.dialect.create_connect_args(engine.url)
        guard = guard_of(engine)
        if guard is None:
            return cls(kwargs, max_size)
        timeouts, watchdog = guard
        pool = cls({**kwargs, **timeouts.connect_args()}, max_size)
        pool.watchdog = watchdog
        return pool

    @property
    def is_open(self) -> bool:
        return self._slots is not None

    async def open(self) -> None:
        """Start handing out connections; none is made until a check needs one."""
        self._slots = asyncio.Semaphore(self.max_size)

    async def close(self) -> None:
        """Close the idle connections; those in use are closed when they come back."""
        self._slots = None
        idle, self._idle = self._idle, []
        for pooled in idle:
            self._discard(pooled)
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)

    async def _acquire(self, slots: asyncio.Semaphore) -> _Pooled:
        if slots.locked():
            try:
                await asyncio.wait_for(slots.acquire(), self.wait_s)
            except TimeoutError:
                raise psycopg.OperationalError(
                    f"no rights-check connection came free within {self.wait_s:g} s "
                    f"(all {self.max_size} in use)"
                ) from None
        else:
            await slots.acquire()  # returns at once
        try:
            while self._idle:
                pooled = self._idle.pop()
                if (
                    time.monotonic() - pooled.returned > self.ping_after_idle_s
                    or pooled.returned <= self._lost_at
                ):
                    try:
                        with self._watched(pooled.conn):
                            await pooled.conn.execute("SELECT 1")
                    except psycopg.Error:
                        self._discard(pooled)
                        continue
                return pooled
            conn = await psycopg.AsyncConnection.connect(**self._kwargs)
            return _Pooled(conn, time.monotonic())
        except BaseException:
            slots.release()
            raise

    def _release(self, pooled: _Pooled, slots: asyncio.Semaphore) -> None:
        now = time.monotonic()
        conn = pooled.conn
        reusable = (
            self._slots is slots
            and not conn.closed
            and not conn.broken
            and conn.info.transaction_status == TransactionStatus.IDLE
            and now - pooled.created < self.max_age_s
        )
        if reusable:
            pooled.returned = now
            self._idle.append(pooled)
            if now - self._idle[0].returned > self.max_idle_s:
                self._discard(self._idle.pop(0))
        else:
            self._discard(pooled)
        slots.release()

    def _discard(self, pooled: _Pooled) -> None:
        task = asyncio.get_running_loop().create_task(self._close_quietly(pooled.conn))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    @staticmethod
    async def _close_quietly(conn: psycopg.AsyncConnection[Any]) -> None:
        with contextlib.suppress(psycopg.Error):
            await conn.close()

    @contextlib.contextmanager
    def _watched(self, conn: psycopg.AsyncConnection[Any]) -> Iterator[None]:
        if self.watchdog is None:
            yield
            return
        self.watchdog.arm(conn)
        try:
            yield
        finally:
            self.watchdog.disarm(conn)

    @asynccontextmanager
    async def statements(self) -> AsyncIterator[AsyncCheckSql]:
        """A connection for one check. psycopg errors come out as SQLAlchemy's ``DBAPIError``
        (``connection_invalidated`` when the connection was lost); a database that cannot be
        reached is an ``OperationalError`` at once."""
        slots = self._slots
        if slots is None:
            raise RuntimeError("the rights-check pool is not open")
        pooled: _Pooled | None = None
        try:
            pooled = await self._acquire(slots)
            self.handed_out += 1
            try:
                with self._watched(pooled.conn):
                    yield AsyncCheckSql(pooled.conn.cursor(), self._sql)
            finally:
                self._release(pooled, slots)
        except psycopg.Error as exc:
            lost = pooled is not None and (pooled.conn.broken or pooled.conn.closed)
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
