"""Residents' own permits through the API (/api/v1/me/...): applying at an address (the area
from the zones), the desk's decision, privacy between residents, plate change, ending, and
visitor sessions that are rights for the scan cars at once."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tests.api.permits_support import NOORD, ZUID, check, now
from tests.conftest import REPO

ADDRESSES = REPO / "fixtures" / "addresses" / "town.csv"


@pytest.fixture
def addresses(engine) -> None:  # type: ignore[no-untyped-def]
    from api.db import session_scope
    from api.residents.addresses import import_addresses, read_addresses

    with session_scope(engine) as session:
        import_addresses(session, read_addresses(ADDRESSES.read_text(encoding="utf-8")))


def _address(client, headers, postcode: str, number: int) -> int:  # type: ignore[no-untyped-def]
    r = client.get(
        "/api/v1/me/addresses",
        params={"postcode": postcode, "house_number": number},
        headers=headers,
    )
    assert r.status_code == 200, r.text
    return int(r.json()[0]["id"])


def _apply(client, headers, **body):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/me/applications", json=body, headers=headers)


def _grant(client, bo, permit_id: str) -> dict:  # type: ignore[no-untyped-def]
    app_id = client.get(f"/api/v1/permits/{permit_id}", headers=bo).json()["application_id"]
    r = client.post(
        f"/api/v1/permit-applications/{app_id}/decide",
        json={"decision": "grant", "reason": "voldoet aan de regels"},
        headers=bo,
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_resident_applies_and_only_they_see_the_permit(client, accounts, bo, town, addresses):
    jan = accounts.headers("resident")
    piet = {"Authorization": f"Bearer {accounts.login(accounts.user('resident'))}"}
    address = _address(client, jan, "9991 aa", 1)  # Lindelaan 1, in Noord
    r = _apply(client, jan, type="resident", address_id=address, plates=["gz-123-t"])
    assert r.status_code == 201, r.text
    mine = r.json()
    assert (mine["status"], mine["area_codes"], mine["plates"]) == (
        "in_review",
        ["9999_NOORD"],
        ["GZ123T"],
    )
    assert mine["address"] == "Lindelaan 1, 9991 AA Voorbeeldstad"
    pid = mine["id"]
    assert _grant(client, bo, pid)["status"] == "active"
    assert client.get(f"/api/v1/me/permits/{pid}", headers=jan).json()["status"] == "active"
    assert check(client, bo, "GZ123T", NOORD)["allowed"] is True
    # another resident: not found in their own list, 404 by id, 403 on the back office's API
    assert client.get("/api/v1/me/permits", headers=piet).json() == []
    other = client.get(f"/api/v1/me/permits/{pid}", headers=piet)
    assert (other.status_code, other.json()["code"]) == (404, "not_found")
    assert client.get(f"/api/v1/permits/{pid}", headers=piet).status_code == 403
    assert client.post(f"/api/v1/me/permits/{pid}/end", headers=piet).status_code == 404
    # a second application of the same type for the same address is refused
    again = _apply(client, jan, type="resident", address_id=address, plates=["XK52GV"])
    assert (again.status_code, again.json()["code"]) == (409, "already_applied")


def test_resident_application_needs_an_address_in_a_permit_area(client, accounts, town, addresses):
    jan = accounts.headers("resident")
    blue = _address(client, jan, "9994XA", 1)  # Westsingel: blue zone, no permits
    r = _apply(client, jan, type="resident", address_id=blue, plates=["GZ123T"])
    assert (r.status_code, r.json()["code"]) == (422, "address_outside_permit_area")
    assert "Westsingel 1" in r.json()["detail"]
    zuid = _address(client, jan, "9993NA", 1)  # Zuidwal: Zuid takes no care permits
    r = _apply(client, jan, type="care", address_id=zuid, plates=["GZ123T"], cared_for_name="Oma")
    assert r.json()["code"] == "address_outside_permit_area"
    r = _apply(client, jan, type="business", address_id=zuid, plates=["GZ123T"])
    assert r.status_code == 422
    r = _apply(client, jan, type="resident", address_id=zuid, plates=[])
    assert r.json()["code"] == "plates_count"
    bad = client.get(
        "/api/v1/me/addresses", params={"postcode": "12", "house_number": 1}, headers=jan
    )
    assert (bad.status_code, bad.json()["code"]) == (422, "bad_postcode")


def test_resident_changes_the_plate_and_ends_the_permit(client, accounts, bo, town, addresses):
    jan = accounts.headers("resident")
    address = _address(client, jan, "9993NA", 1)
    pid = _apply(client, jan, type="resident", address_id=address, plates=["GZ123T"]).json()["id"]
    _grant(client, bo, pid)
    r = client.post(
        f"/api/v1/me/permits/{pid}/change-plate",
        json={"old_plate": "GZ-123-T", "new_plate": "XK-52-GV"},
        headers=jan,
    )
    assert r.status_code == 200, r.text
    assert r.json()["plates"] == ["XK52GV"]
    later = now() + timedelta(minutes=1)
    assert check(client, bo, "XK52GV", ZUID, later)["allowed"] is True
    assert check(client, bo, "GZ123T", ZUID, later)["allowed"] is False
    r = client.post(f"/api/v1/me/permits/{pid}/end", headers=jan)
    assert r.json()["status"] == "expired"
    assert check(client, bo, "XK52GV", ZUID, later)["allowed"] is False


def test_resident_visitor_session_is_a_right_at_once(client, accounts, bo, town, addresses):
    jan = accounts.headers("resident")
    address = _address(client, jan, "9991AA", 1)
    pid = _apply(client, jan, type="visitor", address_id=address).json()["id"]
    assert _grant(client, bo, pid)["status"] == "active"
    mine = client.get(f"/api/v1/me/permits/{pid}", headers=jan).json()
    assert mine["visitor_remaining_minutes"] == 40 * 60
    car = accounts.headers("device")
    snapshot = client.get("/api/v1/rights/snapshot", headers=car)
    cursor = json.loads(snapshot.text.strip().splitlines()[-1])["cursor"]
    end = now() + timedelta(hours=2)
    r = client.post(
        f"/api/v1/me/permits/{pid}/visitor-sessions",
        json={"plate": "ab-12-cd", "end": end.isoformat()},
        headers=jan,
    )
    assert (r.status_code, r.json()["code"]) == (422, "not_dutch_plate")  # no Dutch series
    r = client.post(
        f"/api/v1/me/permits/{pid}/visitor-sessions",
        json={"plate": "ab-12-cd", "end": end.isoformat(), "foreign": True},
        headers=jan,
    )
    assert r.status_code == 201, r.text
    visit = r.json()
    assert visit["remaining_minutes"] == 40 * 60 - visit["charged_minutes"]
    assert check(client, bo, "AB12CD", NOORD)["reason"] == "visitor"
    # the cars' change feed has it too (as a keyed plate, never the plate itself)
    feed = client.get("/api/v1/rights/changes", params={"since": cursor}, headers=car).json()
    put = [c for c in feed["changes"] if c["right_id"] == visit["right_id"]]
    assert [c["op"] for c in put] == ["upsert"]
    assert put[0]["right"]["area_codes"] == ["9999_NOORD"]
    assert "AB12CD" not in json.dumps(feed)
    r = client.post(f"/api/v1/me/permits/{pid}/visitor-sessions/{visit['id']}/stop", headers=jan)
    assert r.status_code == 200, r.text
    assert check(client, bo, "AB12CD", NOORD, now() + timedelta(minutes=2))["allowed"] is False
    piet = {"Authorization": f"Bearer {accounts.login(accounts.user('resident'))}"}
    r = client.post(
        f"/api/v1/me/permits/{pid}/visitor-sessions",
        json={"plate": "AB12CD", "end": end.isoformat()},
        headers=piet,
    )
    assert r.status_code == 404
