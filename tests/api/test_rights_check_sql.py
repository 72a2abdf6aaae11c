"""The rights check's two database paths: driver SQL on a worker thread (``api.rights.check_sql``,
SQLite) and async connections on the event loop (``api.rights.check_pg``, PostgreSQL). The
check-log row in full, callers confirmed the same way as elsewhere, a lost connection, and both
pools' ping after idle."""

from __future__ import annotations

import dataclasses
import time
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from api.auth.db import UserRow
from api.rights.check_sql import LOG_COLUMNS
from api.rights.db import RightsCheckLogRow
from tests.api.permits_support import NOORD, OUTSIDE, check, now, permit_body


def test_log_columns_are_the_tables_columns_but_the_id():
    table = {c.name for c in RightsCheckLogRow.__table__.columns}  # type: ignore[attr-defined]
    assert set(LOG_COLUMNS) == table - {"id"}
    assert len(LOG_COLUMNS) == len(set(LOG_COLUMNS))


def test_check_log_row_holds_who_when_where_and_the_answer(client, bo, accounts, town, engine):
    """Every field of the row; an allowed check without plate, position or right (a
    compliant car leaves no trace), a not-allowed one with its plate and position."""
    pid = client.post("/api/v1/permits", json=permit_body(), headers=bo).json()["id"]
    name = accounts.user("boa", name="boa-logrow")
    headers = {"Authorization": f"Bearer {accounts.login(name)}"}
    at = now() - timedelta(minutes=3)
    before = now() - timedelta(seconds=1)
    body = check(client, headers, "gz-123-t", NOORD, at=at)
    miss = check(client, headers, "XX999X", OUTSIDE)
    with Session(engine) as s:
        rows = s.exec(select(RightsCheckLogRow).order_by(RightsCheckLogRow.id)).all()
        user = s.exec(select(UserRow).where(UserRow.username == name)).one()
    assert len(rows) == 2
    hit, other = rows
    assert (hit.actor_type, hit.actor_id, hit.actor_name) == ("user", user.id, name)
    assert (hit.plate, hit.zone_id, hit.area_code) == (None, "noord", "9999_NOORD")
    assert (hit.lon, hit.lat) == (None, None)
    assert hit.check_at == at
    assert before <= hit.at <= now() + timedelta(seconds=1)
    assert (hit.allowed, hit.reason, hit.right_id) == (True, "permit", None)
    assert body["right_id"] == f"permit:{pid}:0"  # the caller is told, the log keeps none
    assert (other.plate, other.zone_id, other.area_code) == ("XX999X", None, None)
    assert (other.lon, other.lat) == pytest.approx(OUTSIDE)
    assert (other.allowed, other.reason, other.right_id) == (False, "none", None)
    assert miss["zone"] is None


def test_disabled_user_is_refused_and_nothing_logged(client, accounts, town, engine):
    name = accounts.user("boa", name="boa-disabled")
    headers = {"Authorization": f"Bearer {accounts.login(name)}"}
    check(client, headers, "GZ123T", NOORD)
    with Session(engine) as s:
        user = s.exec(select(UserRow).where(UserRow.username == name)).one()
        user.is_active = False
        s.add(user)
        s.commit()
    params = {"plate": "GZ123T", "lon": NOORD[0], "lat": NOORD[1]}
    r = client.get("/api/v1/rights/check", params=params, headers=headers)
    assert r.status_code == 401, r.text
    assert "disabled" in r.json()["detail"]
    with Session(engine) as s:
        assert len(s.exec(select(RightsCheckLogRow)).all()) == 1


def test_provider_role_from_the_database_is_refused(client, accounts, town, engine):
    """The role that counts is the database's: a BOA demoted to provider gets 403."""
    name = accounts.user("boa", name="boa-demoted")
    headers = {"Authorization": f"Bearer {accounts.login(name)}"}
    with Session(engine) as s:
        user = s.exec(select(UserRow).where(UserRow.username == name)).one()
        user.role = "provider"
        s.add(user)
        s.commit()
    params = {"plate": "GZ123T", "lon": NOORD[0], "lat": NOORD[1]}
    r = client.get("/api/v1/rights/check", params=params, headers=headers)
    assert r.status_code == 403, r.text


def _terminate_other_backends(url: str) -> int:
    import psycopg

    plain = url.replace("postgresql+psycopg://", "postgresql://")
    dbname = plain.rsplit("/", 1)[1]
    with psycopg.connect(plain, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (dbname,),
        ).fetchall()
    time.sleep(0.2)  # the terminated backends close their sockets
    return len(rows)


