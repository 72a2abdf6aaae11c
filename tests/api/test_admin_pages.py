"""The administrator's and back office's management pages over HTTP, on both databases:
users (create with a role, refusals in Dutch with the typed values kept, password reset,
disable ending the user's sessions at once, role change, no self-lockout), the audit log in
Dutch with its filters, and the scan cars with their flags, the silent warning and revoking."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from html import unescape

from api.ui.session import COOKIE


def _login(client, name: str, password: str = "correct-horse-1") -> str:
    client.cookies.clear()
    r = client.post(
        "/ui/login", data={"username": name, "password": password}, follow_redirects=False
    )
    assert r.status_code == 303, unescape(r.text)[-2000:]
    client.cookies.set(COOKIE, r.cookies[COOKIE], path="/ui")
    return r.cookies[COOKIE]


def _csrf(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, "no CSRF token on the page"
    return m.group(1)


def _text(r) -> str:
    return unescape(re.sub(r"\s+", " ", r.text))


def test_users_pages_create_refuse_reset_disable_and_role(client, accounts):
    admin = accounts.user("admin", name="beheer-anna")
    _login(client, admin)
    page = client.get("/ui/gebruikers/nieuw")
    assert page.status_code == 200
    csrf = _csrf(page.text)

    bad = client.post(
        "/ui/gebruikers/nieuw",
        data={"csrf": csrf, "username": "jan de boa", "full_name": "Jan de Vries",
              "role": "boa", "password": "kort"},
    )  # fmt: skip
    assert bad.status_code == 422
    text = _text(bad)
    assert "Een gebruikersnaam heeft 1 tot 64 tekens" in text
    assert 'href="#new-username"' in bad.text  # the summary links to the field
    assert 'value="Jan de Vries"' in bad.text  # typed values kept, the password not
    assert "kort" not in re.findall(r'value="([^"]*)"', bad.text)

    short = client.post(
        "/ui/gebruikers/nieuw",
        data={"csrf": csrf, "username": "jan.devries", "role": "boa", "password": "kort"},
    )
    assert short.status_code == 422
    assert "Het wachtwoord moet minstens 10 tekens hebben." in _text(short)

    made = client.post(
        "/ui/gebruikers/nieuw",
        data={"csrf": csrf, "username": "jan.devries", "full_name": "Jan de Vries",
              "role": "boa", "badge_number": "BOA-17", "password": "eerste-wachtwoord"},
        follow_redirects=False,
    )  # fmt: skip
    assert made.status_code == 303, _text(made)[-1500:]
    user_url = made.headers["location"]
    shown = client.get(user_url)
    assert "Gebruiker jan.devries is aangemaakt" in _text(shown)
    assert "Handhaver (BOA)" in shown.text

    twice = client.post(
        "/ui/gebruikers/nieuw",
        data={"csrf": csrf, "username": "jan.devries", "role": "boa", "password": "x" * 12},
    )
    assert twice.status_code == 409
    assert "Er is al een gebruiker met de naam jan.devries" in _text(twice)

    # the new BOA is signed in on a tablet ...
    from fastapi.testclient import TestClient

    with TestClient(client.app) as tablet:
        _login(tablet, "jan.devries", "eerste-wachtwoord")
        assert tablet.get("/ui/queue").status_code == 200
        listing = client.get("/ui/gebruikers")
        row = re.search(r'data-username="jan.devries".*?</tr>', listing.text, re.S)
        assert row
        assert "Ingelogd" in row.group(0)

        # ... a password reset ends that session
        user_id = int(user_url.rsplit("/", 1)[1])
        reset = client.post(
            f"{user_url}/wachtwoord", data={"csrf": csrf, "password": "tweede-wachtwoord"}
        )
        assert reset.status_code == 200  # followed the redirect
        assert "overal uitgelogd" in _text(reset)
        gone = tablet.get("/ui/queue", follow_redirects=False)
        assert (gone.status_code, gone.headers["location"].split("?")[0]) == (303, "/ui/login")
        _login(tablet, "jan.devries", "tweede-wachtwoord")
        assert tablet.get("/ui/queue").status_code == 200

        # disabling ends the session at once; the API token is refused too
        token = accounts.login("jan.devries", "tweede-wachtwoord")
        off = client.post(f"{user_url}/uitschakelen", data={"csrf": csrf})
        assert "uitgeschakeld en meteen overal uitgelogd" in _text(off)
        assert tablet.get("/ui/queue", follow_redirects=False).status_code == 303
        me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 401
        back = client.post(f"{user_url}/inschakelen", data={"csrf": csrf})
        assert "kan weer inloggen" in _text(back)

        # a role change
        _login(tablet, "jan.devries", "tweede-wachtwoord")
        role = client.post(f"{user_url}/rol", data={"csrf": csrf, "role": "coordinator"})
        assert "Coördinator meldkamer" in _text(role)
        assert tablet.get("/ui/queue", follow_redirects=False).status_code == 303
        assert user_id > 0

    # no self-lockout
    me_id = re.search(r'href="/ui/gebruikers/(\d+)">beheer-anna', client.get("/ui/gebruikers").text)
    assert me_id
    self_off = client.post(f"/ui/gebruikers/{me_id.group(1)}/uitschakelen", data={"csrf": csrf})
    assert self_off.status_code == 409
    assert "U kunt uw eigen account niet uitschakelen" in _text(self_off)
    other_role = client.post(
        f"/ui/gebruikers/{me_id.group(1)}/rol", data={"csrf": csrf, "role": "boa"}
    )
    assert other_role.status_code == 409

    # the audit log tells the story in Dutch, newest first, filtered by object
    log = client.get(f"/ui/audit?object=user&id={user_id}")
    assert log.status_code == 200
    actions = re.findall(r'class="utrecht-table__cell audit-action">([^<]+)<', log.text)
    assert actions == [
        "Rol gewijzigd",
        "Gebruiker weer toegang gegeven",
        "Gebruiker uitgeschakeld",
        "Ingelogd (API)",
        "Wachtwoord opnieuw ingesteld",
        "Gebruiker aangemaakt",
    ]
    text = _text(log)
    assert "Handhaver (BOA) → Coördinator meldkamer" in text
    assert "rol: Handhaver (BOA)" in text
    assert "1 sessie(s) beëindigd" in text
    assert f'href="/ui/gebruikers/{user_id}"' in log.text
    # every action of a family, by actor, and by a day range
    family = client.get("/ui/audit?action=user.*&actor=beheer-anna")
    assert len(re.findall(r'class="utrecht-table__row audit-row"', family.text)) == 5
    today = datetime.now(UTC).date()
    later = client.get(f"/ui/audit?van={today + timedelta(days=2)}")
    assert "Niets gevonden met deze filters." in _text(later)
    bad_day = client.get("/ui/audit?van=7-3-2026&tot=2026-01-01")
    assert bad_day.status_code == 422
    assert "Vul een geldige datum in" in _text(bad_day)
    api = client.get(
        "/api/v1/audit", params={"action": "user.*", "actor": "beheer-anna"},
        headers=accounts.headers("admin"),
    )  # fmt: skip
    assert api.json()["count"] == 5


def _beat(client, token: str, *, minutes_ago: float = 0.0, **health) -> None:
    body = {
        "sent_at": (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat(),
        "run_id": str(uuid.uuid4()),
        "lon": 4.3581,
        "lat": 52.0116,
        "counts": {"frames": 10, "checks": 1, "passes": 1},
        "outbox_backlog": 3,
        "software_version": "scancar-car/2.1",
        **health,
    }
    r = client.post(
        "/api/v1/devices/heartbeat", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert r.status_code == 204, r.text


def test_cars_page_flags_silent_cars_and_revokes(client, accounts):
    cam = {"name": "rechts", "state": "up", "fps": 9.8, "last_frame_age_s": 0.2, "frames": 10}
    gps = {"state": "ok", "fix_age_s": 0.5, "satellites": 8}
    fine = accounts.device("auto-noord")
    accounts.device("auto-zuid")  # never sent a heartbeat
    _beat(client, fine, cameras=[cam], gps=gps, rights_state="cache")
    _login(client, accounts.user("backoffice"))
    page = client.get("/ui/autos")
    assert page.status_code == 200
    text = _text(page)
    warning = re.search(r'id="silent-warning".*?</div>', page.text, re.S)
    assert warning
    assert "auto-zuid" in warning.group(0)
    assert "auto-noord" not in warning.group(0)
    assert "1 scanauto is te lang stil" in text
    north = re.search(
        r'<section class="app-card bo-car" id="device-(\d+)".*?</section>', page.text, re.S
    )
    assert north
    assert "auto-noord" in north.group(0)
    card = unescape(north.group(0))
    assert "In orde" in card
    assert "52.01160, 4.35810" in card
    assert "3 berichten" in card
    assert "rechts: werkt, 10 beelden/s" in card
    assert "positie" in card
    assert "8 satellieten" in card
    assert "scancar-car/2.1" in card

    # revoke: the car is refused from then on, the page and the audit log say so
    north_id = north.group(1)
    csrf = _csrf(page.text)
    done = client.post(f"/ui/autos/{north_id}/intrekken", data={"csrf": csrf})
    assert "De toegang van scanauto auto-noord is ingetrokken" in _text(done)
    assert re.search(r'id="revoked".*auto-noord', done.text, re.S)
    body = {"sent_at": datetime.now(UTC).isoformat(), "software_version": "x"}
    refused = client.post(
        "/api/v1/devices/heartbeat", json=body, headers={"Authorization": f"Bearer {fine}"}
    )
    assert refused.status_code == 401
    log = client.get(f"/ui/audit?object=device&id={north_id}")
    assert "Toegang scanauto ingetrokken" in _text(log)

    # the control room sees the cars but cannot revoke
    _login(client, accounts.user("coordinator"))
    seen = client.get("/ui/autos")
    assert seen.status_code == 200
    assert "Toegang intrekken" not in seen.text
    assert client.post(f"/ui/autos/{north_id}/intrekken", data={"csrf": "x"}).status_code == 403


def test_cars_page_shows_a_heartbeat_with_partial_health(client, accounts):
    """A car whose health lacks fields (older car software: no uptime, no clock, a GPS state
    without its age) is shown with what it did send, not a server error."""
    from sqlmodel import Session, col, select

    from api.devices.db import HeartbeatRow

    token = accounts.device("auto-oud")
    _beat(client, token)
    with Session(client.app.state.backend.engine) as s:
        row = s.exec(select(HeartbeatRow).order_by(col(HeartbeatRow.id).desc())).first()
        assert row is not None
        row.health = {"gps": {"state": "ok"}, "cameras": [], "rights_state": "cache"}
        s.add(row)
        s.commit()
    _login(client, accounts.user("backoffice"))
    page = client.get("/ui/autos")
    assert page.status_code == 200, page.text[-500:]
    card = unescape(page.text)
    assert "auto-oud" in card
    assert "satellieten" not in card
    assert "draait" not in card


def test_fine_export_and_hit_pages_show_names_not_codes(client, accounts, app, engine):
    """The zone's name (not its id) on the fines list, a fine and an export batch; the rights
    check made when the BOA confirmed says so in Dutch; no payments is a line, not item 1."""
    from api.db import session_scope
    from api.fines.tariffs import seed_default_tariffs
    from tests.api.test_fines import TOWN, Flow

    assert client.put("/api/v1/zones", json=TOWN, headers=accounts.headers("admin")).status_code
    with session_scope(engine) as s:
        seed_default_tariffs(s)
    flow = Flow(client, accounts, app)
    bo = accounts.headers("backoffice")
    hid = flow.confirmed_hit()
    fine_id = flow.fine_for(hid, bo)["id"]
    _login(client, accounts.user("backoffice", name="bo-names"))

    cell = '<td data-label="Zone" class="utrecht-table__cell">Centrum</td>'
    fines = client.get("/ui/fines")
    assert fines.status_code == 200
    assert cell in fines.text
    assert '<td data-label="Zone" class="utrecht-table__cell">centrum</td>' not in fines.text
    for junk, label in (({"status": "zzz"}, "Status"), ({"track": "x"}, "Spoor")):
        bad = client.get("/ui/fines", params=junk)  # never ignored: a Dutch 422
        assert bad.status_code == 422, junk
        assert f"Kies bij het filter '{label}' een van de mogelijkheden." in _text(bad)
        assert cell not in bad.text
    fine = client.get(f"/ui/fines/{fine_id}")
    assert fine.status_code == 200
    assert re.search(r"<dd>[^<]*· Centrum</dd>", fine.text), _text(fine)[:2000]
    assert '<p class="utrecht-paragraph app-muted" id="payments">Nog geen betalingen.' in fine.text
    assert '<li class="utrecht-ordered-list__item">Nog geen betalingen.' not in fine.text

    hit = _text(client.get(f"/ui/meldingen/{hid}"))
    assert "bij het bevestigen: geen recht gevonden" in hit
    assert "confirm:" not in hit

    csrf = _csrf(client.get("/ui/exports").text)
    assert client.post(f"/ui/fines/{fine_id}/issue", data={"csrf": csrf}).status_code == 200
    day = datetime.now(UTC).date()
    made = client.post(
        "/ui/exports",
        data={"csrf": csrf, "spoor": "tax", "van": (day - timedelta(days=1)).isoformat(),
              "tot": (day + timedelta(days=1)).isoformat()},
        follow_redirects=False,
    )  # fmt: skip
    assert made.status_code == 303, _text(made)[-1500:]
    batch = client.get(made.headers["location"])
    assert "1 boete" in _text(batch) or "Boetes 1" in _text(batch)
    assert '<td class="utrecht-table__cell">Centrum</td>' in batch.text


def test_dashboard_period_of_one_day_is_singular(client, accounts):
    _login(client, accounts.user("backoffice", name="bo-dag"))
    page = client.get("/ui/dashboard?days=1")
    assert page.status_code == 200
    text = _text(page)
    assert "laatste 1 dag<" in page.text or "laatste 1 dag " in text
    assert not re.search(r"(?<!\d)1 dagen", text)  # 91 dagen is fine
    assert ">7 dagen<" in page.text
