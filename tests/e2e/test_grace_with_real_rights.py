"""The grace step with the real rights data: a paid session started within the zone's grace
period dismisses the hit and deletes its evidence; without one the hit goes to review."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlmodel import Session, select

from api.hits.db import EvidenceRow
from api.review import service
from tests.conftest import REPO
from tests.factories import CAPTURED_AT, multipart, observation

TOWN = REPO / "fixtures" / "zones" / "town.geojson"
CENTRUM = {"lon": 4.3600, "lat": 52.0100, "zone_id": "centrum"}  # Thursday 11:15 local: paid


def _post(client, device, plate):
    meta, parts = observation(plate=plate, **CENTRUM)
    r = client.post("/api/v1/observations", files=multipart(meta, parts), headers=device)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_grace_with_real_paid_session_dismisses_and_deletes(
    client, accounts, app, engine, settings
):
    assert (
        client.put(
            "/api/v1/zones", json=json.loads(TOWN.read_text()), headers=accounts.headers("admin")
        ).status_code
        == 201
    )
    device = accounts.headers("device")
    late_payer = _post(client, device, "XK52GV")
    no_right = _post(client, device, "GZ123T")
    # the driver starts paying 6 minutes after the scan car passed (centrum grace: 10 min)
    r = client.post(
        "/api/v1/parking-sessions",
        headers=accounts.headers("provider"),
        json={
            "provider_session_id": "app-42",
            "plate": "XK-52-GV",
            "area_code": "9999_CENTRUM",
            "start": (CAPTURED_AT + timedelta(minutes=6)).isoformat(),
            "end": None,
        },
    )
    assert r.status_code == 201, r.text
    report = service.run_grace_step(
        engine,
        app.state.backend.evidence_store,
        app.state.backend.rights_checker,
        app.state.backend.zone_rules,
        settings,
        now=CAPTURED_AT + timedelta(minutes=11),
    )
    assert (report.dismissed, report.to_review) == (1, 1)
    boa = accounts.headers("boa")
    dismissed = client.get(f"/api/v1/hits/{late_payer}", headers=boa).json()
    assert dismissed["status"] == "dismissed"
    assert dismissed["rights_checks"][-1]["reason"] == "late_payment_within_grace"
    assert client.get(f"/api/v1/hits/{no_right}", headers=boa).json()["status"] == (
        "awaiting_review"
    )
    with Session(engine) as s:
        assert s.exec(select(EvidenceRow).where(EvidenceRow.hit_id == late_payer)).all() == []
        assert len(s.exec(select(EvidenceRow).where(EvidenceRow.hit_id == no_right)).all()) == 2
