"""The database commands and data commands meet a user's mistakes with one line, no
traceback: bad URLs, an unreachable server, an unmigrated database, a data folder that is a
file, a port in use."""

from __future__ import annotations

import socket
import sqlite3

import pytest

from tests.integration.cli.support import one_line_error, run_cli


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("mysql://app@db/scancar", "SCANCAR_DATABASE_URL: MySQL is not supported"),
        (
            "postgresql+psycopg2://app@db/x",
            "SCANCAR_DATABASE_URL: the PostgreSQL driver 'psycopg2'",
        ),
        ("scancar.db", "SCANCAR_DATABASE_URL: 'scancar.db' is not a database URL"),
        (
            "postgresql://app:s3cret@db:port/x",
            "SCANCAR_DATABASE_URL: 'postgresql+psycopg://app:***@",
        ),
    ],
)
def test_cli_bad_database_url_is_one_line_exit_2(tmp_path, url, needle):
    result = run_cli("admin", "create-device", "car-1", cwd=tmp_path, database_url=url)
    message = one_line_error(result, 2)
    assert message.startswith(needle)
    assert "s3cret" not in result.stderr


def test_cli_unreachable_postgres_names_the_server_not_a_traceback(tmp_path):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"postgres://app:s3cret@127.0.0.1:{port}/scancar"
    for args in (("db", "upgrade"), ("admin", "create-device", "car-1"), ("permits", "export")):
        message = one_line_error(run_cli(*args, cwd=tmp_path, database_url=url), 1)
        assert message.startswith(
            f"cannot use the database postgresql+psycopg://app:***@127.0.0.1:{port}/scancar"
        )
        assert "Connection refused" in message
        assert "sqlalche.me" not in message


@pytest.mark.postgres
def test_cli_accepts_postgres_scheme(tmp_path, pg_database):
    url = pg_database.replace("postgresql+psycopg://", "postgres://")
    result = run_cli("db", "current", cwd=tmp_path, database_url=url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith(": up to date")


def test_cli_data_commands_refuse_an_unmigrated_database(tmp_path):
    db = f"sqlite:///{tmp_path / 'old.db'}"
    assert run_cli("db", "upgrade", "0001", cwd=tmp_path, database_url=db).returncode == 0
    for args in (
        ("admin", "create-device", "car-1"),
        ("admin", "tick"),
        ("admin", "purge", "--dry-run"),
        ("permits", "export"),
        ("zones", "versions"),
    ):
        message = one_line_error(run_cli(*args, cwd=tmp_path, database_url=db), 1)
        assert message.startswith("database not migrated: run scancar db upgrade"), args
    assert run_cli("db", "current", cwd=tmp_path, database_url=db).stdout.strip() == (
        "database at 0001, code at " + _head(tmp_path) + ": run scancar db upgrade"
    )
    upgraded = run_cli("db", "upgrade", cwd=tmp_path, database_url=db)
    assert upgraded.stdout.strip() == f"the database is now at {_head(tmp_path)} (was 0001)"
    token = run_cli("admin", "create-device", "car-1", cwd=tmp_path, database_url=db)
    assert token.returncode == 0
    assert token.stdout.startswith("scd_")


def _head(tmp_path) -> str:
    fresh = f"sqlite:///{tmp_path / 'head.db'}"
    out = run_cli("db", "current", cwd=tmp_path, database_url=fresh).stdout
    return out.split("code at ")[1].split(":")[0]


def test_cli_empty_database_is_migrated_by_a_data_command(tmp_path):
    result = run_cli("admin", "create-device", "car-1", cwd=tmp_path)  # default ./data/scancar.db
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("scd_")
    assert "empty database: applied the migrations" in result.stderr
    assert (tmp_path / "data" / "scancar.db").exists()


def test_cli_data_folder_that_is_a_file_is_one_line(tmp_path):
    (tmp_path / "data").write_text("not a folder")
    message = one_line_error(run_cli("admin", "tick", cwd=tmp_path, data_dir="data"), 2)
    assert message == "SCANCAR_DATA_DIR data is a file, not a folder"
    sqlite_in_file = one_line_error(
        run_cli("admin", "create-device", "c", cwd=tmp_path, database_url="sqlite:///data/x.db"), 1
    )
    assert sqlite_in_file == (
        "cannot make the folder data for the SQLite database: a file of that name exists"
    )


def test_cli_serve_port_in_use_is_said_before_anything_else(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cli("serve", "--port", str(port), cwd=tmp_path)
    message = one_line_error(result, 1)
    assert message.startswith(f"port {port} on 127.0.0.1 is already in use")
    assert not (tmp_path / "data").exists()  # nothing was done first


def test_cli_db_check_lists_differences_in_words(tmp_path):
    path = tmp_path / "drift.db"
    db = f"sqlite:///{path}"
    assert run_cli("db", "upgrade", cwd=tmp_path, database_url=db).returncode == 0
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE stray_notes (id INTEGER PRIMARY KEY)")
        conn.execute("ALTER TABLE devices ADD COLUMN colour TEXT")
    result = run_cli("db", "check", cwd=tmp_path, database_url=db)
    assert result.returncode == 1
    assert sorted(result.stdout.splitlines()) == [
        "column devices.colour is not in the models",
        "table stray_notes is in the database but not in the models",
    ]
    assert result.stderr.strip() == "2 difference(s) between the models and the database"
    clean = run_cli("db", "check", cwd=tmp_path, database_url=f"sqlite:///{tmp_path / 'c.db'}")
    assert clean.stdout.strip() == "ok: models and migrations agree"


def test_cli_admin_tick_prints_words(tmp_path):
    result = run_cli("admin", "tick", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "grace: no hit past its grace period",
        "permits: no permit due to expire",
        "purge: nothing to remove",
    ]
