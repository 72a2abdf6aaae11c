"""Helpers for the permits and rights API tests: the fixture town and request bodies."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.conftest import REPO

TOWN = REPO / "fixtures" / "zones" / "town.geojson"
# points in the fixture town (lon, lat)
NOORD = (4.3580, 52.0160)  # permit zone 9999_NOORD (resident, visitor, care)
CENTRUM = (4.3570, 52.0100)  # paid zone 9999_CENTRUM
ZUID = (4.3580, 52.0070)  # permit zone 9999_ZUID (resident, visitor)
OUTSIDE = (4.3000, 52.0000)


def load_town(engine) -> None:  # type: ignore[no-untyped-def]
    from api.db import session_scope
    from api.zones.service import import_zones

    with session_scope(engine) as session:
        import_zones(session, json.loads(TOWN.read_text()), None, crs=None, fix=False)


def iso(t: datetime) -> str:
    return t.isoformat()


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def permit_body(
    plates: list[str] | None = None,
    areas: list[str] | None = None,
    permit_type: str = "resident",
    days: int = 30,
    **extra: Any,
) -> dict[str, Any]:
    start = now() - timedelta(days=1)
    body: dict[str, Any] = {
        "type": permit_type,
        "holder": extra.pop("holder", "H-001"),
        "plates": ["GZ123T"] if plates is None else plates,
        "area_codes": ["9999_NOORD"] if areas is None else areas,
        "valid_from": iso(start),
        "valid_to": iso(start + timedelta(days=days)),
    }
    body.update(extra)
    return body


def check(client, headers, plate: str, point: tuple[float, float], at: datetime | None = None):  # type: ignore[no-untyped-def]
    params: dict[str, Any] = {"plate": plate, "lon": point[0], "lat": point[1]}
    if at is not None:
        params["at"] = iso(at)
    r = client.get("/api/v1/rights/check", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def apply_for(client, headers, plate: str, **body: Any) -> int:  # type: ignore[no-untyped-def]
    """File a resident application (``permit_body`` fields) and return its id (in review)."""
    payload = permit_body(plates=[plate], **body) | {
        "applicant": {"name": "A. Jansen", "address": "Noordstraat 1"},
        "documents": [{"ref": "doc-1", "kind": "proof_of_address"}],
    }
    r = client.post("/api/v1/permit-applications", json=payload, headers=headers)
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "in_review"
    return int(r.json()["id"])


def decide(client, headers, app_id: int, decision: str = "grant") -> dict[str, Any]:  # type: ignore[no-untyped-def]
    r = client.post(
        f"/api/v1/permit-applications/{app_id}/decide",
        json={"decision": decision, "reason": "checked documents"},
        headers=headers,
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


def create_permit(client, headers, plate: str, **body: Any) -> str:  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/permits", json=permit_body(plates=[plate], **body), headers=headers)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])
