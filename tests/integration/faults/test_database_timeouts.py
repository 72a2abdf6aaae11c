"""A slow, locked or frozen PostgreSQL answers 503 within seconds; /readyz says so.

Frozen: a private cluster started by the test is stopped with SIGSTOP (connections stay open,
the kernel still accepts TCP, nothing answers), then continued. Locked: a table lock held by
another connection on the session's database.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import httpx
import psycopg
import pytest

from tests.conftest import TEST_SECRET
from tests.e2e.server import serve

pytestmark = [pytest.mark.slow]
STATEMENT_S, LOCK_S, CONNECT_S = 1.0, 1.0, 2.0
# the watchdog's limit is the statement timeout + 2 s; every answer must come well before this
ANSWER_WITHIN_S = 15.0


def _settings(url: str, tmp_path):  # type: ignore[no-untyped-def]
    from api.settings import BackendSettings

    return BackendSettings(
        env="test",
        secret_key=TEST_SECRET,
        database_url=url,
        data_dir=tmp_path / "data",
        run_background_jobs=False,
        database_statement_timeout_s=STATEMENT_S,
        database_lock_timeout_s=LOCK_S,
        database_connect_timeout_s=CONNECT_S,
    )


def _timed(call):  # type: ignore[no-untyped-def]
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def test_frozen_postgres_answers_503_quickly(private_pg, tmp_path):
    from api import migrate
    from api.auth.service import create_device, create_user
    from api.db import make_engine, session_scope
    from api.main import create_app

    settings = _settings(private_pg.url, tmp_path)
    engine = make_engine(private_pg.url, pool_size=4, timeouts=settings.db_timeouts)
    migrate.upgrade(engine)
    with session_scope(engine) as s:
        create_user(s, username="boa1", password="correct-horse-1", role="boa")
        _, device = create_device(s, name="car-frozen")
    app = create_app(settings, engine=engine)
    heartbeat = {"sent_at": datetime.now(UTC).isoformat()}
    with serve(app) as base, httpx.Client(base_url=base, timeout=ANSWER_WITHIN_S) as c:
        token = c.post(
            "/api/v1/auth/token", data={"username": "boa1", "password": "correct-horse-1"}
        )
        boa = {"Authorization": f"Bearer {token.json()['access_token']}"}
        car = {"Authorization": f"Bearer {device}"}
        check = "/api/v1/rights/check?plate=GZ123T&lon=4.35&lat=52.01"
        assert c.get("/api/v1/hits", headers=boa).status_code == 200
        assert c.get(check, headers=boa).status_code == 200  # the async pool has a connection
        assert c.post("/api/v1/devices/heartbeat", json=heartbeat, headers=car).status_code == 204
        private_pg.freeze()
        try:
            calls = {
                "hits (pooled connection)": lambda: c.get("/api/v1/hits", headers=boa),
                "rights check (async pool)": lambda: c.get(check, headers=boa),
                "heartbeat (write)": lambda: c.post(
                    "/api/v1/devices/heartbeat", json=heartbeat, headers=car
                ),
                "login (new connection)": lambda: c.post(
                    "/api/v1/auth/token", data={"username": "boa1", "password": "x" * 10}
                ),
            }
            for name, call in calls.items():
                r, took = _timed(call)
                print(f"frozen: {name}: {r.status_code} in {took:.1f} s")
                assert r.status_code == 503, (name, r.text)
                assert r.json()["code"] in ("database_unavailable", "database_busy"), name
            ready, took = _timed(lambda: c.get("/readyz"))
            print(f"frozen: readyz: {ready.status_code} in {took:.1f} s")
            assert ready.status_code == 503
            assert ready.json()["checks"]["database"].startswith(("not answering", "unreachable"))
        finally:
            private_pg.thaw()
        deadline = time.monotonic() + 30
        while c.get("/api/v1/hits", headers=boa).status_code != 200:
            assert time.monotonic() < deadline, "no recovery after the database continued"
            time.sleep(0.2)
        assert c.get(check, headers=boa).status_code == 200
        assert c.get("/readyz").status_code == 200
    engine.dispose()


@pytest.mark.parametrize(
    "db_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_locked_table_answers_503_database_busy(db_url, tmp_path):
    from fastapi.testclient import TestClient

    from api.db import make_engine
    from api.main import create_app
    from tests.conftest import Accounts

    settings = _settings(db_url, tmp_path)
    engine = make_engine(db_url, pool_size=4, timeouts=settings.db_timeouts)
    app = create_app(settings, engine=engine)
    plain = db_url.replace("postgresql+psycopg://", "postgresql://")
    with TestClient(app) as c, psycopg.connect(plain) as holder:
        boa = Accounts(engine, c).headers("boa")
        holder.execute("LOCK TABLE hits IN ACCESS EXCLUSIVE MODE")  # held until rollback
        r, took = _timed(lambda: c.get("/api/v1/hits", headers=boa))
        print(f"locked: {r.status_code} in {took:.1f} s")
        assert r.status_code == 503
        assert r.json() == {
            "detail": "the database did not answer in time (busy or locked); retry later",
            "code": "database_busy",
        }
        assert r.headers["retry-after"] == "5"
        holder.rollback()
        assert c.get("/api/v1/hits", headers=boa).status_code == 200
    engine.dispose()
