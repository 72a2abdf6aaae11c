"""A claim that ran out while the BOA was deciding: the decision renews it atomically when
nobody else took the hit; a colleague's claim wins; a hit never claimed still needs a claim."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import Session, col, select

from api.db import utcnow
from api.hits.db import HitEventRow, HitRow
from api.review import service
from tests.api.review_support import FakeRights, FakeZoneRules, post_hit, run_grace


@pytest.fixture
def app(settings, engine):
    from api.main import create_app

    return create_app(
        settings, engine=engine, rights_checker=FakeRights(), zone_rules=FakeZoneRules()
    )


@pytest.fixture
def hit_id(client, accounts, app):
    hid = post_hit(client, accounts.headers("device"))
    run_grace(app)
    return hid


def _run_out(engine, hid: int) -> None:
    with Session(engine) as s:
        s.execute(
            update(HitRow)
            .where(col(HitRow.id) == hid)
            .values(claimed_until=utcnow() - timedelta(seconds=5))
        )
        s.commit()


def _actions(engine, hid: int) -> list[tuple[str, str]]:
    with Session(engine) as s:
        rows = s.exec(
            select(HitEventRow).where(HitEventRow.hit_id == hid).order_by(col(HitEventRow.id))
        ).all()
        return [(r.action, r.detail) for r in rows]


def test_claims_a_run_out_claim_is_renewed_by_the_decision(client, accounts, engine, hit_id):
    boa = accounts.headers("boa")
    assert client.post(f"/api/v1/hits/{hit_id}/claim", headers=boa).status_code == 200
    _run_out(engine, hit_id)
    r = client.post(f"/api/v1/hits/{hit_id}/reject", json={"reason": "driver_present"}, headers=boa)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "rejected"
    assert ("claim", "renewed on submit") in _actions(engine, hit_id)


def test_claims_renewed_after_the_job_gave_the_hit_back(client, accounts, app, engine, hit_id):
    boa = accounts.headers("boa")
    client.post(f"/api/v1/hits/{hit_id}/claim", headers=boa)
    _run_out(engine, hit_id)
    with Session(engine) as s:
        assert service.expire_claims(s, utcnow()) == 1
    r = client.post(f"/api/v1/hits/{hit_id}/confirm", json={"mode": "remote"}, headers=boa)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "confirmed"
    assert [a for a, _ in _actions(engine, hit_id)][-3:] == ["expire", "claim", "confirm"]


def test_claims_a_colleague_who_took_the_hit_wins(client, accounts, engine, hit_id):
    boa = accounts.headers("boa")
    colleague = {"Authorization": f"Bearer {accounts.login(accounts.user('boa'))}"}
    client.post(f"/api/v1/hits/{hit_id}/claim", headers=boa)
    _run_out(engine, hit_id)
    assert client.post(f"/api/v1/hits/{hit_id}/claim", headers=colleague).status_code == 200
    r = client.post(f"/api/v1/hits/{hit_id}/reject", json={"reason": "driver_present"}, headers=boa)
    assert (r.status_code, r.json()["code"]) == (409, "claim_taken")
    state = client.get(f"/api/v1/hits/{hit_id}", headers=boa).json()
    assert state["status"] == "claimed"
    assert state["claimed_by"] != state.get("decided_by")


def test_claims_a_hit_never_claimed_still_needs_a_claim(client, accounts, engine, hit_id):
    other = {"Authorization": f"Bearer {accounts.login(accounts.user('boa'))}"}
    boa = accounts.headers("boa")
    # another BOA's claim ran out and the job gave the hit back: not ours to renew
    client.post(f"/api/v1/hits/{hit_id}/claim", headers=other)
    _run_out(engine, hit_id)
    with Session(engine) as s:
        service.expire_claims(s, utcnow())
    r = client.post(f"/api/v1/hits/{hit_id}/confirm", json={"mode": "remote"}, headers=boa)
    assert (r.status_code, r.json()["code"]) == (409, "invalid_transition")
