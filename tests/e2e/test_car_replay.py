"""The car against the real backend on loopback: the fixture route's violators become exactly
one hit each, compliant cars none, also when the backend is down at the start; afterwards
nothing about a compliant car is left in the car's data dir or its logs."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import sqlite3
import threading
import time
from collections import Counter
from datetime import timedelta

from scancar.chalk import SqliteChalkStore
from scancar.cli.carlog import configure_car_logging, remove_handlers
from scancar.cli.replay import run_replay
from tests.e2e.car_server import hits, load_town_zones, serve_on
from tests.e2e.server import free_port, serve
from tests.integration.pipeline.car_support import demo_route, options


def _app(settings, engine):
    from api.main import create_app

    load_town_zones(engine)
    return create_app(settings, engine=engine)


def _forms(plate: str) -> list[str]:
    from permits.dutch import format_dutch_plate

    forms = {plate, plate.lower()}
    with contextlib.suppress(ValueError):
        forms.add(format_dutch_plate(plate))
    return sorted(f for f in forms if f)


def _privacy_leaks(data_dir, log_file, plates, secret: bytes) -> list[str]:
    needles: dict[bytes, str] = {}
    for plate in plates:
        for form in _forms(plate):
            needles[form.encode()] = f"{plate}: text {form!r}"
        for digest in (
            hashlib.sha256(plate.encode()).hexdigest(),
            hmac.new(secret, plate.encode(), hashlib.sha256).hexdigest(),
        ):
            needles[digest.encode()] = f"{plate}: hash"
            needles[bytes.fromhex(digest)] = f"{plate}: raw hash"
    leaks = []
    for path in [*sorted(p for p in data_dir.rglob("*") if p.is_file()), log_file]:
        data = path.read_bytes()
        leaks.extend(f"{path.name}: {what}" for needle, what in needles.items() if needle in data)
    return leaks


def test_car_replay_against_backend_one_hit_per_violator_and_no_trace_of_compliant_cars(
    settings, engine, accounts, tmp_path
):
    route = demo_route()
    app = _app(settings, engine)
    token = accounts.device("car-e2e")
    data_dir = tmp_path / "car"
    log_file = tmp_path / "car.log"
    handlers = configure_car_logging(log_file)
    try:
        with serve(app) as base:
            report = run_replay(options(route, data_dir, backend=base, token=token))
            got = hits(base, accounts.headers("backoffice"))
    finally:
        remove_handlers(handlers)
    plates = Counter(h["plate"] for h in got)
    assert plates == Counter(route.expected_hits)
    assert {h["status"] for h in got} == {"pending_grace"}
    assert (report.outbox_sent, report.outbox_pending, report.outbox_dead) == (len(plates), 0, 0)
    assert not list((data_dir / "outbox" / "evidence").iterdir())  # acknowledged: deleted

    # privacy: nothing about compliant cars, once the chalk marks have expired
    secret = (data_dir / "car.secret").read_bytes()
    store = SqliteChalkStore(data_dir / "chalk.sqlite3", secret)
    last_seen = max(c.seen_at for c in route.cars)
    from datetime import datetime

    store.purge(datetime.fromisoformat(last_seen) + timedelta(hours=3))
    store.close()
    compliant = [c.plate for c in route.cars if not c.expected_hit]
    assert len(compliant) >= 10
    leaks = _privacy_leaks(data_dir, log_file, compliant, secret)
    # the rights cache holds the backend's keyed hashes (another key) of plates with a right:
    # that is feed data, not sightings; checked above with the car's own secret and sha256
    assert leaks == []
    assert log_file.stat().st_size > 0


def test_car_backend_down_at_start_then_up_every_suspect_arrives_once(
    settings, engine, accounts, tmp_path
):
    route = demo_route()
    app = _app(settings, engine)
    token = accounts.device("car-e2e-2")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    data_dir = tmp_path / "car"
    result = {}

    def replay() -> None:
        result["report"] = run_replay(
            options(route, data_dir, backend=base, token=token, drain_timeout_s=60.0)
        )

    worker = threading.Thread(target=replay)
    worker.start()
    # wait until the car has stored suspects while the backend is still down (the outbox's
    # file only appears with its table in it)
    outbox_db = data_dir / "outbox" / "outbox.sqlite3"
    deadline = time.monotonic() + 240
    stored = 0
    while stored < 3 and worker.is_alive() and time.monotonic() < deadline:
        if outbox_db.exists():
            with contextlib.closing(sqlite3.connect(outbox_db)) as con:
                stored = con.execute("SELECT count(*) FROM outbox").fetchone()[0]
        time.sleep(0.1)
    assert stored >= 3, f"the car stored {stored} suspects while the backend was down"
    with serve_on(app, port):
        worker.join(timeout=300)
        got = hits(base, accounts.headers("backoffice"))
    report = result["report"]
    assert report.outbox_sent == len(route.expected_hits)
    assert Counter(h["plate"] for h in got) == Counter(route.expected_hits)
    assert sorted(h["observation_id"] for h in got) == sorted(report.suspect_ids)
