"""Shared test fixtures: both databases, the app, users and tokens.

Database tests run once on SQLite and once on PostgreSQL (127.0.0.1:5432). Outside CI an
unreachable PostgreSQL skips its half; in CI (``CI`` set) it is a failure.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

REPO = Path(__file__).resolve().parents[1]
SHARED = (REPO / ".." / "shared").resolve()
MODEL_DIR = SHARED / "models" / "cct-xs-v2-global-model"
PG_ADMIN_URL = os.environ.get(
    "SCANCAR_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
IN_CI = bool(os.environ.get("CI"))
TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing() -> Iterator[None]:
    """Argon2 with minimal cost in tests (hashes carry their parameters; verify is unchanged)."""
    from argon2 import PasswordHasher

    from api.auth import security

    original = security._hasher
    security._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    security._hasher = original


def need_shared(path: Path) -> Path:
    """Skip (outside CI) or fail (in CI) when a file from ../shared is absent."""
    if not path.exists():
        if IN_CI:
            pytest.fail(f"CI needs {path}")
        pytest.skip(f"{path} not present")
    return path


# --------------------------------------------------------------------------- databases
@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from api import migrate
    from api.db import make_engine

    path = tmp_path_factory.mktemp("dbtemplate") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A throw-away PostgreSQL database for this test session, migrated to head."""
    import psycopg

    from api import migrate
    from api.db import make_engine

    name = f"scancar_test_{uuid.uuid4().hex[:10]}"
    plain = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    try:
        with psycopg.connect(plain, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        if IN_CI:
            pytest.fail(f"PostgreSQL at {plain} is unreachable in CI: {exc}")
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    yield url
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _truncate_all(engine: Engine) -> None:
    from api.tables import metadata

    names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "scancar.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("pg_database")
    from api.db import make_engine

    engine = make_engine(url)
    _truncate_all(engine)
    engine.dispose()
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    from api.db import make_engine

    eng = make_engine(db_url)
    yield eng
    eng.dispose()


# --------------------------------------------------------------------------- the app
def make_test_settings(database_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    """The backend's settings in tests: the database, data under ``tmp_path``, no jobs."""
    from api.settings import BackendSettings

    return BackendSettings(
        env="test",
        database_url=database_url,
        data_dir=tmp_path / "data",
        secret_key=TEST_SECRET,
        run_background_jobs=False,
        log_json=True,
    )


@pytest.fixture
def settings(db_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    return make_test_settings(db_url, tmp_path)


@pytest.fixture
def app(settings, engine):  # type: ignore[no-untyped-def]
    from api.main import create_app

    return create_app(settings, engine=engine)


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    with TestClient(app) as c:
        yield c


class Accounts:
    """Creates users and devices directly in the database and logs them in over HTTP."""

    def __init__(self, engine: Engine, client) -> None:  # type: ignore[no-untyped-def]
        self.engine = engine
        self.client = client
        self._tokens: dict[str, str] = {}

    def user(self, role: str, name: str | None = None, password: str = "correct-horse-1") -> str:
        from api.auth.service import create_user
        from api.db import session_scope

        name = name or f"{role}-{uuid.uuid4().hex[:6]}"
        with session_scope(self.engine) as session:
            create_user(session, username=name, password=password, role=role)
        return name

    def login(self, name: str, password: str = "correct-horse-1") -> str:
        r = self.client.post("/api/v1/auth/token", data={"username": name, "password": password})
        assert r.status_code == 200, r.text
        return str(r.json()["access_token"])

    def device(self, name: str | None = None) -> str:
        from api.auth.service import create_device
        from api.db import session_scope

        with session_scope(self.engine) as session:
            _, token = create_device(session, name=name or f"car-{uuid.uuid4().hex[:6]}")
        return token

    def headers(self, role: str) -> dict[str, str]:
        """Authorization headers for a (cached) principal of ``role``."""
        if role not in self._tokens:
            if role == "device":
                self._tokens[role] = self.device()
            else:
                self._tokens[role] = self.login(self.user(role))
        return {"Authorization": f"Bearer {self._tokens[role]}"}


@pytest.fixture
def accounts(engine, client) -> Accounts:  # type: ignore[no-untyped-def]
    return Accounts(engine, client)
