"""The hit lifecycle through the API: grace step, claims, decisions, corrections, photos."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from api.audit.db import AuditRow
from api.evidence.store import EvidenceStore
from api.hits.db import EvidenceRow, HitEventRow, HitRow
from api.review import service
from api.review.ports import RightsResult
from tests.api.review_support import FakeRights, FakeZoneRules, after_grace, post_hit
from tests.factories import CAPTURED_AT, make_image


@pytest.fixture
def rights():
    return FakeRights()


@pytest.fixture
def app(settings, engine, rights):
    from api.main import create_app

    return create_app(settings, engine=engine, rights_checker=rights, zone_rules=FakeZoneRules())


def grace(app, now):
    return service.run_grace_step(
        app.state.backend.engine,
        app.state.backend.evidence_store,
        app.state.backend.rights_checker,
        app.state.backend.zone_rules,
        app.state.backend.settings,
        now=now,
    )


@pytest.fixture
def hit_id(client, accounts, app):
    hid = post_hit(client, accounts.headers("device"))
    report = grace(app, after_grace())
    assert report.to_review == 1
    return hid


def status_of(client, accounts, hid):
    return client.get(f"/api/v1/hits/{hid}", headers=accounts.headers("boa")).json()["status"]


# --------------------------------------------------------------------------- grace step
def test_grace_step_moves_hit_to_review_after_the_zone_grace(client, accounts, app, rights):
    hid = post_hit(client, accounts.headers("device"))
    assert grace(app, CAPTURED_AT + timedelta(minutes=9)).checked == 0
    assert status_of(client, accounts, hid) == "pending_grace"
    report = grace(app, CAPTURED_AT + timedelta(minutes=10))
    assert (report.checked, report.to_review, report.dismissed) == (1, 1, 0)
    assert rights.calls == [("GZ123T", "centrum", CAPTURED_AT, 10)]
    body = client.get(f"/api/v1/hits/{hid}", headers=accounts.headers("boa")).json()
    assert body["status"] == "awaiting_review"
    assert [h["action"] for h in body["history"]] == ["grace_passed"]
    assert body["rights_checks"][0]["source"] == "grace"
    assert body["rights_checks"][0]["allowed"] is False


def test_grace_step_uses_the_zones_own_grace(client, accounts, app, rights):
    hid = post_hit(client, accounts.headers("device"), zone_id="wijk-noord")
    grace(app, CAPTURED_AT + timedelta(minutes=5))
    assert status_of(client, accounts, hid) == "awaiting_review"
    assert rights.calls[0][3] == 5


def test_grace_step_late_payment_dismisses_and_deletes_evidence(
    client, accounts, app, rights, engine, settings
):
    hid = post_hit(client, accounts.headers("device"))
    rights.rights["GZ123T"] = RightsResult(True, "late_payment_within_grace", "s-1", None)
    report = grace(app, after_grace())
    assert report.dismissed == 1
    assert status_of(client, accounts, hid) == "dismissed"
    with Session(engine) as s:
        assert s.exec(select(EvidenceRow).where(EvidenceRow.hit_id == hid)).all() == []
        assert s.get(HitRow, hid).evidence_deleted_at is not None
    files = [p for p in settings.evidence_dir.rglob("*") if p.is_file()]
    assert files == []
    r = client.get(f"/api/v1/hits/{hid}/evidence/plate", headers=accounts.headers("boa"))
    assert r.status_code == 404


def test_grace_step_runs_once_even_when_called_twice(client, accounts, app):
    hid = post_hit(client, accounts.headers("device"))
    assert grace(app, after_grace()).checked == 1
    assert grace(app, after_grace()).checked == 0
    with Session(app.state.backend.engine) as s:
        events = s.exec(select(HitEventRow).where(HitEventRow.hit_id == hid)).all()
    assert [e.action for e in events] == ["grace_passed"]


# --------------------------------------------------------------------------- claims
def test_claim_by_one_boa_blocks_another(client, accounts, hit_id):
    boa2 = {"Authorization": f"Bearer {accounts.login(accounts.user('boa'))}"}
    r = client.post(f"/api/v1/hits/{hit_id}/claim", headers=accounts.headers("boa"))
    assert r.status_code == 200
    assert r.json()["status"] == "claimed"
    r2 = client.post(f"/api/v1/hits/{hit_id}/claim", headers=boa2)
    assert r2.status_code == 409
    assert r2.json()["code"] == "already_claimed"
    # the holder can claim again (extends)
    assert (
        client.post(f"/api/v1/hits/{hit_id}/claim", headers=accounts.headers("boa")).status_code
        == 200
    )


def test_claim_expires_and_is_released_automatically(client, accounts, app, hit_id, settings):
    client.post(f"/api/v1/hits/{hit_id}/claim", headers=accounts.headers("boa"))
    from api.db import utcnow

    report = grace(app, utcnow() + timedelta(minutes=settings.claim_minutes + 1))
    assert report.expired_claims == 1
    assert status_of(client, accounts, hit_id) == "awaiting_review"


def test_release_returns_hit_to_queue(client, accounts, hit_id):
    h = accounts.headers("boa")
    client.post(f"/api/v1/hits/{hit_id}/claim", headers=h)
    r = client.post(f"/api/v1/hits/{hit_id}/release", headers=h)
    assert r.status_code == 200
    assert r.json()["status"] == "awaiting_review"
    assert r.json()["claimed_by"] is None


def test_claim_concurrent_exactly_one_wins(app, client, accounts, hit_id, engine):
    """Eight BOAs press 'claim' at the same moment (real threads, real database)."""
    from api.auth.principal import Principal, Role
    from api.errors import Conflict

    boas = [Principal("user", 1000 + i, f"boa{i}", Role.BOA) for i in range(8)]
    from api.auth.service import create_user
    from api.db import session_scope

    with session_scope(engine) as s:
        for b in boas:
            u = create_user(s, username=b.name, password="correct-horse-1", role="boa")
            object.__setattr__(b, "id", u.id)
    barrier = threading.Barrier(len(boas))
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(boa):
        with Session(engine) as session:
            barrier.wait()
            try:
                service.claim(session, hit_id, boa, app.state.backend.settings)
                result = "won"
            except Conflict:
                result = "409"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=attempt, args=(b,)) for b in boas]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["409"] * 7 + ["won"]
    with Session(engine) as s:
        events = s.exec(
            select(HitEventRow).where(HitEventRow.hit_id == hit_id, HitEventRow.action == "claim")
        ).all()
    assert len(events) == 1


# --------------------------------------------------------------------------- decisions
def test_confirm_remote_records_who_when_how(client, accounts, hit_id, engine):
    h = accounts.headers("boa")
    client.post(f"/api/v1/hits/{hit_id}/claim", headers=h)
    r = client.post(f"/api/v1/hits/{hit_id}/confirm", json={"mode": "remote"}, headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "confirmed"
    assert body["decision_mode"] == "remote"
    assert body["decided_by"] is not None
    assert body["decided_at"] is not None
    assert body["rights_checks"][-1]["source"] == "confirm"
    with Session(engine) as s:
        hit = s.get(HitRow, hit_id)
        assert hit.decision_rights_check_id == body["rights_checks"][-1]["id"]
        audit = s.exec(select(AuditRow).where(AuditRow.action == "hit.confirm")).one()
        assert audit.actor_type == "user"
        assert audit.target_id == str(hit_id)


def test_confirm_without_claim_is_refused(client, accounts, hit_id):
    r = client.post(
        f"/api/v1/hits/{hit_id}/confirm", json={"mode": "remote"}, headers=accounts.headers("boa")
    )
    assert r.status_code == 409
    assert "allowed now: claim" in r.json()["detail"]


def test_confirm_remote_refused_where_zone_needs_on_site(client, accounts, app, engine):
    hid = post_hit(client, accounts.headers("device"), zone_id="wijk-noord")
    grace(app, after_grace())
    h = accounts.headers("boa")
    client.post(f"/api/v1/hits/{hid}/claim", headers=h)
    r = client.post(f"/api/v1/hits/{hid}/confirm", json={"mode": "remote"}, headers=h)
    assert r.status_code == 422
    assert "on site" in r.json()["detail"]
    far = {"mode": "on_site", "lon": 4.3581, "lat": 52.0126}  # ~111 m north
    r = client.post(f"/api/v1/hits/{hid}/confirm", json=far, headers=h)
    assert r.status_code == 422
    assert "111 m from the car" in r.json()["detail"]
    near = {"mode": "on_site", "lon": 4.3582, "lat": 52.0118}
    r = client.post(f"/api/v1/hits/{hid}/confirm", json=near, headers=h)
    assert r.status_code == 200
    with Session(engine) as s:
        hit = s.get(HitRow, hid)
        assert hit.decision_mode == "on_site"
        assert 20 < hit.decision_distance_m < 30


def test_confirm_refused_when_a_right_is_found_now(client, accounts, hit_id, rights):
    h = accounts.headers("boa")
    client.post(f"/api/v1/hits/{hit_id}/claim", headers=h)
    rights.rights["GZ123T"] = RightsResult(True, "permit", "p-9", None)
    r = client.post(f"/api/v1/hits/{hit_id}/confirm", json={"mode": "remote"}, headers=h)
    assert r.status_code == 409
    assert r.json()["code"] == "right_found"
    assert status_of(client, accounts, hit_id) == "claimed"


@pytest.mark.parametrize(
    "reason",
    [
        "driver_present",
        "loading_unloading",
        "disabled_card_visible",
        "plate_misread",
        "right_found",
        "vehicle_exempt",
        "evidence_insufficient",
    ],
)
def test_reject_with_each_reason(client, accounts, hit_id, reason):
    h = accounts.headers("boa")
    client.post(f"/api/v1/hits/{hit_id}/claim", headers=h)
    r = client.post(f"/api/v1/hits/{hit_id}/reject", json={"reason": reason}, headers=h)
    assert r.status_code == 200
    assert r.json()["status"] == "rejected"
    assert r.json()["reject_reason"] == reason


def test_reject_other_needs_a_note(client, accounts, hit_id):
    h = accounts.headers("boa")
    client.post(f"/api/v1/hits/{hit_id}/claim", headers=h)
    r = client.post(f"/api/v1/hits/{hit_id}/reject", json={"reason": "other"}, headers=h)
    assert r.status_code == 422
    assert "needs a note" in r.json()["detail"]
    r = client.post(f"/api/v1/hits/{hit_id}/reject", json={"reason": "bogus"}, headers=h)
    assert r.status_code == 422
    r = client.post(
        f"/api/v1/hits/{hit_id}/reject",
        json={"reason": "other", "note": "bord ontbreekt"},
        headers=h,
    )
    assert r.status_code == 200
    assert r.json()["decision_note"] == "bord ontbreekt"


def test_decided_hits_are_final(client, accounts, hit_id):
    h = accounts.headers("boa")
    client.post(f"/api/v1/hits/{hit_id}/claim", headers=h)
    client.post(f"/api/v1/hits/{hit_id}/reject", json={"reason": "driver_present"}, headers=h)
    for action, body in (
        ("claim", None),
        ("confirm", {"mode": "remote"}),
        ("reject", {"reason": "other", "note": "x"}),
        ("release", None),
    ):
        r = client.post(f"/api/v1/hits/{hit_id}/{action}", json=body, headers=h)
        assert r.status_code == 409, action
        assert "rejected" in r.json()["detail"]


def test_backoffice_reads_but_cannot_decide(client, accounts, hit_id):
    h = accounts.headers("backoffice")
    assert client.get(f"/api/v1/hits/{hit_id}", headers=h).status_code == 200
    assert client.post(f"/api/v1/hits/{hit_id}/claim", headers=h).status_code == 403


# --------------------------------------------------------------------------- corrections
def test_correct_plate_keeps_the_original_and_rechecks(client, accounts, hit_id, rights):
    h = accounts.headers("boa")
    client.post(f"/api/v1/hits/{hit_id}/claim", headers=h)
    rights.rights["GZ128T"] = RightsResult(True, "permit", "p-1", None)
    url = f"/api/v1/hits/{hit_id}/correct-plate"
    no_reason = client.post(url, json={"plate": "gz-128-t"}, headers=h)
    assert no_reason.status_code == 422
    unchecked = client.post(url, json={"plate": "gz-128-t", "reason": "8 gelezen"}, headers=h)
    assert (unchecked.status_code, unchecked.json()["code"]) == (422, "plate_differs_from_read")
    body = {"plate": "gz-128-t", "reason": "plaat vuil, 8 als 3", "confirm_different": True}
    r = client.post(url, json=body, headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["allowed"] is True
    assert body["hit"]["plate"] == "GZ128T"
    assert body["hit"]["original_plate"] == "GZ123T"
    assert body["hit"]["rights_checks"][-1]["source"] == "correction"
    assert "GZ123T -> GZ128T" in body["hit"]["history"][-1]["detail"]
    assert body["hit"]["history"][-1]["detail"].endswith("reason: plaat vuil, 8 als 3")
    audit = client.get(
        "/api/v1/audit",
        params={"target_type": "hit", "target_id": hit_id},
        headers=accounts.headers("backoffice"),
    ).json()["data"]
    assert audit
    assert not [a for a in audit if "GZ123T" in a["detail"] or "GZ128T" in a["detail"]]
    bad = client.post(url, json={"plate": "GZ<12", "reason": "typo"}, headers=h)
    assert bad.status_code == 422
    # a look-alike correction (Z for 2) needs no confirmation
    lookalike = client.post(url, json={"plate": "GZ1Z3T", "reason": "2 is een Z"}, headers=h)
    assert lookalike.status_code == 200, lookalike.text


# --------------------------------------------------------------------------- repeat, queue
def test_repeat_flag_for_same_plate_zone_and_day(client, accounts, app):
    first = post_hit(client, accounts.headers("device"))
    second = post_hit(
        client,
        accounts.headers("device"),
        captured_at=(CAPTURED_AT + timedelta(hours=2)).isoformat(),
    )
    other_zone = post_hit(client, accounts.headers("device"), zone_id="wijk-noord")
    grace(app, CAPTURED_AT + timedelta(hours=3))
    h = accounts.headers("boa")
    got = {
        hid: client.get(f"/api/v1/hits/{hid}", headers=h).json()["repeat"]
        for hid in (first, second, other_zone)
    }
    assert got == {first: True, second: True, other_zone: False}


def test_queue_nearest_first_with_distance(client, accounts, app):
    far = post_hit(client, accounts.headers("device"), lon=4.3700, lat=52.0116)
    near = post_hit(client, accounts.headers("device"), lon=4.3582, lat=52.0116)
    grace(app, after_grace())
    r = client.get(
        "/api/v1/hits",
        params={"status": "awaiting_review", "lon": 4.3581, "lat": 52.0116},
        headers=accounts.headers("boa"),
    )
    assert r.status_code == 200
    data = r.json()["data"]
    assert [d["id"] for d in data] == [near, far]
    assert data[0]["distance_m"] < 10
    assert 700 < data[1]["distance_m"] < 900


def test_on_site_photo_is_added_as_evidence(client, accounts, hit_id):
    h = accounts.headers("boa")
    client.post(f"/api/v1/hits/{hit_id}/claim", headers=h)
    photo = make_image(42, (640, 480))
    r = client.post(
        f"/api/v1/hits/{hit_id}/photos", files={"photo": ("p.jpg", photo, "image/jpeg")}, headers=h
    )
    assert r.status_code == 201, r.text
    names = {e["name"]: e["kind"] for e in r.json()["evidence"]}
    assert names["onsite-1"] == "on_site"
    got = client.get(f"/api/v1/hits/{hit_id}/evidence/onsite-1", headers=h)
    assert got.content == photo
    bad = client.post(
        f"/api/v1/hits/{hit_id}/photos",
        files={"photo": ("p.jpg", b"not an image", "image/jpeg")},
        headers=h,
    )
    assert bad.status_code == 422


def test_evidence_store_path_is_content_addressed(tmp_path):
    store = EvidenceStore(tmp_path)
    digest, created = store.put(b"abc")
    assert created
    assert store.put(b"abc") == (digest, False)
    assert store.path_for(digest).relative_to(tmp_path).parts[:2] == (digest[:2], digest[2:4])
