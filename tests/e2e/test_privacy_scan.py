"""Compliant cars leave no trace, on the car nor on the backend, with either rights path.

The fixture route is replayed against a real backend that holds the route's permits and paid
sessions, once with the car's cache answering (the snapshot's window follows the recording's
time: the offline path the demo shows) and once with every check asked online (the cache's
window at the backend's now, as an old backend gave it, so it covers no pass of the route).
Afterwards every row the drive added to any table of the backend, every file of the backend's
data folder and of the car's, and the log of both, are scanned for the plates of the route's
compliant cars: plain, with dashes, in any case. None may be found.
"""

from __future__ import annotations

import contextlib
import io
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from scancar.chalk import SqliteChalkStore
from scancar.cli.carlog import configure_car_logging, remove_handlers
from scancar.cli.replay import run_replay
from scancar.rights.http import HttpRightsFeedClient
from tests.e2e.car_server import hits, load_town_zones
from tests.e2e.server import serve
from tests.integration.pipeline.car_support import demo_route, options

pytestmark = [pytest.mark.slow, pytest.mark.model]


def _forms(plate: str) -> list[bytes]:
    """The plate plain and with dashes, each in upper and lower case."""
    from permits.dutch import format_dutch_plate

    forms = {plate}
    with contextlib.suppress(ValueError):
        forms.add(format_dutch_plate(plate))
    return sorted({f.encode() for form in forms for f in (form.upper(), form.lower())})


def _table_rows(engine: Any) -> dict[str, set[str]]:
    """Every row of every table, as text."""
    from api.tables import metadata

    rows: dict[str, set[str]] = {}
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            result = conn.execute(text(f'SELECT * FROM "{table.name}"'))  # noqa: S608 - our names
            rows[table.name] = {repr(tuple(r)) for r in result}
    return rows


def _seed_rights(engine: Any, base: str, provider: dict[str, str], route_dir: Path) -> None:
    """The route's permits (as the CSV import stores them) and paid sessions (as the provider
    reports them): the register the compliant cars are compliant by."""
    from api.db import session_scope
    from api.permits.service import import_permits
    from permits.csvio import decode_csv, read_permit_rows

    csv = decode_csv((route_dir / "permits.csv").read_bytes())
    with session_scope(engine) as session:
        import_permits(session, read_permit_rows(io.StringIO(csv, newline="")), "test")
    for item in json.loads((route_dir / "sessions.json").read_text(encoding="utf-8")):
        body = {k: v for k, v in item.items() if k != "provider"}
        r = httpx.post(f"{base}/api/v1/parking-sessions", json=body, headers=provider)
        assert r.status_code == 201, r.text


def _leaks(needles: dict[bytes, str], named: dict[str, bytes]) -> list[str]:
    found = []
    for name, data in named.items():
        lowered = data.lower()
        found.extend(f"{name}: {what}" for n, what in needles.items() if n.lower() in lowered)
    return found


@pytest.mark.parametrize("rights_path", ["cache", "online"])
def test_privacy_no_trace_of_compliant_cars_on_backend_or_car(
    settings, engine, accounts, tmp_path, monkeypatch, rights_path
):
    from api.main import create_app

    route = demo_route()
    load_town_zones(engine)
    app = create_app(settings, engine=engine)
    token = accounts.device("car-privacy")
    provider = accounts.headers("provider")
    if rights_path == "online":
        # the car's snapshot for the backend's now: it covers none of the route's passes
        plain_snapshot = HttpRightsFeedClient.snapshot

        def snapshot_at_backend_now(self, at=None):  # type: ignore[no-untyped-def]
            del at  # ignored, as a backend without ``at`` did
            return plain_snapshot(self, None)

        monkeypatch.setattr(HttpRightsFeedClient, "snapshot", snapshot_at_backend_now)
    data_dir, log_file = tmp_path / "car", tmp_path / "both.log"
    handlers = configure_car_logging(log_file)  # the car's and the backend's log lines
    try:
        with serve(app) as base:
            _seed_rights(engine, base, provider, route.folder)
            before = _table_rows(engine)
            # the rights from the backend only: its plate key and feed, or its online check
            report = run_replay(
                options(
                    route,
                    data_dir,
                    backend=base,
                    token=token,
                    rights_snapshot=None,
                    rights_key=None,
                )
            )
            got = hits(base, accounts.headers("backoffice"))
    finally:
        remove_handlers(handlers)
    after = _table_rows(engine)

    # the path each run took: the hits say where their rights answer came from, and the
    # backend's check log counts the online checks
    with engine.connect() as conn:
        sources = {r[0] for r in conn.execute(text("SELECT rights_cache_version FROM hits"))}
        online_checks = conn.execute(text("SELECT count(*) FROM rights_check_log")).scalar_one()
    assert got, "the route's violators became hits"
    assert report.checks > 20
    if rights_path == "cache":
        assert sources == {"cache"}
        assert online_checks == 0
    else:
        assert sources == {"online"}
        assert online_checks >= report.checks

    # chalk marks of compliant cars in a max-stay zone expire after their stay
    secret = (data_dir / "car.secret").read_bytes()
    store = SqliteChalkStore(data_dir / "chalk.sqlite3", secret)
    store.purge(datetime.fromisoformat(max(c.seen_at for c in route.cars)) + timedelta(hours=3))
    store.close()

    compliant = [c.plate for c in route.cars if not c.expected_hit]
    assert len(compliant) >= 10
    needles = {
        form: f"{plate} as {form.decode()!r}" for plate in compliant for form in _forms(plate)
    }
    named: dict[str, bytes] = {}
    for table, rows in after.items():
        added = rows - before.get(table, set())
        named[f"table {table} ({len(added)} new rows)"] = "\n".join(sorted(added)).encode()
    for path in sorted(p for p in settings.data_dir.rglob("*") if p.is_file()):
        named[f"backend file {path.relative_to(settings.data_dir)}"] = path.read_bytes()
    for path in sorted(p for p in data_dir.rglob("*") if p.is_file()):
        named[f"car file {path.relative_to(data_dir)}"] = path.read_bytes()
    named["log"] = log_file.read_bytes()
    assert log_file.stat().st_size > 0
    assert _leaks(needles, named) == []
    # and the scan finds a plate where one is: a violator's, in the new hit rows
    violator = got[0]["plate"]
    hit_rows = next(data for name, data in named.items() if name.startswith("table hits "))
    assert _leaks({violator.encode(): violator}, {"hits": hit_rows}) != []
