# ruff: noqa: S608 - the fixture SQL is built from constants of this module
"""Nearest first over every waiting hit, not a sample: more waiting hits than the old ranking
ever looked at (it took the oldest 5,000 by id), with the nearest ones the newest, some far
away, and closed hits next to the BOA that must not be offered."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import bindparam, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from api.auth.service import create_device, create_user
from api.db import UTCDateTime, utcnow
from api.hits import queries
from api.hits.db import HitRow
from api.hits.nearest import nearest_hits
from api.pagination import COUNT_CAP
from api.review.rules import distance_m
from tests.bulk import false, rnd, series

N_SPREAD = 12_000  # waiting hits over about 20 x 20 km, the oldest
N_NEAR = 60  # waiting hits within about 300 m of the BOA, the newest
N_FAR = 40  # waiting hits about 150 km away
N_CLOSED = 200  # confirmed hits right next to the BOA
BOA = (5.1200, 52.0900)  # lon, lat
FAR = (5.69, 50.85)


def _load(engine: Engine) -> None:
    with Session(engine) as s:
        device, _ = create_device(s, name="nearest-car")
        s.commit()
        dev = device.id
    total = N_SPREAD + N_NEAR + N_FAR + N_CLOSED
    near, far = N_SPREAD + N_NEAR, N_SPREAD + N_NEAR + N_FAR
    lon = (
        f"CASE WHEN i <= {N_SPREAD} THEN 5.03 + 0.3 * {rnd(0)} "
        f"WHEN i <= {far} AND i > {near} THEN {FAR[0]} + 0.02 * {rnd(0)} "
        f"ELSE {BOA[0]} - 0.004 + 0.008 * {rnd(0)} END"
    )
    lat = (
        f"CASE WHEN i <= {N_SPREAD} THEN 52.0 + 0.18 * {rnd(1)} "
        f"WHEN i <= {far} AND i > {near} THEN {FAR[1]} + 0.02 * {rnd(1)} "
        f"ELSE {BOA[1]} - 0.0025 + 0.005 * {rnd(1)} END"
    )
    with_, from_ = series(engine, total)
    captured = utcnow() - timedelta(hours=2)
    stmt = text(
        f"{with_}INSERT INTO hits (observation_id, device_id, content_sha256, metadata_json, "
        "status, plate, plate_confidence, captured_at, lon, lat, position_accuracy_m, camera, "
        "zone_id, reason, software_version, received_at, updated_at, repeat) "
        f"SELECT 'near-' || i, {dev}, 'x', '{{}}', CASE WHEN i > {far} THEN 'confirmed' "
        "ELSE 'awaiting_review' END, 'NB' || i, 0.9, :at, "
        f"{lon}, {lat}, 3.0, 'right', 'centrum', 'no_right', 't', :at, :at, {false(engine)} "
        f"FROM {from_}"
    ).bindparams(bindparam("at", type_=UTCDateTime()))
    with engine.begin() as conn:
        conn.execute(stmt, {"at": captured})


def _truth(engine: Engine, lon: float, lat: float) -> list[tuple[int, float]]:
    """Every waiting hit by its haversine distance from (lon, lat), computed here."""
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT id, lon, lat FROM hits WHERE status = 'awaiting_review'")
        ).all()
    ranked = sorted((distance_m(lon, lat, x, y), i) for i, x, y in rows)
    return [(i, d) for d, i in ranked]


@pytest.fixture
def waiting(engine):
    _load(engine)
    return engine


def test_nearest_first_api_returns_the_true_nearest_of_all_waiting_hits(client, accounts, waiting):
    truth = _truth(waiting, *BOA)
    assert len(truth) == N_SPREAD + N_NEAR + N_FAR
    boa = accounts.headers("boa")
    params = {"status": "awaiting_review", "lon": BOA[0], "lat": BOA[1], "limit": 50}
    r = client.get("/api/v1/hits", params=params, headers=boa)
    assert r.status_code == 200, r.text[:300]
    body = r.json()
    assert [h["id"] for h in body["data"]] == [i for i, _ in truth[:50]]
    assert (body["count"], body["count_exact"]) == (COUNT_CAP, False)  # more than the cap
    for got, (_, want) in zip(body["data"], truth, strict=False):
        assert got["distance_m"] == pytest.approx(want, abs=0.01)
    # most of the nearest are the newest: the old ranking of the oldest 5,000 never offered them
    assert sum(h["id"] > N_SPREAD for h in body["data"]) >= 30
    page = client.get("/api/v1/hits", params={**params, "offset": 45, "limit": 30}, headers=boa)
    assert [h["id"] for h in page.json()["data"]] == [i for i, _ in truth[45:75]]


CASES = [
    (BOA, 1, 0),
    (BOA, 500, 0),  # more than the near cluster: the box has to grow
    (FAR, 10, 0),  # the far cluster, 150 km from the rest
    (FAR, 45, 0),  # all of the far cluster and the nearest of the rest
    ((4.0, 55.0), 5, 0),  # the North Sea: nothing within 64 km, no box at all
    ((5.2, 52.05), 100, 200),
]


def test_nearest_hits_matches_a_full_ranking_and_offers_no_closed_hit(waiting):
    waiting_only = [col(HitRow.status) == "awaiting_review"]
    for (lon, lat), limit, offset in CASES:
        truth = _truth(waiting, lon, lat)[offset : offset + limit]
        with Session(waiting) as s:
            got = nearest_hits(s, waiting_only, lon, lat, limit=limit, offset=offset)
        assert [h.id for h, _ in got] == [i for i, _ in truth], (lon, lat, limit, offset)
        assert [d for _, d in got] == pytest.approx([d for _, d in truth], abs=0.01)
        assert {h.status for h, _ in got} == {"awaiting_review"}


def test_next_hit_is_the_nearest_free_one_of_all_open_hits(waiting):
    """The tablet's "next": the nearest open hit, not the one just decided nor one a
    colleague holds (a claim of one's own or an expired claim does not stop it)."""
    now = utcnow()
    truth = [i for i, _ in _truth(waiting, *BOA)]
    with Session(waiting) as s:
        boa = create_user(s, username="boa-next", password="correct-horse-1", role="boa")
        other = create_user(s, username="boa-other", password="correct-horse-1", role="boa")
        s.commit()
        me, them = boa.id, other.id
    soon, gone = now + timedelta(minutes=5), now - timedelta(minutes=1)
    held = {truth[1]: (them, soon), truth[2]: (me, soon), truth[3]: (them, gone)}
    with waiting.begin() as conn:
        conn.execute(text(f"UPDATE hits SET status = 'confirmed' WHERE id = {truth[0]}"))
        for hit_id, (by, until) in held.items():
            conn.execute(
                text(
                    "UPDATE hits SET status = 'claimed', claimed_by = :by, claimed_until = :until "
                    "WHERE id = :id"
                ).bindparams(bindparam("until", type_=UTCDateTime())),
                {"by": by, "until": until, "id": hit_id},
            )
    with Session(waiting) as s:
        first = queries.next_hit(s, me, near=BOA, after=truth[0], now=now)
        assert first is not None
        assert first.id == truth[2]  # truth[0] just decided, truth[1] held by a colleague
        after_mine = queries.next_hit(s, me, near=BOA, after=truth[2], now=now)
        assert after_mine is not None
        assert after_mine.id == truth[3]  # the colleague's claim ran out
        oldest = queries.next_hit(s, me, near=None, after=0, now=now)
        assert oldest is not None  # no position: the one waiting longest (captured alike: by id)
        assert oldest.id == min(set(truth) - {truth[0], truth[1]})


def test_queue_zones_are_those_of_open_hits_and_the_one_chosen(waiting):
    with waiting.begin() as conn:
        conn.execute(text("UPDATE hits SET zone_id = 'haven' WHERE status = 'confirmed'"))
        conn.execute(text(f"UPDATE hits SET zone_id = 'oost' WHERE id = {N_SPREAD}"))
    with Session(waiting) as s:
        assert queries.queue_zones(s) == ["centrum", "oost"]
        assert queries.queue_zones(s, also="haven") == ["centrum", "haven", "oost"]
        rows = queries.open_queue(s, zone="oost")
        assert [r.hit.id for r in rows] == [N_SPREAD]
        assert queries.open_queue(s, zone="haven") == []
