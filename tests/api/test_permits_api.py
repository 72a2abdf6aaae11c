"""Permits through the API: create, lifecycle actions, plate change, applications with the
quota and waiting list, provider sessions (idempotent, own sessions only), visitor sessions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from api.audit.db import AuditRow
from api.permits.db import PermitEventRow
from tests.api.permits_support import NOORD, check, iso, now, permit_body


def test_permits_create_returns_active_permit_with_normalised_plates(client, bo):
    r = client.post("/api/v1/permits", json=permit_body(plates=["gz-123-t"]), headers=bo)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "active"
    assert body["plates"] == ["GZ123T"]
    assert body["area_codes"] == ["9999_NOORD"]
    got = client.get(f"/api/v1/permits/{body['id']}", headers=bo).json()
    assert got["events"][0]["action"] == "create"
    assert got["allowed_actions"] == ["suspend", "revoke", "expire", "change_plate"]
    listed = client.get("/api/v1/permits", params={"plate": "GZ-123-T"}, headers=bo).json()
    assert [p["id"] for p in listed["data"]] == [body["id"]]
    assert listed["count"] == 1


@pytest.mark.parametrize(
    ("body_change", "status"),
    [
        ({"valid_from": "2026-01-01T00:00:00"}, 422),  # naive time
        ({"type": "parking"}, 422),
        ({"area_codes": []}, 422),  # resident permits need an area
        ({"plates": ["!!"]}, 422),
    ],
)
def test_permits_create_refuses_bad_bodies(client, bo, body_change, status):
    r = client.post("/api/v1/permits", json=permit_body() | body_change, headers=bo)
    assert r.status_code == status, r.text
    assert set(r.json()) == {"detail", "code"}


def test_permits_lifecycle_actions_change_the_rights_check(client, bo, accounts, town, engine):
    boa = accounts.headers("boa")
    pid = client.post("/api/v1/permits", json=permit_body(), headers=bo).json()["id"]
    first = check(client, boa, "gz-123-t", NOORD)
    assert (first["allowed"], first["reason"], first["right_id"]) == (
        True,
        "permit",
        f"permit:{pid}:0",
    )
    assert first["zone"]["id"] == "noord"

    r = client.post(f"/api/v1/permits/{pid}/suspend", json={"reason": "unpaid"}, headers=bo)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "suspended"
    assert check(client, boa, "GZ123T", NOORD)["reason"] == "none"

    bad = client.post(f"/api/v1/permits/{pid}/suspend", json={"reason": "again"}, headers=bo)
    assert bad.status_code == 409
    assert bad.json()["code"] == "invalid_transition"
    assert "allowed actions: reinstate, revoke, expire" in bad.json()["detail"]

    r = client.post(f"/api/v1/permits/{pid}/reinstate", json={"reason": "paid"}, headers=bo)
    assert r.json()["status"] == "active"
    assert check(client, boa, "GZ123T", NOORD)["allowed"] is True

    r = client.post(
        f"/api/v1/permits/{pid}/change-plate",
        json={"old_plate": "GZ-123-T", "new_plate": "XK-52-GV", "reason": "new car"},
        headers=bo,
    )
    assert r.status_code == 200, r.text
    assert r.json()["plates"] == ["XK52GV"]
    later = now() + timedelta(minutes=1)
    assert check(client, boa, "XK52GV", NOORD, later)["right_id"] == f"permit:{pid}:1"
    assert check(client, boa, "GZ123T", NOORD, later)["reason"] == "none"

    r = client.post(f"/api/v1/permits/{pid}/revoke", json={"reason": "moved away"}, headers=bo)
    assert r.json()["status"] == "revoked"
    assert r.json()["allowed_actions"] == []
    assert check(client, boa, "XK52GV", NOORD, later)["reason"] == "none"

    with Session(engine) as s:
        actions = [
            e.action
            for e in s.exec(
                select(PermitEventRow)
                .where(PermitEventRow.permit_id == pid)
                .order_by(PermitEventRow.id)
            )
        ]
        audit = [a.action for a in s.exec(select(AuditRow).where(AuditRow.target_id == pid))]
    assert actions == ["create", "suspend", "reinstate", "change_plate", "revoke"]
    assert audit == [
        "permit.created",
        "permit.suspend",
        "permit.reinstate",
        "permit.change_plate",
        "permit.revoke",
    ]


def test_permits_patch_changes_validity_with_a_reason(client, bo, accounts, town):
    boa = accounts.headers("boa")
    pid = client.post("/api/v1/permits", json=permit_body(), headers=bo).json()["id"]
    end = now() - timedelta(minutes=5)
    r = client.patch(
        f"/api/v1/permits/{pid}", json={"valid_to": iso(end), "reason": "ended"}, headers=bo
    )
    assert r.status_code == 200, r.text
    assert r.json()["events"][-1]["action"] == "update"
    assert check(client, boa, "GZ123T", NOORD)["reason"] == "none"
    assert check(client, boa, "GZ123T", NOORD, end)["allowed"] is True
    missing = client.patch(f"/api/v1/permits/{pid}", json={"holder": "x"}, headers=bo)
    assert missing.status_code == 422


def _apply(client, bo, plate: str):
    body = permit_body(plates=[plate]) | {
        "applicant": {"name": "A. Jansen", "address": "Noordstraat 1"},
        "documents": [{"ref": "doc-1", "kind": "proof_of_address"}],
    }
    r = client.post("/api/v1/permit-applications", json=body, headers=bo)
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "in_review"
    return r.json()["id"]


def _decide(client, bo, app_id: int, decision: str = "grant"):
    r = client.post(
        f"/api/v1/permit-applications/{app_id}/decide",
        json={"decision": decision, "reason": "checked documents"},
        headers=bo,
    )
    return r


def test_permits_quota_and_waiting_list_through_the_api(client, bo, accounts, town):
    boa = accounts.headers("boa")
    r = client.put("/api/v1/permit-quotas/9999_NOORD", json={"capacity": 1}, headers=bo)
    assert r.status_code == 200, r.text
    a1, a2, a3 = (_apply(client, bo, p) for p in ("AA11AA", "BB22BB", "CC33CC"))

    first = _decide(client, bo, a1).json()
    assert (first["status"], first["waiting_list_position"]) == ("active", None)
    second = _decide(client, bo, a2).json()
    assert (second["status"], second["waiting_list_position"]) == ("waitlisted", 1)
    third = _decide(client, bo, a3).json()
    assert (third["status"], third["waiting_list_position"]) == ("waitlisted", 2)
    assert (
        client.get(f"/api/v1/permit-applications/{a3}", headers=bo).json()["waiting_list_position"]
        == 2
    )
    # a direct grant may not jump the queue
    full = client.post("/api/v1/permits", json=permit_body(plates=["DD44DD"]), headers=bo)
    assert full.status_code == 409
    assert full.json()["code"] == "area_quota_full"
    assert full.json()["detail"].startswith(
        "area '9999_NOORD' is full: its quota is 1 place, 1 held, 2 waiting;"
    )
    # granting a waiting application by hand is refused while no place is free
    assert _decide(client, bo, a3).status_code == 409
    assert check(client, boa, "BB22BB", NOORD)["reason"] == "none"

    # revoking the holder frees its place for the first in line (FIFO)
    holder = first["permit_id"]
    client.post(f"/api/v1/permits/{holder}/revoke", json={"reason": "moved"}, headers=bo)
    second = client.get(f"/api/v1/permit-applications/{a2}", headers=bo).json()
    third = client.get(f"/api/v1/permit-applications/{a3}", headers=bo).json()
    assert (second["status"], second["waiting_list_position"]) == ("active", None)
    assert (third["status"], third["waiting_list_position"]) == ("waitlisted", 1)
    assert check(client, boa, "BB22BB", NOORD)["allowed"] is True

    refused = _decide(client, bo, a3, "refuse").json()
    assert (refused["status"], refused["waiting_list_position"]) == ("refused", None)
    quota = client.get("/api/v1/permit-quotas/9999_NOORD", headers=bo).json()
    assert (quota["holders"], quota["free_places"], quota["waiting"]) == (1, 0, [])


def test_permits_raising_the_quota_grants_waiting_applications(client, bo):
    client.put("/api/v1/permit-quotas/9999_NOORD", json={"capacity": 0}, headers=bo)
    a1 = _apply(client, bo, "AA11AA")
    assert _decide(client, bo, a1).json()["status"] == "waitlisted"
    quota = client.put("/api/v1/permit-quotas/9999_NOORD", json={"capacity": 1}, headers=bo)
    assert quota.json()["holders"] == 1
    assert client.get(f"/api/v1/permit-applications/{a1}", headers=bo).json()["status"] == (
        "active"
    )


def _session_body(psid: str = "abc-1", plate: str = "XK52GV", **extra):
    start = now() - timedelta(minutes=10)
    return {
        "provider_session_id": psid,
        "plate": plate,
        "area_code": "9999_CENTRUM",
        "start": iso(start),
        "end": None,
    } | extra


def test_permits_provider_sessions_are_idempotent_and_private(client, accounts, town):
    from tests.api.permits_support import CENTRUM

    p1 = accounts.login(accounts.user("provider"))
    p2 = accounts.login(accounts.user("provider"))
    h1 = {"Authorization": f"Bearer {p1}"}
    h2 = {"Authorization": f"Bearer {p2}"}
    boa = accounts.headers("boa")

    first = client.post("/api/v1/parking-sessions", json=_session_body(), headers=h1)
    assert first.status_code == 201, first.text
    again = client.post("/api/v1/parking-sessions", json=_session_body(), headers=h1)
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    sid = first.json()["id"]
    # the same provider session id of another provider is another session
    other = client.post("/api/v1/parking-sessions", json=_session_body(), headers=h2)
    assert other.status_code == 201
    assert other.json()["id"] != sid

    result = check(client, boa, "xk-52-gv", CENTRUM)
    assert (result["allowed"], result["reason"]) == (True, "paid")
    assert result["right_id"] in {first.json()["right_id"], other.json()["right_id"]}
    assert "XK52GV" not in first.json()["right_id"]

    assert client.get(f"/api/v1/parking-sessions/{sid}", headers=h2).status_code == 404
    assert client.post(f"/api/v1/parking-sessions/{sid}/stop", json={}, headers=h2).status_code == (
        404
    )
    assert (
        client.post("/api/v1/parking-sessions", json=_session_body(), headers=boa).status_code
        == 403
    )

    stop_at = now() - timedelta(minutes=5)
    stopped = client.post(
        f"/api/v1/parking-sessions/{sid}/stop", json={"at": iso(stop_at)}, headers=h1
    )
    assert stopped.status_code == 200, stopped.text
    assert stopped.json()["end"].startswith(stop_at.isoformat()[:19])
    client.post(f"/api/v1/parking-sessions/{other.json()['id']}/stop", json={}, headers=h2)
    assert check(client, boa, "XK52GV", CENTRUM, now() + timedelta(minutes=1))["reason"] == "none"


def test_permits_visitor_sessions_spend_and_refund_the_budget(client, bo, accounts, town):
    boa = accounts.headers("boa")
    body = permit_body(plates=[], permit_type="visitor", visitor_budget_minutes=120)
    pid = client.post("/api/v1/permits", json=body, headers=bo).json()["id"]
    start = now() - timedelta(minutes=10)
    r = client.post(
        f"/api/v1/permits/{pid}/visitor-sessions",
        json={"plate": "vv-11-vv", "start": iso(start), "end": iso(start + timedelta(minutes=90))},
        headers=bo,
    )
    assert r.status_code == 201, r.text
    assert (r.json()["charged_minutes"], r.json()["remaining_minutes"]) == (90, 30)
    assert check(client, boa, "VV11VV", NOORD)["reason"] == "visitor"
    over = client.post(
        f"/api/v1/permits/{pid}/visitor-sessions",
        json={"plate": "WW22WW", "start": iso(start), "end": iso(start + timedelta(minutes=31))},
        headers=bo,
    )
    assert over.status_code == 409
    assert over.json()["code"] == "visitor_budget_exceeded"
    assert "remaining balance is 30 minutes" in over.json()["detail"]
    stopped = client.post(
        f"/api/v1/permits/{pid}/visitor-sessions/{r.json()['id']}/stop",
        json={"at": iso(start + timedelta(minutes=5))},
        headers=bo,
    )
    assert (stopped.json()["charged_minutes"], stopped.json()["remaining_minutes"]) == (5, 115)
    assert check(client, boa, "VV11VV", NOORD)["reason"] == "none"

    # a visitor session gives a right only while its permit is active
    later = client.post(
        f"/api/v1/permits/{pid}/visitor-sessions",
        json={"plate": "XX33XX", "start": iso(start), "end": iso(start + timedelta(minutes=60))},
        headers=bo,
    )
    assert later.status_code == 201, later.text
    assert check(client, boa, "XX33XX", NOORD)["reason"] == "visitor"
    client.post(f"/api/v1/permits/{pid}/suspend", json={"reason": "abuse"}, headers=bo)
    assert check(client, boa, "XX33XX", NOORD)["reason"] == "none"
    client.post(f"/api/v1/permits/{pid}/reinstate", json={"reason": "ok"}, headers=bo)
    assert check(client, boa, "XX33XX", NOORD)["reason"] == "visitor"
