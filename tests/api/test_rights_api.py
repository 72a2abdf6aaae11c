"""The rights check and the scan-car feed through the API, and the SQL rights repository
against the in-memory reference."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from api.rights.db import RightsCheckLogRow
from api.rights.repository import SqlRightsRepository, lock_rights
from permits.feed import PlateKeyer, RightsChangesPage, RightsSnapshotPage
from permits.memory import InMemoryRightsRepository
from permits.model import (
    PaidSession,
    Permit,
    PermitStatus,
    PermitType,
    PlatePeriod,
    VisitorSession,
)
from tests.api.permits_support import CENTRUM, NOORD, OUTSIDE, check, now, permit_body


def test_rights_check_normalises_plate_returns_zone_and_logs(client, bo, accounts, town, engine):
    pid = client.post("/api/v1/permits", json=permit_body(), headers=bo).json()["id"]
    device = accounts.headers("device")
    body = check(client, device, "gz-123-t", NOORD)
    assert body["plate"] == "GZ123T"
    assert (body["allowed"], body["reason"], body["right_id"]) == (
        True,
        "permit",
        f"permit:{pid}:0",
    )
    assert body["valid_until"] is not None
    assert body["zone"]["id"] == "noord"
    assert body["zone"]["area_code"] == "9999_NOORD"
    assert body["zone"]["permit_types"] == ["resident", "visitor", "care"]
    # a resident permit for NOORD does not count in CENTRUM
    assert check(client, device, "GZ123T", CENTRUM)["reason"] == "none"
    outside = check(client, device, "GZ123T", OUTSIDE)
    assert (outside["zone"], outside["allowed"]) == (None, False)
    lookalike = check(client, device, "G2123T", NOORD)
    assert (lookalike["allowed"], lookalike["reason"]) == (False, "lookalike_right")
    with Session(engine) as s:
        rows = s.exec(select(RightsCheckLogRow).order_by(RightsCheckLogRow.id)).all()
    assert [(r.plate, r.zone_id, r.reason, r.actor_type) for r in rows] == [
        (None, "noord", "permit", "device"),  # allowed: no plate kept
        (None, "centrum", "none", "device"),  # a car's check: no plate kept either
        (None, None, "none", "device"),
        (None, "noord", "lookalike_right", "device"),
    ]
    check(client, accounts.headers("boa"), "G2123T", NOORD)  # a person's not-allowed check
    with Session(engine) as s:
        last = s.exec(select(RightsCheckLogRow).order_by(RightsCheckLogRow.id.desc())).first()
    assert last is not None
    assert (last.plate, last.actor_type, last.lon is not None) == ("G2123T", "user", True)
    assert all(r.at.tzinfo is not None for r in rows)


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"plate": "GZ123T", "lon": 4.358, "lat": 52.016, "at": "2026-01-01T10:00:00"}, 422),
        ({"plate": "!!!", "lon": 4.358, "lat": 52.016}, 422),
        ({"plate": "GZ123T", "lon": 400, "lat": 52.016}, 422),
    ],
)
def test_rights_check_refuses_bad_queries(client, accounts, params, code):
    r = client.get("/api/v1/rights/check", params=params, headers=accounts.headers("boa"))
    assert r.status_code == code
    assert set(r.json()) == {"detail", "code"}


def test_rights_default_checker_serves_the_review_port(app, client, bo, town, engine):
    client.post("/api/v1/permits", json=permit_body(), headers=bo)
    with Session(engine) as s:
        result = app.state.backend.rights_checker.check(
            s, plate="GZ123T", zone_id="noord", at=datetime.now(UTC), grace_minutes=10
        )
        unknown = app.state.backend.rights_checker.check(
            s, plate="GZ123T", zone_id="nowhere", at=datetime.now(UTC), grace_minutes=10
        )
    assert (result.allowed, result.reason) == (True, "permit")
    assert (unknown.allowed, unknown.reason) == (False, "none")


def _snapshot(client, device) -> list[RightsSnapshotPage]:
    r = client.get("/api/v1/rights/snapshot", headers=device)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/x-ndjson")
    return [RightsSnapshotPage.model_validate_json(line) for line in r.text.splitlines()]


def test_rights_feed_snapshot_pages_and_changes(app, client, bo, accounts):
    app.state.backend.settings.rights_snapshot_page_size = 2
    device = accounts.headers("device")
    key = client.get("/api/v1/rights/feed-key", headers=device).json()
    keyer = PlateKeyer(bytes.fromhex(key["key_hex"]))
    assert key["key_id"] == keyer.key_id
    assert client.get("/api/v1/rights/feed-key", headers=bo).status_code == 403

    ids = [
        client.post("/api/v1/permits", json=permit_body(plates=[p]), headers=bo).json()["id"]
        for p in ("AA11AA", "BB22BB", "CC33CC")
    ]
    far = permit_body(plates=["DD44DD"])
    far["valid_from"] = (now() + timedelta(days=3)).isoformat()
    client.post("/api/v1/permits", json=far, headers=bo)  # outside the 24 h window

    pages = _snapshot(client, device)
    assert [(p.page, p.is_last) for p in pages] == [(0, False), (1, True)]
    assert len({p.snapshot_id for p in pages}) == 1
    rights = [r for p in pages for r in p.rights]
    assert sorted(r.plate_key for r in rights) == sorted(
        keyer.hex(p) for p in ("AA11AA", "BB22BB", "CC33CC")
    )
    assert "AA11AA" not in "".join(p.model_dump_json() for p in pages)
    cursor = pages[0].cursor

    r = client.get("/api/v1/rights/changes", params={"since": cursor}, headers=device)
    assert r.status_code == 200
    assert RightsChangesPage.model_validate(r.json()).changes == []

    client.post(f"/api/v1/permits/{ids[0]}/suspend", json={"reason": "x"}, headers=bo)
    client.post(f"/api/v1/permits/{ids[0]}/reinstate", json={"reason": "x"}, headers=bo)
    first = RightsChangesPage.model_validate(
        client.get(
            "/api/v1/rights/changes", params={"since": cursor, "limit": 1}, headers=device
        ).json()
    )
    assert [(c.op, c.right_id) for c in first.changes] == [("remove", f"permit:{ids[0]}:0")]
    assert first.has_more is True
    rest = RightsChangesPage.model_validate(
        client.get("/api/v1/rights/changes", params={"since": first.cursor}, headers=device).json()
    )
    assert [(c.op, c.right_id) for c in rest.changes] == [("upsert", f"permit:{ids[0]}:0")]
    assert rest.changes[0].right.plate_key == keyer.hex("AA11AA")
    assert rest.has_more is False

    gone = client.get("/api/v1/rights/changes", params={"since": "other.3"}, headers=device)
    assert (gone.status_code, gone.json()["code"]) == (410, "feed_cursor_expired")
    ahead = cursor.rsplit(".", 1)[0] + ".999999"
    gone = client.get("/api/v1/rights/changes", params={"since": ahead}, headers=device)
    assert gone.status_code == 410


def test_rights_feed_empty_snapshot_has_one_last_page(client, accounts):
    pages = _snapshot(client, accounts.headers("device"))
    assert [(p.page, p.is_last, p.rights) for p in pages] == [(0, True, [])]


def test_rights_feed_snapshot_window_follows_the_cars_clock(client, bo, accounts):
    """A replay asks for the rights around its recording's time (``at``): a permit that ended
    a month ago is in that window and not in today's."""
    device = accounts.headers("device")
    then = now() - timedelta(days=40)
    body = permit_body(plates=["AA11AA"])
    body |= {"valid_from": (then - timedelta(days=1)).isoformat()}
    body |= {"valid_to": (then + timedelta(days=1)).isoformat()}
    assert client.post("/api/v1/permits", json=body, headers=bo).status_code == 201
    r = client.get("/api/v1/rights/snapshot", params={"at": then.isoformat()}, headers=device)
    assert r.status_code == 200, r.text
    (page,) = [RightsSnapshotPage.model_validate_json(line) for line in r.text.splitlines()]
    assert (page.window_start, page.window_end) == (
        then - timedelta(hours=1),
        then + timedelta(hours=24),
    )
    assert page.generated_at > then + timedelta(days=39)  # generated now
    assert len(page.rights) == 1
    (today,) = _snapshot(client, device)
    assert today.rights == []
    for bad in ("2026-03-03T10:00:00", "0001-01-01T00:00:00+01:00"):
        r = client.get("/api/v1/rights/snapshot", params={"at": bad}, headers=device)
        assert r.status_code == 422, r.text
        assert set(r.json()) == {"detail", "code"}


