"""Server-side page sessions: logout, a saved cookie, disabling, role change, idle timeout."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from api.auth.db import UserRow, UserSessionRow
from api.auth.sessions import (
    end_user_sessions,
    find_session,
    purge_auth_state,
    set_user_active,
    set_user_role,
    start_session,
)
from api.db import session_scope, utcnow
from api.errors import Unprocessable
from api.ui.session import COOKIE


def _login(client, accounts, role: str = "boa") -> tuple[str, str]:
    """Log in on the page; the saved cookie and the user's name."""
    name = accounts.user(role)
    r = client.post(
        "/ui/login",
        data={"username": name, "password": "correct-horse-1", "next": "/ui/queue"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return r.cookies[COOKIE], name


def _page(client, cookie: str, path: str = "/ui/queue"):  # type: ignore[no-untyped-def]
    client.cookies.clear()
    client.cookies.set(COOKIE, cookie, path="/ui")
    return client.get(path, follow_redirects=False)


def _user_id(engine, name: str) -> int:
    with Session(engine) as s:
        return s.exec(select(UserRow.id).where(UserRow.username == name)).one()


def test_session_logout_ends_a_saved_cookie(client, accounts, engine):
    saved, _ = _login(client, accounts)
    page = _page(client, saved)
    assert page.status_code == 200
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    out = client.post("/ui/logout", data={"csrf": csrf}, follow_redirects=False)
    assert out.status_code == 303
    assert out.headers["location"] == "/ui/login"
    assert COOKIE in out.headers["set-cookie"]  # cleared in the browser too
    # the copy saved before logout no longer opens anything
    again = _page(client, saved)
    assert again.status_code == 303
    assert again.headers["location"].startswith("/ui/login")
    with Session(engine) as s:
        assert s.exec(select(UserSessionRow)).all() == []


def test_session_cookie_is_random_and_stored_only_hashed(client, accounts, engine):
    one, _ = _login(client, accounts)
    two, _ = _login(client, accounts)
    assert one != two
    assert len(one) >= 40
    with Session(engine) as s:
        rows = s.exec(select(UserSessionRow)).all()
    stored = {r.token_hash for r in rows}
    assert stored == {hashlib.sha256(c.encode()).hexdigest() for c in (one, two)}
    assert one not in str([r.model_dump() for r in rows])


def test_session_disabling_a_user_ends_their_sessions(client, accounts, engine):
    tablet, name = _login(client, accounts)
    phone = client.post(
        "/ui/login",
        data={"username": name, "password": "correct-horse-1"},
        follow_redirects=False,
    ).cookies[COOKIE]
    other, _ = _login(client, accounts)
    with session_scope(engine) as s:
        set_user_active(s, _user_id(engine, name), active=False)
    assert _page(client, tablet).status_code == 303
    assert _page(client, phone).status_code == 303
    assert _page(client, other).status_code == 200  # someone else's session lives on
    with session_scope(engine) as s:
        set_user_active(s, _user_id(engine, name), active=True)
    assert _page(client, tablet).status_code == 303  # enabling again opens nothing old


def test_session_role_change_ends_sessions(client, accounts, engine):
    cookie, name = _login(client, accounts, "backoffice")
    assert _page(client, cookie).status_code == 200
    with session_scope(engine) as s:
        set_user_role(s, _user_id(engine, name), "backoffice")  # no change: lives on
    assert _page(client, cookie).status_code == 200
    with session_scope(engine) as s:
        set_user_role(s, _user_id(engine, name), "boa")
    assert _page(client, cookie).status_code == 303
    with session_scope(engine) as s, pytest.raises(Unprocessable):
        set_user_role(s, _user_id(engine, name), "device")


def test_session_role_changed_behind_the_service_ends_too(client, accounts, engine):
    """Belt and braces: a role written straight into the table still ends the session."""
    cookie, name = _login(client, accounts, "boa")
    with session_scope(engine) as s:
        user = s.get(UserRow, _user_id(engine, name))
        user.role = "backoffice"
        s.add(user)
    assert _page(client, cookie).status_code == 303


def test_session_end_all_sessions_of_a_user(client, accounts, engine):
    a, name = _login(client, accounts)
    with session_scope(engine) as s:
        assert end_user_sessions(s, _user_id(engine, name)) == 1
    assert _page(client, a).status_code == 303


def test_session_idle_timeout_and_lifetime(engine, settings):
    with session_scope(engine) as s:
        from api.auth.service import create_user

        user = create_user(s, username="boa-idle", password="correct-horse-1", role="boa")
        t0 = utcnow()
        token = start_session(s, settings, user, now=t0).token
    idle = timedelta(minutes=settings.session_idle_minutes)
    with Session(engine) as s:
        # in use every few minutes: lives on past the idle timeout
        for minutes in range(0, settings.session_idle_minutes * 3, 10):
            assert find_session(s, settings, token, now=t0 + timedelta(minutes=minutes))
        last = t0 + timedelta(minutes=minutes)
        assert find_session(s, settings, token, now=last + idle - timedelta(minutes=2))
        # unused for longer than the idle timeout: ended, and the row is gone
        gone_at = last + idle * 2
        assert find_session(s, settings, token, now=gone_at) is None
        assert s.exec(select(UserSessionRow)).all() == []
    with session_scope(engine) as s:
        token = start_session(s, settings, user, now=t0).token
    lifetime = timedelta(minutes=settings.session_cookie_minutes)
    with Session(engine) as s:
        for minutes in range(0, settings.session_cookie_minutes, 20):  # always in use
            assert find_session(s, settings, token, now=t0 + timedelta(minutes=minutes))
        assert find_session(s, settings, token, now=t0 + lifetime) is None


def test_session_purge_removes_idle_sessions(engine, settings):
    from api.auth.service import create_user

    with session_scope(engine) as s:
        user = create_user(s, username="boa-purge", password="correct-horse-1", role="boa")
        t0 = utcnow()
        start_session(s, settings, user, now=t0)
    assert purge_auth_state(engine, settings, t0 + timedelta(minutes=1)) == 0
    idle = timedelta(minutes=settings.session_idle_minutes + 1)
    assert purge_auth_state(engine, settings, t0 + idle) == 1


def test_session_made_up_cookie_is_a_login_redirect(client):
    for value in ("x" * 43, "", "a" * 500, "eyJhbGciOiJIUzI1NiJ9.e30.x"):
        r = _page(client, value)
        assert r.status_code == 303
        assert r.headers["location"].startswith("/ui/login")
