"""Database URLs as operators write them (``api.dburl``)."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from api.dburl import (
    DatabaseUrlError,
    describe_database_error,
    display_url,
    normalise_database_url,
)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://app:pw@db:5432/scancar", "postgresql+psycopg://app:pw@db:5432/scancar"),
        ("postgresql://app@db/scancar", "postgresql+psycopg://app@db/scancar"),
        ("postgresql+psycopg://app@db/scancar", "postgresql+psycopg://app@db/scancar"),
        ("PostgreSQL://app@db/scancar", "postgresql+psycopg://app@db/scancar"),
        ("  sqlite:///./data/scancar.db ", "sqlite:///./data/scancar.db"),
        ("sqlite:////var/lib/scancar/db.sqlite", "sqlite:////var/lib/scancar/db.sqlite"),
        ("sqlite+pysqlite:///x.db", "sqlite:///x.db"),
        ("postgres://app:p%40ss@db/scancar", "postgresql+psycopg://app:p%40ss@db/scancar"),
    ],
)
def test_dburl_normalise_accepts_what_libpq_tools_accept(given, expected):
    assert normalise_database_url(given) == expected


@pytest.mark.parametrize(
    ("given", "needle"),
    [
        ("", "is empty"),
        ("scancar.db", "'scancar.db' is not a database URL; use postgresql://"),
        ("mysql://app@db/scancar", "MySQL is not supported"),
        ("oracle://app@db/scancar", "Oracle is not supported"),
        ("redis://db:6379/0", "unknown database scheme 'redis'"),
        ("postgresql+psycopg2://app@db/x", "driver 'psycopg2' is not installed"),
        ("postgresql+asyncpg://app@db/x", "driver 'asyncpg' is not installed"),
        ("sqlite+aiosqlite:///x.db", "the SQLite driver 'aiosqlite' is not installed"),
        ("postgresql://app@db:port/x", "the port is not a number"),
        ("postgresql://app@db:5432", "names no database"),
        ("sqlite://data/x.db", "names a host"),
    ],
)
def test_dburl_normalise_refuses_with_one_line(given, needle):
    with pytest.raises(DatabaseUrlError) as err:
        normalise_database_url(given)
    message = str(err.value)
    assert needle in message
    assert "\n" not in message
    assert "sqlalche.me" not in message


def test_dburl_messages_never_show_the_password():
    with pytest.raises(DatabaseUrlError) as err:
        normalise_database_url("postgresql://app:hunter2-secret@db:nope/x")
    assert "hunter2" not in str(err.value)
    assert "app:***@db" in str(err.value)
    assert "hunter2" not in display_url("postgresql+psycopg://app:hunter2@db/x")
    exc = OperationalError("SELECT 1", {}, Exception("connection refused\nDETAIL: more"))
    line = describe_database_error(exc, "postgresql+psycopg://app:hunter2@db/x")
    assert line == (
        "cannot use the database postgresql+psycopg://app:***@db/x: connection refused "
        "(is PostgreSQL running and listening on that host and port?)"
    )
