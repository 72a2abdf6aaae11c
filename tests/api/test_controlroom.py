"""The control room over HTTP, on both databases: the live picture (cars at their last
heartbeat, BOAs who share a fresh position, hits waiting for an officer on site in zones
without remote enforcement with their age), assigning such a hit to a BOA through the API and
the page (audited, refusals in Dutch), the BOA finding it first in the tablet queue and in
``/assigned``, location sharing on and off with stale positions never shown, and the roles."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from api.db import session_scope
from tests.api.review_support import FakeRights, post_hit, run_grace
from tests.api.test_admin_pages import _csrf, _login, _text
from tests.api.test_fines import TOWN


@pytest.fixture
def app(settings, engine):
    from api.main import create_app

    return create_app(settings, engine=engine, rights_checker=FakeRights())


def _user_id(engine, name: str) -> int:
    from sqlmodel import Session, select

    from api.auth.db import UserRow

    with Session(engine) as s:
        return s.exec(select(UserRow.id).where(UserRow.username == name)).one()


def test_controlroom_live_assign_and_the_boas_queue(app, client, accounts, engine):
    assert client.put("/api/v1/zones", json=TOWN, headers=accounts.headers("admin")).status_code
    device = accounts.headers("device")
    paid = post_hit(client, device, plate="AA11BB", zone_id="centrum")
    blue = post_hit(client, device, plate="BB22CC", zone_id="blauw", reason="max_stay_exceeded")
    blue2 = post_hit(client, device, plate="CC33DD", zone_id="blauw", reason="max_stay_exceeded")
    run_grace(app)
    boa_name = accounts.user("boa", name="boa-piet")
    other_boa = accounts.user("boa", name="boa-klaas")
    boa_id, other_id = _user_id(engine, boa_name), _user_id(engine, other_boa)
    coord = {"Authorization": f"Bearer {accounts.login(accounts.user('coordinator'))}"}
    piet = {"Authorization": f"Bearer {accounts.login(boa_name)}"}

    live = client.get("/api/v1/controlroom/live", headers=coord)
    assert live.status_code == 200, live.text
    waiting = live.json()["waiting"]
    assert [w["id"] for w in waiting] == [blue, blue2]  # the paid zone allows remote decisions
    assert all(w["waiting_s"] > 0 and w["assignment"] is None for w in waiting)
    assert paid not in [w["id"] for w in waiting]

    # sharing: a position is kept only while sharing is on, and only while fresh
    body = {"lon": 4.3581, "lat": 52.0116, "accuracy_m": 8}
    assert client.put("/api/v1/controlroom/position", json=body, headers=piet).status_code == 204
    assert client.get("/api/v1/controlroom/live", headers=coord).json()["boas"] == []
    assert client.put("/api/v1/controlroom/position/sharing", headers=piet).status_code == 204
    assert client.put("/api/v1/controlroom/position", json=body, headers=piet).status_code == 204
    boas = client.get("/api/v1/controlroom/live", headers=coord).json()["boas"]
    assert [(b["id"], b["lat"]) for b in boas] == [(boa_id, 52.0116)]
    from api.controlroom.db import BoaPositionRow

    with session_scope(engine) as s:  # 20 minutes old: past the 15-minute limit
        row = s.get(BoaPositionRow, boa_id)
        row.at = datetime.now(UTC) - timedelta(minutes=20)
        s.add(row)
    assert client.get("/api/v1/controlroom/live", headers=coord).json()["boas"] == []

    # assign through the API: refusals, then the BOA has it
    r = client.put(
        f"/api/v1/controlroom/hits/{blue2}/assignment", json={"boa_id": 999}, headers=coord
    )
    assert (r.status_code, r.json()["code"]) == (422, "not_a_boa")
    r = client.put(
        f"/api/v1/controlroom/hits/{blue2}/assignment", json={"boa_id": boa_id}, headers=coord
    )
    assert r.status_code == 200, r.text
    assert r.json()["boa_name"] == "boa-piet"
    assert client.get("/api/v1/controlroom/assigned", headers=piet).json() == [blue2]
    assert (
        client.put(
            f"/api/v1/controlroom/hits/{blue2}/assignment", json={"boa_id": boa_id}, headers=piet
        ).status_code
        == 403
    )

    # the BOA's tablet queue: the assigned hit first, marked, although it is not the oldest
    _login(client, boa_name)
    queue = client.get("/ui/queue")
    order = [int(i) for i in re.findall(r'href="/ui/hits/(\d+)"', queue.text)]
    assert order[0] == blue2
    assert set(order) == {paid, blue, blue2}
    assert "Voor u van de meldkamer" in _text(queue)
    _login(client, other_boa)
    other_order = [
        int(i) for i in re.findall(r'href="/ui/hits/(\d+)"', client.get("/ui/queue").text)
    ]
    assert other_order[0] == paid  # only its BOA sees it first

    # the control room's page: assign the other hit to Klaas, a refusal in Dutch first
    _login(client, accounts.user("coordinator", name="meldkamer-ans"))
    page = client.get("/ui/meldkamer")
    assert page.status_code == 200
    text = _text(page)
    assert "Wacht op een handhaver ter plaatse" in text
    assert "Blauwe zone West" in text
    assert f'id="assigned-{blue2}"' in page.text
    csrf = _csrf(page.text)
    for data in ({"csrf": csrf}, {"csrf": csrf, "boa_id": ""}):  # nobody chosen
        bad = client.post(f"/ui/meldkamer/meldingen/{blue}/toewijzen", data=data)
        assert bad.status_code == 422
        assert "Kies een handhaver voor deze melding." in _text(bad)
        assert "Vul dit veld in." not in _text(bad)
    done = client.post(
        f"/ui/meldkamer/meldingen/{blue}/toewijzen",
        data={"csrf": csrf, "boa_id": str(other_id)},
        follow_redirects=False,
    )
    assert done.status_code == 303
    shown = _text(client.get("/ui/meldkamer"))
    assert f"Melding {blue} is toegewezen aan boa-klaas." in shown
    live = client.get("/ui/meldkamer/live.json").json()
    assert {h["id"]: h["assigned_to"] for h in live["hits"]} == {
        blue: "boa-klaas",
        blue2: "boa-piet",
    }
    assert live["hits"][0]["zone"] == "Blauwe zone West"
    assert "plate" not in live["hits"][0]
    assert client.get("/ui/meldkamer/zones.geojson").json()["type"] == "FeatureCollection"
    back = client.post(
        f"/ui/meldkamer/meldingen/{blue}/intrekken", data={"csrf": csrf}, follow_redirects=False
    )
    assert back.status_code == 303
    assert "De toewijzing van melding" in _text(client.get("/ui/meldkamer"))

    # audited with the BOA's name, never a plate
    _login(client, accounts.user("admin"))
    audit = _text(client.get("/ui/audit", params={"action": "hit.*"}))
    assert "Melding toegewezen aan een handhaver" in audit
    assert "aan boa-klaas" in audit
    assert "Toewijzing van melding ingetrokken" in audit
    assert "BB22CC" not in audit

    # a decided hit leaves the board and the BOA's list
    piet_claim = client.post(f"/api/v1/hits/{blue2}/claim", headers=piet)
    assert piet_claim.status_code == 200
    body = {"mode": "on_site", "lon": 4.3581, "lat": 52.0116}
    client.post(f"/api/v1/hits/{blue2}/confirm", json=body, headers=piet)
    assert client.get("/api/v1/controlroom/assigned", headers=piet).json() == []
    assert [
        w["id"] for w in client.get("/api/v1/controlroom/live", headers=coord).json()["waiting"]
    ] == [blue]


def test_boa_shares_location_from_the_queue_page(app, client, accounts):
    boa = accounts.user("boa", name="boa-deelt")
    _login(client, boa)
    page = client.get("/ui/queue")
    assert "U deelt uw locatie niet met de meldkamer." in _text(page)
    csrf = _csrf(page.text)
    on = client.post("/ui/locatie", data={"csrf": csrf, "delen": "1"}, follow_redirects=False)
    assert on.status_code == 303
    shared = _text(client.get("/ui/queue"))
    assert "Uw locatie wordt gedeeld met de meldkamer" in shared
    assert 'data-sharing="1"' in client.get("/ui/queue").text
    pos = client.post("/ui/locatie/positie", data={"csrf": csrf, "lon": "4.36", "lat": "52.01"})
    assert pos.status_code == 204
    assert client.post("/ui/locatie/positie", data={"csrf": csrf, "lat": "95"}).status_code == 422
    assert (
        client.post("/ui/locatie/positie", data={"lon": "4.36", "lat": "52.01"}).status_code == 403
    )
    client.post("/ui/locatie", data={"csrf": csrf, "delen": "0"})
    assert (
        client.post(
            "/ui/locatie/positie", data={"csrf": csrf, "lon": "4.36", "lat": "52.01"}
        ).status_code
        == 409
    )
    _login(client, accounts.user("backoffice"))
    assert client.get("/ui/meldkamer").status_code == 200
    assert (
        client.post("/ui/locatie", data={"delen": "1"}, follow_redirects=False).status_code == 403
    )


def test_the_background_tick_clears_stale_positions_of_silent_boas(app, client, accounts, engine):
    from api.controlroom.db import BoaPositionRow
    from api.retention.jobs import tick

    stale_name, fresh_name = accounts.user("boa"), accounts.user("boa")
    body = {"lon": 4.3581, "lat": 52.0116, "accuracy_m": 8}
    for name in (stale_name, fresh_name):
        h = {"Authorization": f"Bearer {accounts.login(name)}"}
        assert client.put("/api/v1/controlroom/position/sharing", headers=h).status_code == 204
        assert client.put("/api/v1/controlroom/position", json=body, headers=h).status_code == 204
    stale, fresh = _user_id(engine, stale_name), _user_id(engine, fresh_name)
    with session_scope(engine) as s:  # the stale BOA went silent 16 minutes ago (limit 15)
        row = s.get(BoaPositionRow, stale)
        row.at = datetime.now(UTC) - timedelta(minutes=16)
        s.add(row)

    tick(app.state.backend)  # nobody sends a position in between

    with session_scope(engine) as s:
        old, new = s.get(BoaPositionRow, stale), s.get(BoaPositionRow, fresh)
        assert (old.lon, old.lat, old.accuracy_m, old.at) == (None, None, None, None)
        assert old.since is not None  # still sharing: the next position is stored
        assert (new.lon, new.lat) == (4.3581, 52.0116)
