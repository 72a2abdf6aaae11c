"""No plate and no position in any log line when the database fails, also not in tracebacks.

The database is made to refuse every row with the test's plate (a CHECK constraint on
PostgreSQL, whose error carries "Failing row contains (...)"; a trigger on SQLite), then the
plate goes through ingest, the rights check and the grace step under a real server whose log
is written by the product's own formatters (JSON lines and text).
"""

from __future__ import annotations

import logging
import logging.config
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from api.logsetup import logging_config
from tests.e2e.server import serve
from tests.factories import multipart, observation

PLATE = "XZ987K"
LON, LAT = 4.35917, 52.01173
TABLES = ("hits", "rights_check_log", "hit_rights_checks")


def _refuse_plate(engine, table: str) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    if engine.dialect.name == "postgresql":
        return (
            f"ALTER TABLE {table} ADD CONSTRAINT privacy_probe "
            f"CHECK (plate <> '{PLATE}') NOT VALID",
            f"ALTER TABLE {table} DROP CONSTRAINT privacy_probe",
        )
    return (
        f"CREATE TRIGGER privacy_probe_{table} BEFORE INSERT ON {table} "
        f"WHEN NEW.plate = '{PLATE}' BEGIN SELECT RAISE(ABORT, 'refused'); END",
        f"DROP TRIGGER privacy_probe_{table}",
    )


@pytest.fixture
def product_log(tmp_path) -> Iterator[list[Path]]:  # type: ignore[no-untyped-def]
    """The product's logging set-up (``logging_config``: levels, formatters), its handler
    writing JSON lines to one file, plus a text-format handler writing another."""
    paths = [tmp_path / "log.jsonl", tmp_path / "log.txt"]
    config = logging_config(json_lines=True, level=logging.DEBUG)
    config["formatters"]["text"] = {"()": "api.logsetup.TextFormatter"}
    config["handlers"] = {
        "stderr": {"class": "logging.FileHandler", "filename": str(paths[0]), "formatter": "main"},
        "text": {"class": "logging.FileHandler", "filename": str(paths[1]), "formatter": "text"},
    }
    config["root"]["handlers"] = ["stderr", "text"]
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    access = logging.getLogger("uvicorn.access")
    access_level = access.level
    logging.config.dictConfig(config)
    try:
        yield paths
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
            handler.close()
        root.setLevel(saved[0])
        for handler in saved[1]:
            root.addHandler(handler)
        access.setLevel(access_level)


def _traces(text_: str) -> list[str]:
    """Lines that show the plate in any spelling, or the position."""
    found = []
    for line in text_.splitlines():
        squashed = line.upper().replace("-", "").replace(" ", "")
        if PLATE in squashed or str(LON) in line or str(LAT) in line:
            found.append(line)
    return found


def test_no_plate_or_position_in_logs_when_the_database_fails(
    app, client, accounts, engine, product_log
):
    from api.review import service
    from tests.api.review_support import FakeRights, FakeZoneRules

    device = accounts.headers("device")
    boa = accounts.headers("boa")
    # a hit waiting for its grace step, stored before the database starts refusing
    meta, parts = observation(plate=PLATE, lon=LON, lat=LAT)
    assert (
        client.post(
            "/api/v1/observations", files=multipart(meta, parts), headers=device
        ).status_code
        == 201
    )
    add_undo = [_refuse_plate(engine, t) for t in TABLES]
    for add, _ in add_undo:
        with engine.begin() as conn:
            conn.execute(text(add))
    try:
        with serve(app, log_config=None, log_level="debug") as base:
            meta, parts = observation(plate=PLATE, lon=LON, lat=LAT)
            r = httpx.post(
                f"{base}/api/v1/observations", files=multipart(meta, parts), headers=device
            )
            assert r.status_code == 500, r.text
            assert r.json()["code"] == "database_error"
            check = httpx.get(
                f"{base}/api/v1/rights/check",
                params={"plate": "xz-987-k", "lon": LON, "lat": LAT},
                headers=boa,
            )
            assert check.status_code == 500, check.text
        report = service.run_grace_step(
            engine,
            app.state.backend.evidence_store,
            FakeRights(),
            FakeZoneRules(),
            app.state.backend.settings,
            now=datetime.fromisoformat(meta["captured_at"]) + timedelta(hours=1),
        )
        assert report.checked == 0  # it failed, and stays pending
    finally:
        for _, drop in add_undo:
            with engine.begin() as conn:
                conn.execute(text(drop))
    logged = [p.read_text() for p in product_log]
    for content in logged:
        assert "Traceback" in content  # the failures were logged, with their tracebacks
        assert "database error" in content
        assert "grace step failed" in content
        assert _traces(content) == []
