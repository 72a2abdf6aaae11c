"""The rights check's driver-SQL path (``api.rights.check_sql``) and the pool's ping after idle:
the check-log row in full, callers confirmed the same way as elsewhere, a lost connection."""

from __future__ import annotations

import time
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


def test_check_log_row_holds_every_field(client, bo, accounts, town, engine):
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
    assert (hit.plate, hit.zone_id, hit.area_code) == ("GZ123T", "noord", "9999_NOORD")
    assert (hit.lon, hit.lat) == pytest.approx(NOORD)
    assert hit.check_at == at
    assert before <= hit.at <= now() + timedelta(seconds=1)
    assert (hit.allowed, hit.reason, hit.right_id) == (True, "permit", f"permit:{pid}:0")
    assert body["right_id"] == hit.right_id
    assert (other.plate, other.zone_id, other.area_code) == ("XX999X", None, None)
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


@pytest.mark.postgres
def test_lost_connection_is_503_then_the_next_check_works(pg_database, settings, tmp_path):
    from fastapi.testclient import TestClient

    from api.auth.service import create_device
    from api.db import make_engine, session_scope
    from api.main import create_app

    engine = make_engine(pg_database, pool_size=2, ping_after_idle_s=3600)
    with session_scope(engine) as s:
        _, token = create_device(s, name="car-lost-conn")
    app = create_app(settings.model_copy(update={"database_url": pg_database}), engine=engine)
    headers = {"Authorization": f"Bearer {token}"}
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
    finally:
        engine.dispose()


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
