"""Login, tokens, devices and brute-force protection."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from sqlmodel import Session, select

from api.audit.db import AuditRow
from api.auth.security import create_access_token
from tests.conftest import TEST_SECRET


def test_token_login_returns_bearer_jwt(client, accounts):
    name = accounts.user("boa")
    r = client.post("/api/v1/auth/token", data={"username": name, "password": "correct-horse-1"})
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 15 * 60
    claims = jwt.decode(body["access_token"], TEST_SECRET, algorithms=["HS256"])
    assert claims["role"] == "boa"
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json() == {"kind": "user", "id": int(claims["sub"]), "name": name, "role": "boa"}


def test_token_wrong_password_is_401(client, accounts):
    name = accounts.user("boa")
    r = client.post("/api/v1/auth/token", data={"username": name, "password": "wrong-password"})
    assert r.status_code == 401
    assert r.json() == {"detail": "wrong username or password", "code": "bad_credentials"}
    r = client.post("/api/v1/auth/token", data={"username": "nobody", "password": "whatever123"})
    assert r.status_code == 401


def test_token_expired_is_401(client, accounts, engine):
    name = accounts.user("backoffice")
    with Session(engine) as s:
        from api.auth.db import UserRow

        uid = s.exec(select(UserRow.id).where(UserRow.username == name)).one()
    old = create_access_token(
        user_id=uid,
        role="backoffice",
        secret_key=TEST_SECRET,
        minutes=15,
        now=datetime.now(UTC) - timedelta(minutes=16),
    )
    r = client.get("/api/v1/audit", headers={"Authorization": f"Bearer {old.token}"})
    assert r.status_code == 401
    assert "expired" in r.json()["detail"]
    fresh = create_access_token(user_id=uid, role="backoffice", secret_key=TEST_SECRET, minutes=15)
    assert (
        client.get("/api/v1/audit", headers={"Authorization": f"Bearer {fresh.token}"}).status_code
        == 200
    )


def test_token_with_wrong_signature_is_401(client, accounts, engine):
    accounts.user("admin")
    forged = create_access_token(
        user_id=1, role="admin", secret_key="another-secret-key-of-enough-length-000", minutes=5
    )
    r = client.get("/api/v1/audit", headers={"Authorization": f"Bearer {forged.token}"})
    assert r.status_code == 401
    assert r.json()["code"] == "not_authenticated"


def test_token_of_disabled_user_is_401(client, accounts, engine):
    from api.auth.db import UserRow

    name = accounts.user("backoffice")
    headers = {"Authorization": f"Bearer {accounts.login(name)}"}
    assert client.get("/api/v1/audit", headers=headers).status_code == 200
    with Session(engine) as s:
        user = s.exec(select(UserRow).where(UserRow.username == name)).one()
        user.is_active = False
        s.add(user)
        s.commit()
    assert client.get("/api/v1/audit", headers=headers).status_code == 401


def test_device_token_revoked_gets_401_at_once(client, accounts, engine):
    from api.auth.service import revoke_device
    from api.db import session_scope

    token = accounts.device("car-7")
    headers = {"Authorization": f"Bearer {token}"}
    hb = {"sent_at": datetime.now(UTC).isoformat()}
    assert client.post("/api/v1/devices/heartbeat", json=hb, headers=headers).status_code == 204
    with session_scope(engine) as s:
        revoke_device(s, name="car-7")
    r = client.post("/api/v1/devices/heartbeat", json=hb, headers=headers)
    assert r.status_code == 401
    assert "revoked" in r.json()["detail"]


def test_login_brute_force_locks_with_429(client, accounts, settings):
    name = accounts.user("boa")
    for _ in range(settings.login_max_failures):
        r = client.post("/api/v1/auth/token", data={"username": name, "password": "nope-nope-1"})
        assert r.status_code == 401
    # even the right password is refused while locked
    r = client.post("/api/v1/auth/token", data={"username": name, "password": "correct-horse-1"})
    assert r.status_code == 429
    assert r.json()["code"] == "login_locked"
    assert int(r.headers["retry-after"]) > 0


def test_login_lock_expires(engine, settings):
    from api.auth.service import create_user, login
    from api.db import session_scope
    from api.errors import TooManyRequests, Unauthorized

    t0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    with session_scope(engine) as s:
        create_user(s, username="boa1", password="correct-horse-1", role="boa")
    with session_scope(engine) as s:
        for i in range(settings.login_max_failures):
            with pytest.raises(Unauthorized):
                login(
                    s,
                    settings,
                    username="boa1",
                    password="x" * 10,
                    client="10.0.0.1",
                    now=t0 + timedelta(seconds=i),
                )
        with pytest.raises(TooManyRequests):
            login(
                s,
                settings,
                username="boa1",
                password="correct-horse-1",
                client="10.0.0.1",
                now=t0 + timedelta(minutes=1),
            )
        later = t0 + timedelta(minutes=settings.login_lockout_minutes + 1)
        assert (
            login(
                s,
                settings,
                username="boa1",
                password="correct-horse-1",
                client="10.0.0.1",
                now=later,
            ).user.username
            == "boa1"
        )


def test_login_is_audited_and_password_never_logged(client, accounts, engine, caplog):
    name = accounts.user("boa", password="very-secret-pw-42")
    with caplog.at_level("DEBUG"):
        r = client.post(
            "/api/v1/auth/token", data={"username": name, "password": "very-secret-pw-42"}
        )
    assert r.status_code == 200
    token = r.json()["access_token"]
    assert "very-secret-pw-42" not in caplog.text
    assert token not in caplog.text
    with Session(engine) as s:
        rows = s.exec(select(AuditRow).where(AuditRow.action == "auth.login")).all()
        assert [r.actor_name for r in rows] == [name]


def test_error_bodies_have_detail_and_code(client):
    r = client.get("/api/v1/does-not-exist")
    assert r.status_code == 404
    assert set(r.json()) == {"detail", "code"}
    r = client.get("/api/v1/audit")
    assert r.status_code == 401
    assert set(r.json()) == {"detail", "code"}
