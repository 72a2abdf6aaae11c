"""The car's plate key lives in memory only: fetched with the device token over real HTTP,
rotated by the backend with a new snapshot, refused to a revoked device; after a route the
car's folder tells an attacker who enumerates the route's plates nothing."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import hmac
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from api.rights.feed import FeedKeys
from permits.feed import PlateKeyer
from permits.plates import lookalike_variants
from scancar.car.backend import BackendLink, BackendRefusalError
from scancar.car.rights import CarRights, RightsKeeper, RightsState
from scancar.chalk import SqliteChalkStore
from scancar.cli.replay import run_replay
from scancar.rights.http import HttpOnlineRightsCheck, HttpRightsFeedClient
from scancar.rights.ports import AnswerSource, RightsQuery
from tests.e2e.car_server import load_town_zones
from tests.e2e.server import serve
from tests.integration.pipeline.car_support import demo_route, options


def _permit(plate: str) -> dict:
    return {
        "type": "resident",
        "holder": "H-1",
        "plates": [plate],
        "area_codes": ["9999_NOORD"],
        "valid_from": (datetime.now(UTC) - timedelta(days=1)).isoformat(),
        "valid_to": None,
    }


def _rights(tmp_path, http, base, token) -> tuple[CarRights, RightsKeeper]:
    link = BackendLink(http, base, token, "test")
    rights = CarRights(
        tmp_path,
        max_age=timedelta(minutes=60),
        clock=lambda: datetime.now(UTC),
        online=HttpOnlineRightsCheck(http, base, token),
        feed=HttpRightsFeedClient(http, base, token),
    )
    return rights, RightsKeeper(rights, link, interval_s=1.0, clock=lambda: datetime.now(UTC))


def _query(plate: str) -> RightsQuery:
    return RightsQuery(plate, "9999_NOORD", datetime.now(UTC), lon=4.358, lat=52.016)


def test_car_plate_key_rotates_with_new_snapshot_and_revoked_car_is_refused(
    app, accounts, engine, tmp_path
):
    from api.auth.service import revoke_device
    from api.db import session_scope

    keys = FeedKeys(bytes(range(32)), timedelta(seconds=4))
    app.state.backend = dataclasses.replace(app.state.backend, feed_keys=keys)
    token = accounts.device("car-rot")
    bo = accounts.headers("backoffice")
    with serve(app) as base, httpx.Client(timeout=10) as http:
        r = http.post(f"{base}/api/v1/permits", json=_permit("GZ123T"), headers=bo)
        assert r.status_code == 201, r.text
        rights, keeper = _rights(tmp_path, http, base, token)
        assert rights.state == RightsState.NO_KEY
        assert keeper.fetch_key()
        first = rights.key
        assert first is not None
        assert first.rotates_at is not None
        assert [p.name for p in tmp_path.glob("rights-*.sqlite3")] == [
            f"rights-{first.key_id}.sqlite3"
        ]
        answer = rights.check(_query("GZ123T"))
        assert (answer.decision.allowed, answer.source) == (True, AnswerSource.CACHE)

        while datetime.now(UTC) < first.rotates_at:  # the backend's key period ends
            time.sleep(0.05)
        keeper.step()
        second = rights.key
        assert second is not None
        assert second.key_id != first.key_id
        assert [p.name for p in tmp_path.glob("rights-*.sqlite3")] == [
            f"rights-{second.key_id}.sqlite3"
        ]
        answer = rights.check(_query("GZ123T"))
        assert (answer.decision.allowed, answer.source) == (True, AnswerSource.CACHE)
        assert not list(tmp_path.glob("*.key"))

        with session_scope(engine) as s:
            revoke_device(s, name="car-rot")
        with pytest.raises(BackendRefusalError, match="refused the device token") as err:
            BackendLink(http, base, token, "/etc/scancar/token").plate_key()
        assert err.value.status == 401
        while datetime.now(UTC) < second.rotates_at:
            time.sleep(0.05)
        keeper.step()  # due for a new key: refused, the old one stays until restart
        assert keeper.refused is not None
        rights.close()


def _candidate_keys(data_dir) -> list[bytes]:
    """What an attacker with the car's disk would try as keys: every short file, raw and as
    hex, and the car's own secret."""
    keys: list[bytes] = []
    for path in data_dir.rglob("*"):
        if path.is_file() and 16 <= path.stat().st_size <= 200:
            raw = path.read_bytes()
            keys.append(raw)
            with contextlib.suppress(ValueError):
                keys.append(bytes.fromhex(raw.decode().strip()))
    return keys


def test_stolen_car_folder_after_a_route_reveals_no_plate(settings, engine, accounts, tmp_path):
    """The car fetches the plate key from the backend (memory only), syncs the feed (the
    route's permit holders) and drives the route. Its folder, read without the process,
    matched against every plate of the route (and their look-alikes) under every key an
    attacker finds there: nothing. With the backend's key the same files do reveal the
    permit holders: only the missing key protects them."""
    from api.db import session_scope
    from api.main import create_app
    from api.permits.service import import_permits
    from permits.csvio import read_permit_rows

    route = demo_route()
    load_town_zones(engine)
    with (route.folder / "permits.csv").open(encoding="utf-8", newline="") as f:
        rows = read_permit_rows(f)
    with session_scope(engine) as session:
        import_permits(session, rows, "test")
    app = create_app(settings, engine=engine)
    token = accounts.device("car-stolen")
    data_dir = tmp_path / "car"
    with serve(app) as base:
        report = run_replay(
            options(
                route, data_dir, backend=base, token=token, rights_key=None, rights_snapshot=None
            )
        )
        feed_key = httpx.get(
            f"{base}/api/v1/rights/feed-key", headers={"Authorization": f"Bearer {token}"}
        ).json()
    assert report.checks > 0
    assert report.outcomes.get("discard_right", 0) > 0  # the cache answered for permit holders
    # the blue zone's chalk marks (keyed with the car's secret, which is on its disk) live for
    # max stay + margin after the last sighting; the car purges them as time goes by
    store = SqliteChalkStore(data_dir / "chalk.sqlite3", (data_dir / "car.secret").read_bytes())
    store.purge(max(datetime.fromisoformat(c.seen_at) for c in route.cars) + timedelta(hours=3))
    store.close()
    key = bytes.fromhex(feed_key["key_hex"])
    files = {p: p.read_bytes() for p in data_dir.rglob("*") if p.is_file()}
    assert any(p.name.startswith("rights-") for p in files)
    assert not any(key in data or key.hex().encode() in data for data in files.values())

    plates = {c.plate for c in route.cars}
    plates |= {v for p in plates for v in lookalike_variants(p)}
    needles: set[bytes] = set()
    for k in _candidate_keys(data_dir):
        if len(k) < 32:
            continue
        keyer = PlateKeyer(k)
        for plate in plates:
            needles |= {keyer.digest(plate), keyer.hex(plate).encode()}
    for plate in plates:
        needles |= {hashlib.sha256(plate.encode()).digest(), plate.encode()}
    found = [(p.name, n[:8]) for p, data in files.items() for n in needles if n in data]
    assert found == []

    # the honest half: with the backend's key, the cache file does name the permit holders
    holders = {r.permit.plate_periods[0].plate for r in rows}
    cache = next(data for p, data in files.items() if p.name.startswith("rights-"))
    revealed = {p for p in holders if hmac.new(key, p.encode(), hashlib.sha256).digest() in cache}
    assert revealed == holders