# --------------------------------------------------------------------------- repository
T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
AREAS = ["A1", "B2", "C3"]


def _random_ops(rng: random.Random, n: int):  # type: ignore[no-untyped-def]
    permits: dict[str, Permit] = {}
    for i in range(n):
        roll = rng.random()
        if roll < 0.5 or not permits:
            pid = f"P{rng.randint(0, 15)}"
            start = T0 + timedelta(hours=rng.randint(-30, 30))
            plates = tuple(
                PlatePeriod(f"AB{rng.randint(10, 40)}CD", start, None)
                for _ in range(rng.choice([1, 2]))
            )
            if len({p.plate for p in plates}) != len(plates):
                plates = plates[:1]
            permit = Permit(
                pid,
                rng.choice([PermitType.RESIDENT, PermitType.EXEMPTION]),
                "H",
                plates,
                frozenset(rng.sample(AREAS, rng.choice([1, 2]))),
                start,
                None if rng.random() < 0.3 else start + timedelta(hours=rng.randint(1, 48)),
                rng.choice([PermitStatus.ACTIVE, PermitStatus.ACTIVE, PermitStatus.SUSPENDED]),
            )
            permits[pid] = permit
            yield ("permit", permit)
        elif roll < 0.8:
            start = T0 + timedelta(minutes=rng.randint(-300, 300))
            yield (
                "paid",
                PaidSession(
                    "u1",
                    str(rng.randint(0, 20)),
                    f"AB{rng.randint(10, 40)}CD",
                    rng.choice(AREAS),
                    start,
                    None if rng.random() < 0.3 else start + timedelta(minutes=rng.randint(5, 200)),
                ),
            )
        else:
            start = T0 + timedelta(minutes=rng.randint(-300, 300))
            yield (
                "visitor",
                VisitorSession(
                    str(i),
                    "PV",
                    f"AB{rng.randint(10, 40)}CD",
                    frozenset({rng.choice(AREAS)}),
                    start,
                    start + timedelta(minutes=90),
                ),
            )