def test_check_path_follows_the_database(client, app, bo, town, db_url):
    """PostgreSQL checks run on the event loop (the async pool serves them); SQLite has no
    async pool and uses the worker thread."""
    check(client, bo, "GZ123T", NOORD)
    pool = app.state.backend.check_pool
    if db_url.startswith("sqlite"):
        assert pool is None
    else:
        assert pool.is_open
        assert pool.handed_out >= 1


@pytest.fixture
def pg_settings(pg_database, tmp_path):  # type: ignore[no-untyped-def]
    from tests.conftest import make_test_settings

    return make_test_settings(pg_database, tmp_path)


def _pg_app(pg_database, settings, *, loop_path: bool, ping_after_idle_s: float = 3600):  # type: ignore[no-untyped-def]
    """An app on ``pg_database`` with a device; checks on the event loop or, with
    ``loop_path=False``, on the worker thread (no async pool)."""
    from api.auth.service import create_device
    from api.backend import build_backend
    from api.db import make_engine, session_scope
    from api.main import create_app
    from api.rights.check_pg import CheckPool

    engine = make_engine(pg_database, pool_size=2, ping_after_idle_s=3600)
    with session_scope(engine) as s:
        _, token = create_device(s, name=f"car-{uuid.uuid4().hex[:8]}")
    pool = None
    if loop_path:
        _, kwargs = engine.dialect.create_connect_args(engine.url)
        pool = CheckPool(kwargs, 2, ping_after_idle_s=ping_after_idle_s)
    app = create_app(dataclasses.replace(build_backend(settings, engine=engine), check_pool=pool))
    return app, engine, {"Authorization": f"Bearer {token}"}


@pytest.mark.postgres
@pytest.mark.parametrize("loop_path", [True, False], ids=["event-loop", "worker-thread"])
def test_lost_connection_is_503_then_the_next_check_works(pg_database, pg_settings, loop_path):
    from fastapi.testclient import TestClient

    app, engine, headers = _pg_app(pg_database, pg_settings, loop_path=loop_path)
    params = {"plate": "GZ123T", "lon": NOORD[0], "lat": NOORD[1]}
    try:
        with TestClient(app) as client:
            assert (
                client.get("/api/v1/rights/check", params=params, headers=headers).status_code
                == 200
            )
            assert _terminate_other_backends(pg_database) >= 1
            lost = client.get("/api/v1/rights/check", params=params, headers=headers)
            assert lost.status_code == 503, lost.text
            assert lost.json()["code"] == "database_unavailable"
            again = client.get("/api/v1/rights/check", params=params, headers=headers)
            assert again.status_code == 200, again.text
            if loop_path:
                assert app.state.backend.check_pool.handed_out >= 3
    finally:
        engine.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("idle_s", [0.1, 3600.0])
def test_async_pool_pings_an_idle_connection(pg_database, pg_settings, idle_s):
    """The event loop's pool pings a connection idle for longer than the limit and replaces it
    when its server is gone; below the limit the check meets the dead connection (503)."""
    from fastapi.testclient import TestClient

    app, engine, headers = _pg_app(
        pg_database, pg_settings, loop_path=True, ping_after_idle_s=idle_s
    )
    params = {"plate": "GZ123T", "lon": NOORD[0], "lat": NOORD[1]}
    try:
        with TestClient(app) as client:
            first = client.get("/api/v1/rights/check", params=params, headers=headers)
            assert first.status_code == 200, first.text
            assert _terminate_other_backends(pg_database) >= 1
            time.sleep(0.3)
            after = client.get("/api/v1/rights/check", params=params, headers=headers)
            assert after.status_code == (200 if idle_s < 0.3 else 503), after.text
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_async_pool_pings_connections_returned_before_a_loss(pg_database):
    """After one connection turns out lost, every connection returned before that is pinged
    before its next use (the server restarted under all of them), though none sat idle."""
    import asyncio

    from sqlalchemy.exc import DBAPIError

    from api.db import make_engine
    from api.rights.check_pg import CheckPool

    engine = make_engine(pg_database, pool_size=1)
    _, kwargs = engine.dialect.create_connect_args(engine.url)
    engine.dispose()

    async def backend_pid(pool: CheckPool) -> int:
        async with pool.statements() as sql:
            cursor = sql._cursor
            await cursor.execute("SELECT pg_backend_pid()")
            row = await cursor.fetchone()
            return int(row[0])

    async def scenario() -> tuple[set[int], int]:
        pool = CheckPool(kwargs, 2, ping_after_idle_s=3600)
        await pool.open()
        try:
            async with pool.statements() as a, pool.statements() as b:  # two connections
                pids = set()
                for sql in (a, b):
                    await sql._cursor.execute("SELECT pg_backend_pid()")
                    pids.add((await sql._cursor.fetchone())[0])
            await asyncio.to_thread(_terminate_other_backends, pg_database)
            with pytest.raises(DBAPIError) as lost:
                await backend_pid(pool)
            assert lost.value.connection_invalidated
            return pids, await backend_pid(pool)
        finally:
            await pool.close()

    before, after = asyncio.run(scenario())
    assert len(before) == 2
    assert after not in before


