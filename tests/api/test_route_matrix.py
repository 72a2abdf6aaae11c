"""Every route declares who may call it; walk the whole route table with every role.

A new route without an ``allow(...)`` rule or the ``PUBLIC`` marker fails this test.
"""

from __future__ import annotations

import re

import pytest

from api.auth.principal import Role
from api.deps import RoleGuard, public
from api.routetable import iter_api_routes
from api.ui.session import COOKIE, PageGuard

ALL_ROLES = [r.value for r in Role]
DOC_ROUTES = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}


def _rule(route) -> tuple[str, ...] | None:
    """The roles a route allows, ('*',) for public, None when it declares nothing."""
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        if isinstance(dep.call, (RoleGuard, PageGuard)):
            return tuple(r.value for r in dep.call.roles)
        if dep.call is public:
            return ("*",)
        stack.extend(dep.dependencies)
    return None


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_route_matrix_every_route_declares_a_rule(app):
    entries = list(iter_api_routes(app))
    assert len(entries) >= 8
    missing = [
        f"{sorted(e.methods)} {e.path}"
        for e in entries
        if e.path not in DOC_ROUTES and _rule(e.route) is None
    ]
    assert missing == []


def test_route_matrix_roles(app, client, accounts):
    entries = [
        e
        for e in iter_api_routes(app)
        if e.path not in DOC_ROUTES and not e.path.startswith(("/ui", "/mijn"))
    ]
    assert len(entries) >= 8
    problems = []
    for entry in entries:
        rule = _rule(entry.route)
        if rule == ("*",):
            continue
        for method in entry.methods - {"HEAD", "OPTIONS"}:
            url = _concrete(entry.path)
            anon = client.request(method, url)
            if anon.status_code != 401:
                problems.append(f"{method} {entry.path} anonymous -> {anon.status_code}")
            bad = client.request(method, url, headers={"Authorization": "Bearer not-a-token"})
            if bad.status_code != 401:
                problems.append(f"{method} {entry.path} bad token -> {bad.status_code}")
            for role in ALL_ROLES:
                r = client.request(method, url, headers=accounts.headers(role))
                allowed = role in (rule or ())
                if allowed and r.status_code in (401, 403):
                    problems.append(f"{method} {entry.path} {role} allowed but {r.status_code}")
                if not allowed and r.status_code != 403:
                    problems.append(f"{method} {entry.path} {role} not allowed but {r.status_code}")
    assert problems == []


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_health_routes_are_public(client, path):
    r = client.get(path)
    assert r.status_code == 200
    assert r.json()["status"] == "ok"


def _page_cookie(engine, role: str) -> str:
    """A session cookie for a user of ``role`` (made directly: some roles may not log in)."""
    from api.auth.service import create_user
    from api.auth.sessions import start_session
    from api.db import session_scope
    from tests.conftest import TEST_SECRET

    with session_scope(engine) as s:
        user = create_user(s, username=f"page-{role}", password="correct-horse-1", role=role)
        s.flush()
        from api.settings import BackendSettings

        new = start_session(s, BackendSettings(env="test", secret_key=TEST_SECRET), user)
    return new.token


def test_route_matrix_pages(app, client, engine):
    """Pages: anonymous -> login redirect; wrong role -> 403; POST without CSRF -> 403."""
    entries = [e for e in iter_api_routes(app) if e.path.startswith("/ui")]
    assert len(entries) >= 10
    cookies = {
        role: _page_cookie(engine, role)
        for role in ("admin", "backoffice", "boa", "coordinator", "provider")
    }
    problems = []
    for entry in entries:
        rule = _rule(entry.route)
        if rule == ("*",):
            continue
        url = _concrete(entry.path)
        for method in entry.methods - {"HEAD", "OPTIONS"}:
            client.cookies.clear()
            anon = client.request(method, url, follow_redirects=False)
            if anon.status_code != 303 or "/ui/login" not in anon.headers.get("location", ""):
                problems.append(f"{method} {entry.path} anonymous -> {anon.status_code}")
            for role, cookie in cookies.items():
                client.cookies.clear()
                client.cookies.set(COOKIE, cookie, path="/ui")
                r = client.request(method, url, follow_redirects=False)
                allowed = role in (rule or ())
                if not allowed and r.status_code != 403:
                    problems.append(f"{method} {entry.path} {role} not allowed but {r.status_code}")
                if allowed and method == "POST" and r.status_code != 403:
                    problems.append(f"{method} {entry.path} {role} without CSRF -> {r.status_code}")
                if allowed and method == "GET" and r.status_code in (303, 401, 403):
                    problems.append(f"{method} {entry.path} {role} allowed but {r.status_code}")
    client.cookies.clear()
    assert problems == []