def test_rights_sql_repository_matches_the_in_memory_reference(engine):
    rng = random.Random(11)
    memory = InMemoryRightsRepository()
    with Session(engine) as s:
        lock_rights(s)
        sql = SqlRightsRepository(s)
        start_cursor = sql.snapshot(T0, T0).cursor
        for kind, value in _random_ops(rng, 300):
            getattr(memory, f"put_{'permit' if kind == 'permit' else kind + '_session'}")(value)
            getattr(sql, f"put_{'permit' if kind == 'permit' else kind + '_session'}")(value)
        s.commit()
    with Session(engine) as s:
        sql = SqlRightsRepository(s)
        window = (T0 - timedelta(hours=2), T0 + timedelta(hours=24))
        assert sql.snapshot(*window).rights == memory.snapshot(*window).rights
        for plate in (f"AB{i}CD" for i in range(10, 41)):
            for area in AREAS:
                got = sorted(r.id for r in sql.rights_for_plates([plate], area, *window))
                want = sorted(r.id for r in memory.rights_for_plates([plate], area, *window))
                assert got == want
        # replaying the change log from the start gives the final state
        state: dict[str, object] = {}
        cursor, more = start_cursor, True
        while more:
            batch = sql.changes_since(cursor, 37)
            for change in batch.changes:
                if change.right is None:
                    state.pop(change.right_id)
                else:
                    state[change.right_id] = change.right
            cursor, more = batch.cursor, batch.has_more
        assert sorted(state) == sorted(r.id for r in memory.all_rights())
        assert len(batch.changes) <= 37
        assert json.dumps(sorted(state)) == json.dumps(sorted(r.id for r in memory.all_rights()))


def test_check_log_purge_drops_plates_after_hours_and_rows_after_days(
    client, bo, accounts, town, engine, settings
):
    from api.retention.service import purge

    client.post("/api/v1/permits", json=permit_body(), headers=bo)
    boa = accounts.headers("boa")
    check(client, boa, "GZ123T", NOORD)  # allowed: stored without plate
    check(client, boa, "XX999X", NOORD)  # a BOA told not allowed: plate and position kept a while
    store = client.app.state.backend.evidence_store
    t0 = now()
    hours = timedelta(hours=settings.retention_unallowed_check_hours)

    def rows():  # type: ignore[no-untyped-def]
        with Session(engine) as s:
            found = s.exec(select(RightsCheckLogRow).order_by(RightsCheckLogRow.id)).all()
        return [(r.allowed, r.plate, r.lon is not None) for r in found]

    assert rows() == [(True, None, False), (False, "XX999X", True)]
    with Session(engine) as s:
        report = purge(s, store, settings, now=t0 + hours - timedelta(minutes=5))
    assert (report.check_log_anonymised, report.check_log_deleted) == (0, 0)
    assert rows()[1] == (False, "XX999X", True)
    with Session(engine) as s:
        dry = purge(s, store, settings, now=t0 + hours + timedelta(minutes=5), dry_run=True)
    assert dry.check_log_anonymised == 1
    assert rows()[1] == (False, "XX999X", True)
    with Session(engine) as s:
        report = purge(s, store, settings, now=t0 + hours + timedelta(minutes=5))
    assert report.check_log_anonymised == 1
    assert rows() == [(True, None, False), (False, None, False)]  # the counts stay
    days = timedelta(days=settings.retention_rights_check_days, minutes=5)
    with Session(engine) as s:
        report = purge(s, store, settings, now=t0 + days)
    assert report.check_log_deleted == 2
    assert rows() == []
