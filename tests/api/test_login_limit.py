"""The login limit: by user and address, by address, a gentle slow-down per user; atomic.

The HTTP tests run a real server on loopback and log in from several source addresses
(127.0.0.2, 127.0.0.3, ...): the limit must lock the guessing address, never the user.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlmodel import Session, select

from api.auth.db import LoginThrottleRow
from api.auth.service import begin_login, create_user, finish_login, login
from api.auth.throttle import LoginLimits
from api.db import session_scope
from api.errors import TooManyRequests, Unauthorized
from tests.e2e.server import serve

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
RIGHT, WRONG = "correct-horse-1", "wrong-horse-1"


def _user(engine, name: str = "boa1") -> str:
    with session_scope(engine) as s:
        create_user(s, username=name, password=RIGHT, role="boa")
    return name


def _fail(s, settings, name: str, client: str, at: datetime) -> None:
    with pytest.raises(Unauthorized):
        login(s, settings, username=name, password=WRONG, client=client, now=at)


def test_login_limit_locks_the_pair_not_the_user(engine, settings):
    name = _user(engine)
    with Session(engine) as s:
        for i in range(settings.login_max_failures):
            _fail(s, settings, name, "10.0.0.1", T0 + timedelta(seconds=i))
        later = T0 + timedelta(minutes=1)
        with pytest.raises(TooManyRequests) as locked:
            login(s, settings, username=name, password=RIGHT, client="10.0.0.1", now=later)
        assert locked.value.code == "login_locked"
        # the lock lasts login_lockout_minutes from the last failure
        wait = int(locked.value.headers["Retry-After"])
        assert 0 < wait <= settings.login_lockout_minutes * 60
        # the same user from another address is not locked out
        ok = login(s, settings, username=name, password=RIGHT, client="10.0.0.2", now=later)
        assert ok.user.username == name
        # a name in another case is the same user for the counter
        with pytest.raises(TooManyRequests):
            login(s, settings, username=name.upper(), password=RIGHT, client="10.0.0.1", now=later)
        after = T0 + timedelta(minutes=settings.login_lockout_minutes, seconds=10)
        assert login(s, settings, username=name, password=RIGHT, client="10.0.0.1", now=after)


def test_login_limit_success_gives_the_attempt_back(engine, settings):
    name = _user(engine)
    with Session(engine) as s:
        for round_ in range(3):  # 4 failures then a success, three times: never locked
            for i in range(settings.login_max_failures - 1):
                _fail(s, settings, name, "10.0.0.1", T0 + timedelta(minutes=round_, seconds=i))
            at = T0 + timedelta(minutes=round_, seconds=30)
            assert login(s, settings, username=name, password=RIGHT, client="10.0.0.1", now=at)


def test_login_limit_locks_a_spraying_address(engine, settings):
    settings.login_client_max_failures = 8
    _user(engine, "real-boa")
    with Session(engine) as s:
        for i in range(8):  # eight guessed names, one guess each
            _fail(s, settings, f"guess{i}", "10.6.6.6", T0 + timedelta(seconds=i))
        at = T0 + timedelta(seconds=30)
        with pytest.raises(TooManyRequests):
            login(s, settings, username="real-boa", password=RIGHT, client="10.6.6.6", now=at)
        # the address is locked, the user is not
        assert login(s, settings, username="real-boa", password=RIGHT, client="10.0.0.9", now=at)


def test_login_limit_slows_a_user_down_but_never_locks(engine, settings):
    limits = LoginLimits.from_settings(settings)
    name = _user(engine)
    with Session(engine) as s:
        delays = []
        for i in range(settings.login_user_slowdown_after + 20):  # each from a new address
            at = T0 + timedelta(seconds=i)
            admission = begin_login(s, settings, username=name, client=f"10.1.{i}.1", now=at)
            delays.append(admission.delay_s)
            with pytest.raises(Unauthorized):
                finish_login(s, settings, admission, username=name, password=WRONG, now=at)
        at = T0 + timedelta(minutes=1)
        admission = begin_login(s, settings, username=name, client="10.2.0.1", now=at)
        assert finish_login(s, settings, admission, username=name, password=RIGHT, now=at)
    after = settings.login_user_slowdown_after
    assert delays[: after - 1] == [0.0] * (after - 1)
    assert 0 < delays[after] < delays[after + 2]
    assert max(delays) == limits.user_max_delay_s
    assert admission.delay_s == limits.user_max_delay_s  # slowed, not refused


def test_login_limit_counters_are_purged_when_spent(engine, settings):
    from api.auth.sessions import purge_auth_state

    name = _user(engine)
    with Session(engine) as s:
        _fail(s, settings, name, "10.0.0.1", T0)
    with Session(engine) as s:
        assert len(s.exec(select(LoginThrottleRow)).all()) == 3
    assert purge_auth_state(engine, settings, T0 + timedelta(minutes=1)) == 0
    late = T0 + timedelta(minutes=settings.login_window_minutes + 1)
    assert purge_auth_state(engine, settings, late) == 3


# --------------------------------------------------------------------------- over HTTP
def _client(base: str, source: str) -> httpx.Client:
    return httpx.Client(
        base_url=base, transport=httpx.HTTPTransport(local_address=source), timeout=30
    )


def _post(c: httpx.Client, name: str, password: str, **headers: str) -> httpx.Response:
    return c.post(
        "/api/v1/auth/token", data={"username": name, "password": password}, headers=headers
    )


def test_login_limit_from_two_loopback_addresses(app, engine, settings):
    name = _user(engine)
    with (
        serve(app) as base,
        _client(base, "127.0.0.2") as guesser,
        _client(base, "127.0.0.3") as owner,
    ):
        codes = [
            _post(guesser, name, WRONG).status_code for _ in range(settings.login_max_failures)
        ]
        assert codes == [401] * settings.login_max_failures
        locked = _post(guesser, name, RIGHT)
        assert locked.status_code == 429
        assert locked.json()["code"] == "login_locked"
        assert int(locked.headers["retry-after"]) > 0
        # the BOA on another address logs in
        assert _post(owner, name, RIGHT).status_code == 200


def test_login_limit_holds_for_parallel_attempts(app, engine, settings):
    name = _user(engine)
    with serve(app) as base, _client(base, "127.0.0.4") as c, ThreadPoolExecutor(20) as pool:
        codes = list(pool.map(lambda _: _post(c, name, WRONG).status_code, range(20)))
    # at most the limit was tried (401); the rest refused before their password was checked
    assert codes.count(401) == settings.login_max_failures
    assert codes.count(429) == 20 - settings.login_max_failures
    with Session(engine) as s:
        pair = s.exec(select(LoginThrottleRow).where(LoginThrottleRow.bucket == "pair")).one()
        assert pair.attempts == settings.login_max_failures
        assert pair.locked_until is not None


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_login_limit_ignores_forwarded_for_from_untrusted_peers(app, engine, settings):
    """Without trusted proxies, a made-up X-Forwarded-For per attempt changes nothing."""
    name = _user(engine)
    with serve(app) as base, _client(base, "127.0.0.5") as c:
        codes = [
            _post(c, name, WRONG, **{"X-Forwarded-For": f"203.0.113.{i}"}).status_code
            for i in range(settings.login_max_failures + 1)
        ]
    assert codes[-1] == 429


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_login_limit_uses_forwarded_for_from_a_trusted_proxy(engine, settings):
    from api.main import create_app

    settings.trusted_proxies = ["127.0.0.6"]
    name = _user(engine)
    app = create_app(settings, engine=engine)
    with serve(app) as base, _client(base, "127.0.0.6") as proxy:
        for _ in range(settings.login_max_failures):
            assert (
                _post(proxy, name, WRONG, **{"X-Forwarded-For": "198.51.100.7"}).status_code == 401
            )
        assert _post(proxy, name, RIGHT, **{"X-Forwarded-For": "198.51.100.7"}).status_code == 429
        # another client behind the same proxy is a different address
        assert _post(proxy, name, RIGHT, **{"X-Forwarded-For": "198.51.100.8"}).status_code == 200
        # a forged hop in front of the real client does not help the guesser
        forged = _post(proxy, name, RIGHT, **{"X-Forwarded-For": "10.9.9.9, 198.51.100.7"})
        assert forged.status_code == 429