@pytest.mark.postgres
@pytest.mark.parametrize("idle_s", [0.1, 3600.0])
def test_idle_connection_is_pinged_and_replaced(pg_database, idle_s):
    """A pooled connection idle for longer than the limit is pinged, and replaced when its
    server is gone; below the limit it is handed out unpinged (and the query meets the dead
    connection)."""
    from api.db import make_engine

    engine = make_engine(pg_database, pool_size=1, ping_after_idle_s=idle_s)
    try:
        with engine.connect() as conn:
            first = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        assert _terminate_other_backends(pg_database) >= 1
        time.sleep(0.3)
        if idle_s < 0.3:
            with engine.connect() as conn:
                second = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
            assert second != first
        else:
            with pytest.raises(OperationalError), engine.connect() as conn:
                conn.execute(text("SELECT pg_backend_pid()"))
    finally:
        engine.dispose()


def _pool_kwargs(pg_database: str) -> dict:  # type: ignore[type-arg]
    from api.db import make_engine

    engine = make_engine(pg_database, pool_size=1)
    _, kwargs = engine.dialect.create_connect_args(engine.url)
    engine.dispose()
    return kwargs


def test_async_pool_refuses_at_once_when_the_database_cannot_be_reached():
    """No idle connection and no server: the connection error itself (503), not a wait."""
    import asyncio

    from sqlalchemy.exc import OperationalError as SaOperationalError

    from api.rights.check_pg import CheckPool

    async def scenario() -> list[str]:
        pool = CheckPool({"host": "127.0.0.1", "port": 1, "dbname": "none"}, 1, wait_s=0.5)
        await pool.open()
        messages = []
        try:
            for _ in range(2):  # the one slot comes back: the second try fails the same way
                with pytest.raises(SaOperationalError) as failed:
                    async with pool.statements():
                        pass
                messages.append(str(failed.value.orig))
            return messages
        finally:
            await pool.close()

    for message in asyncio.run(scenario()):
        assert "127.0.0.1" in message
        assert "came free" not in message


@pytest.mark.postgres
def test_async_pool_waits_only_while_every_connection_is_in_use(pg_database):
    import asyncio

    from sqlalchemy.exc import OperationalError as SaOperationalError

    from api.rights.check_pg import CheckPool

    async def pid(pool: CheckPool) -> int:
        async with pool.statements() as sql:
            await sql._cursor.execute("SELECT pg_backend_pid()")
            return int((await sql._cursor.fetchone())[0])

    async def scenario() -> tuple[str, int, int, int]:
        pool = CheckPool(_pool_kwargs(pg_database), 1, wait_s=0.2)
        await pool.open()
        try:
            first = await pid(pool)
            async with pool.statements():  # the only connection is in use
                with pytest.raises(SaOperationalError) as waited:
                    await pid(pool)
            again = await pid(pool)  # the same connection, reused
            waiter = asyncio.create_task(pid(pool))
            async with pool.statements():
                await asyncio.sleep(0.05)  # the waiter waits, then gets the connection
            return str(waited.value.orig), first, again, await waiter
        finally:
            await pool.close()

    message, first, again, after_wait = asyncio.run(scenario())
    assert "came free within 0.2 s (all 1 in use)" in message
    assert first == again == after_wait


@pytest.mark.postgres
@pytest.mark.parametrize(("max_age_s", "reused"), [(3600.0, True), (0.0, False)])
def test_async_pool_replaces_connections_past_their_age(pg_database, max_age_s, reused):
    import asyncio

    from api.rights.check_pg import CheckPool

    async def pid(pool: CheckPool) -> int:
        async with pool.statements() as sql:
            await sql._cursor.execute("SELECT pg_backend_pid()")
            return int((await sql._cursor.fetchone())[0])

    async def scenario() -> tuple[int, int]:
        pool = CheckPool(_pool_kwargs(pg_database), 2, max_age_s=max_age_s)
        await pool.open()
        try:
            return await pid(pool), await pid(pool)
        finally:
            await pool.close()

    first, second = asyncio.run(scenario())
    assert (first == second) is reused
