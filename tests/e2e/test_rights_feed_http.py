"""The scan-car feed through real HTTP: a car cache fed only by a real uvicorn's snapshot and
changes gives the same decisions as the backend's ``/rights/check`` for many random checks."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from permits.errors import FeedError
from permits.model import PermitType
from permits.plates import lookalike_variants
from scancar.rights.cache import SqliteRightsCache
from scancar.rights.errors import RightsUnavailableError
from scancar.rights.http import HttpOnlineRightsCheck, HttpRightsFeedClient, fetch_feed_key
from scancar.rights.ports import RightsQuery
from scancar.rights.source import sync_cache
from tests.api.permits_support import TOWN, load_town
from tests.e2e.server import free_port, serve
from zones import ZoneIndex
from zones.geojson import load_feature_collection

AREAS = ["9999_NOORD", "9999_ZUID", "9999_CENTRUM", "9999_BLAUW"]
POINTS = [
    (4.3580, 52.0160),  # noord
    (4.3580, 52.0070),  # zuid
    (4.3570, 52.0100),  # centrum
    (4.3505, 52.0115),  # blauw
    (4.35745, 52.01125),  # loading zone inside centrum
    (4.3000, 52.0000),  # outside every zone
]


def _plate(rng: random.Random) -> str:
    # confusable characters are common, so look-alikes of right holders occur
    alphabet = "BDGHKLNSTXZ" + "0125689"
    return "".join(rng.choice(alphabet) for _ in range(6))


def _iso(t: datetime) -> str:
    return t.isoformat()


class Backend:
    def __init__(self, http: httpx.Client, base: str, bo: dict, provider: dict) -> None:
        self.http, self.base, self.bo, self.provider = http, base, bo, provider

    def post(self, path: str, body: dict, headers: dict | None = None) -> dict:
        r = self.http.post(self.base + path, json=body, headers=headers or self.bo)
        assert r.status_code in (200, 201), r.text
        return r.json()


def _populate(backend: Backend, rng: random.Random, now: datetime, n: int) -> dict[str, list]:
    made: dict[str, list] = {"permits": [], "sessions": [], "visitor_permits": [], "plates": []}
    for i in range(n):
        kind = rng.choice(["resident", "resident", "business", "care", "disabled", "exemption"])
        plates = [_plate(rng) for _ in range(rng.choice([1, 1, 2]))]
        areas = rng.sample(AREAS, rng.choice([1, 2]))
        if kind in ("disabled", "exemption") and rng.random() < 0.5:
            areas = []
        start = now + timedelta(hours=rng.uniform(-48, 2))
        end = None if rng.random() < 0.3 else start + timedelta(hours=rng.uniform(1, 72))
        body = {
            "type": kind,
            "holder": f"H-{i}",
            "plates": plates,
            "area_codes": areas,
            "valid_from": _iso(start),
            "valid_to": _iso(end) if end else None,
        }
        made["permits"].append(backend.post("/api/v1/permits", body)["id"])
        made["plates"] += plates
    for i in range(n):
        plate = _plate(rng)
        start = now + timedelta(minutes=rng.uniform(-120, 30))
        end = None if rng.random() < 0.3 else start + timedelta(minutes=rng.uniform(10, 300))
        body = {
            "provider_session_id": f"s-{rng.random()}-{i}",
            "plate": plate,
            "area_code": rng.choice(AREAS),
            "start": _iso(start),
            "end": _iso(end) if end else None,
        }
        made["sessions"].append(
            backend.post("/api/v1/parking-sessions", body, backend.provider)["id"]
        )
        made["plates"].append(plate)
    visitor = backend.post(
        "/api/v1/permits",
        {
            "type": "visitor",
            "holder": "H-V",
            "plates": [],
            "area_codes": ["9999_NOORD", "9999_ZUID"],
            "valid_from": _iso(now - timedelta(days=2)),
            "valid_to": _iso(now + timedelta(days=30)),
            "visitor_budget_minutes": 100_000,
        },
    )["id"]
    for _ in range(n // 4):
        plate = _plate(rng)
        start = now + timedelta(minutes=rng.uniform(-120, 600))
        backend.post(
            f"/api/v1/permits/{visitor}/visitor-sessions",
            {"plate": plate, "start": _iso(start), "end": _iso(start + timedelta(minutes=90))},
        )
        made["plates"].append(plate)
    return made


def _mutate(backend: Backend, rng: random.Random, made: dict[str, list]) -> None:
    permits = list(made["permits"])
    rng.shuffle(permits)
    for pid in permits[:8]:
        backend.post(f"/api/v1/permits/{pid}/suspend", {"reason": "test"})
    for pid in permits[:3]:
        backend.post(f"/api/v1/permits/{pid}/reinstate", {"reason": "test"})
    for pid in permits[8:14]:
        backend.post(f"/api/v1/permits/{pid}/revoke", {"reason": "test"})
    for pid in permits[14:20]:
        detail = backend.http.get(f"{backend.base}/api/v1/permits/{pid}", headers=backend.bo)
        if datetime.fromisoformat(detail.json()["valid_from"]) > datetime.now(UTC):
            continue  # a plate change cannot precede the plate's registration
        old = detail.json()["plates"][0]
        new = _plate(rng)
        backend.post(
            f"/api/v1/permits/{pid}/change-plate",
            {"old_plate": old, "new_plate": new, "reason": "new car"},
        )
        made["plates"].append(new)
    for sid in made["sessions"][:10]:
        backend.post(f"/api/v1/parking-sessions/{sid}/stop", {}, backend.provider)


def _car_rules(index: ZoneIndex, point: tuple[float, float]):  # type: ignore[no-untyped-def]
    """What the car derives from its own zone lookup: area code, grace, permit types."""
    zone = index.locate(*point)
    if zone is None:
        return "-", 10, None
    types = frozenset(PermitType(t) for t in zone.permit_types) if zone.permit_types else None
    return zone.area_code, zone.grace_minutes, types


def test_rights_feed_http_cache_matches_backend_check(app, accounts, engine, tmp_path: Path):
    rng = random.Random(20261126)
    load_town(engine)
    bo = accounts.headers("backoffice")
    provider = accounts.headers("provider")
    device = accounts.headers("device")
    boa = accounts.headers("boa")
    index = ZoneIndex(load_feature_collection(TOWN).zones)
    now = datetime.now(UTC).replace(microsecond=0)

    with serve(app) as base, httpx.Client(timeout=30) as http:
        backend = Backend(http, base, bo, provider)
        made = _populate(backend, rng, now, 40)

        token = device["Authorization"].removeprefix("Bearer ")
        key = fetch_feed_key(http, base, token)
        cache = SqliteRightsCache(tmp_path / "cache.db", key.key, index="memory")
        feed = HttpRightsFeedClient(http, base, token, changes_limit=7)
        assert sync_cache(cache, feed, now) == 1  # a snapshot
        snapshot_cursor = cache.cursor
        assert len(cache) > 40

        _mutate(backend, rng, made)
        applied = sync_cache(cache, feed, now)
        assert applied >= 3  # several pages of at most 7 changes
        assert cache.cursor != snapshot_cursor

        mismatches = []
        kinds = {"exact": 0, "lookalike": 0, "none": 0}
        allowed_count = 0
        reasons: set[str] = set()
        for _ in range(500):
            roll = rng.random()
            plate = rng.choice(made["plates"])
            if roll < 0.25:
                variants = sorted(lookalike_variants(plate))
                plate = rng.choice(variants) if variants else plate
                kinds["lookalike"] += 1
            elif roll < 0.4:
                plate = _plate(rng)
                kinds["none"] += 1
            else:
                kinds["exact"] += 1
            point = rng.choice(POINTS)
            near = rng.random() < 0.7
            at = now + timedelta(minutes=rng.randint(-50, 120 if near else 23 * 60))
            area, grace, types = _car_rules(index, point)
            car = cache.check(plate, area, at, grace, allowed_permit_types=types)
            r = http.get(
                f"{base}/api/v1/rights/check",
                params={"plate": plate, "lon": point[0], "lat": point[1], "at": _iso(at)},
                headers=boa,
            )
            assert r.status_code == 200, r.text
            body = r.json()
            backend_valid = (
                datetime.fromisoformat(body["valid_until"]) if body["valid_until"] else None
            )
            got = (body["allowed"], body["reason"], body["right_id"], backend_valid)
            want = (car.allowed, car.reason.value, car.right_id, car.valid_until)
            if got != want:
                mismatches.append((plate, point, at.isoformat(), got, want))
            allowed_count += car.allowed
            reasons.add(car.reason.value)
        assert mismatches == []
        # the checks exercise the outcomes, not just "none"
        assert 15 < allowed_count < 400, (allowed_count, kinds)
        assert {"permit", "paid", "lookalike_right", "none"} <= reasons
        cache.close()


def test_rights_feed_http_refused_cursor_takes_a_new_snapshot(app, accounts, engine, tmp_path):
    load_town(engine)
    device = accounts.headers("device")
    bo = accounts.headers("backoffice")
    token = device["Authorization"].removeprefix("Bearer ")
    now = datetime.now(UTC)
    with serve(app) as base, httpx.Client(timeout=30) as http:
        backend = Backend(http, base, bo, {})
        backend.post(
            "/api/v1/permits",
            {
                "type": "resident",
                "holder": "H",
                "plates": ["GZ123T"],
                "area_codes": ["9999_NOORD"],
                "valid_from": _iso(now - timedelta(days=1)),
                "valid_to": None,
            },
        )
        feed = HttpRightsFeedClient(http, base, token)
        with pytest.raises(FeedError):
            feed.changes("not-a-cursor.5")
        r = http.get(
            f"{base}/api/v1/rights/changes",
            params={"since": "zzz.1"},
            headers=device,
        )
        assert (r.status_code, r.json()["code"]) == (410, "feed_cursor_expired")
        key = fetch_feed_key(http, base, token)
        cache = SqliteRightsCache(tmp_path / "c.db", key.key)
        sync_cache(cache, feed, now)
        version = cache.version
        cache._meta["cursor"] = "unknown.99"  # as if the backend's log was rebuilt
        assert sync_cache(cache, feed, now) == 1
        assert cache.version == version + 1
        assert cache.check("GZ123T", "9999_NOORD", now).reason.value == "permit"
        cache.close()


def test_rights_online_check_over_http_and_when_the_backend_is_down(app, accounts, engine):
    load_town(engine)
    device = accounts.headers("device")
    token = device["Authorization"].removeprefix("Bearer ")
    at = datetime.now(UTC)
    query = RightsQuery("gz-123-t", "9999_NOORD", at, lon=4.3580, lat=52.0160)
    with serve(app) as base, httpx.Client(timeout=10) as http:
        decision = HttpOnlineRightsCheck(http, base, token)(query)
        assert (decision.allowed, decision.reason.value) == (False, "none")
        with pytest.raises(RightsUnavailableError, match="HTTP 401"):
            HttpOnlineRightsCheck(http, base, "scd_wrong")(query)
    with httpx.Client(timeout=2) as http, pytest.raises(RightsUnavailableError):
        HttpOnlineRightsCheck(http, f"http://127.0.0.1:{free_port()}", token)(query)
