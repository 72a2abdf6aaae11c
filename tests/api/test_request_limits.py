"""Request limits that match the database (api/limits.py): the OpenAPI document bounds every
integer, string and list a request carries, and values past the bounds, NUL characters and
implausible times are refused with 422 and ``{detail, code}`` on both databases."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from api.limits import INT32_MAX, INT64_MAX
from tests.conftest import REPO
from tests.factories import multipart, observation

# request fields without a maxLength on purpose, with the reason
UNBOUNDED_TEXT = {
    # OAuth2's password form: the username is cut to 64 characters before it is used, the
    # password is only hashed; both within the body limit
    "POST /api/v1/auth/token body.username",
    "POST /api/v1/auth/token body.password",
    "POST /api/v1/auth/token body.scope",
    "POST /api/v1/auth/token body.client_id",
    "POST /api/v1/auth/token body.client_secret",
    "POST /api/v1/auth/token body.grant_type",
}
# request integers that may pass 2^31-1: BIGINT columns
BIG_INTEGERS = {"POST /api/v1/devices/heartbeat body.disk_free_bytes"}
# free-form JSON objects (GeoJSON; an applicant's details), bounded by the body limit
FREE_OBJECTS = {"PUT /api/v1/zones body", "POST /api/v1/permit-applications body.applicant"}


def _is_unbounded_text(sc: dict[str, Any]) -> bool:
    return not (
        {"enum", "const", "maxLength", "contentMediaType"} & sc.keys()
        or sc.get("format") in {"date-time", "date", "uuid", "binary"}
    )


def _unbounded(spec: dict[str, Any]) -> list[str]:
    comps = spec["components"]["schemas"]
    found: list[str] = []

    def walk(sc: dict[str, Any], where: str, seen: tuple[str, ...] = ()) -> None:  # noqa: PLR0912
        if "$ref" in sc:
            name = sc["$ref"].split("/")[-1]
            if name not in seen:
                walk(comps[name], where, (*seen, name))
            return
        for key in ("anyOf", "oneOf", "allOf"):
            for sub in sc.get(key, []):
                walk(sub, where, seen)
        kind = sc.get("type")
        if kind == "integer":
            limit = INT64_MAX if where in BIG_INTEGERS else INT32_MAX
            if sc.get("maximum", INT64_MAX + 1) > limit or sc.get("minimum", -INT64_MAX) < -limit:
                found.append(f"{where}: integer without bounds within {limit}")
        elif kind == "string":
            if _is_unbounded_text(sc) and where not in UNBOUNDED_TEXT:
                found.append(f"{where}: string without maxLength")
        elif kind == "array":
            if "maxItems" not in sc:
                found.append(f"{where}: list without maxItems")
            walk(sc.get("items", {}), f"{where}[]", seen)
        elif kind == "object":
            for prop, sub in sc.get("properties", {}).items():
                walk(sub, f"{where}.{prop}", seen)
            if sc.get("additionalProperties") is True and where not in FREE_OBJECTS:
                found.append(f"{where}: free-form object")

    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            label = f"{method.upper()} {path}"
            for param in op.get("parameters", []):
                walk(param["schema"], f"{label} {param['in']}:{param['name']}")
            for content in op.get("requestBody", {}).get("content", {}).values():
                walk(content["schema"], f"{label} body")
    return found


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_limits_every_request_value_is_bounded_in_the_openapi_document(client):
    spec = client.get("/openapi.json").json()
    assert _unbounded(spec) == []
    # and the check itself finds an unbounded value
    spec["paths"]["/api/v1/hits/{hit_id}"]["get"]["parameters"][0]["schema"].pop("maximum")
    assert _unbounded(spec) == [
        f"GET /api/v1/hits/{{hit_id}} path:hit_id: integer without bounds within {INT32_MAX}"
    ]


def _refused(response, code: str | None = None) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    assert response.status_code == 422, response.text
    body = response.json()
    assert set(body) >= {"detail", "code"}
    if code is not None:
        assert body["code"] == code, body
    return body


@pytest.mark.parametrize(
    ("role", "path"),
    [
        ("boa", f"/api/v1/hits/{INT32_MAX + 1}"),
        ("backoffice", f"/api/v1/fines/{INT32_MAX + 1}"),
        ("backoffice", f"/api/v1/fines?hit_id={INT32_MAX + 1}"),
        ("backoffice", f"/api/v1/permit-applications/{INT32_MAX + 1}"),
        ("boa", f"/api/v1/zones?version={INT32_MAX + 1}"),
        ("admin", f"/api/v1/audit?offset={2**63}"),
        ("backoffice", f"/api/v1/fines?offset={2**63}"),
        ("backoffice", f"/api/v1/permits?offset={2**63}"),
        ("backoffice", f"/api/v1/permits/{'P' * 65}"),
        ("boa", "/api/v1/hits?zone=a%00b"),
        ("admin", "/api/v1/audit?actor=%00"),
        ("backoffice", "/api/v1/permits/P%00"),
        ("boa", "/api/v1/hits?since=0001-01-01T00:00:00%2B01:00"),
        ("boa", "/api/v1/hits?since=9999-12-31T23:59:59-01:00"),
        ("admin", "/api/v1/audit?until=0001-01-01T00:00:00%2B01:00"),
        ("boa", "/api/v1/zones/locate?lon=4.3&lat=52.0&at=9999-12-31T23:59:59-01:00"),
        ("boa", "/api/v1/rights/check?plate=AB12CD&lon=4.3&lat=52&at=0001-01-01T00:00:00%2B01:00"),
        ("backoffice", "/api/v1/reports/summary?from=0001-01-01T00:00:00%2B01:00"),
    ],
)
def test_limits_query_and_path_values_past_the_columns_are_422(client, accounts, role, path):
    _refused(client.get(path, headers=accounts.headers(role)))


def _permit(**change: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "resident",
        "holder": "H-1",
        "plates": ["AB123C"],
        "area_codes": ["A1"],
        "valid_from": "2026-01-01T00:00:00+01:00",
    }
    body.update(change)
    return body


@pytest.mark.parametrize(
    ("path", "body", "code"),
    [
        ("/api/v1/permits", _permit(area_codes=["A" * 10_000]), "validation_error"),
        ("/api/v1/permits", _permit(area_codes=["A" * 64] * 40), "validation_error"),
        ("/api/v1/permits", _permit(holder="H\u0000"), "nul_character"),
        ("/api/v1/permits", _permit(valid_from="0001-01-01T00:00:00+01:00"), "validation_error"),
        ("/api/v1/permits", _permit(valid_to="9999-12-31T23:59:59-01:00"), "validation_error"),
        (
            "/api/v1/permit-applications",
            {**_permit(area_codes=["A" * 10_000]), "applicant": {"name": "X"}},
            "validation_error",
        ),
        (
            "/api/v1/permit-applications",
            {**_permit(), "applicant": {"name": "X\u0000"}},
            "nul_character",
        ),
    ],
)
def test_limits_bodies_past_the_columns_are_422(client, bo, path, body, code):
    _refused(client.post(path, json=body, headers=bo), code)


def test_limits_backslash_u0000_as_text_is_not_a_nul(client, bo):
    r = client.post("/api/v1/permits", json=_permit(holder="H\\u0000"), headers=bo)
    assert r.status_code == 201, r.text
    assert r.json()["holder"] == "H\\u0000"


def test_limits_parking_session_amount_and_heartbeat_backlog(client, accounts):
    provider = accounts.headers("provider")
    start = datetime.now(UTC).isoformat()
    session = {
        "provider_session_id": "s-1",
        "plate": "AB123C",
        "area_code": "A1",
        "start": start,
        "amount_cents": INT32_MAX + 1,
    }
    _refused(client.post("/api/v1/parking-sessions", json=session, headers=provider))
    beat = {"sent_at": start, "outbox_backlog": INT32_MAX + 1}
    device = accounts.headers("device")
    _refused(client.post("/api/v1/devices/heartbeat", json=beat, headers=device))
    beat = {"sent_at": start, "software_version": "1.0\u0000"}
    _refused(client.post("/api/v1/devices/heartbeat", json=beat, headers=device), "nul_character")
    beat = {"sent_at": "0001-01-01T00:00:00+01:00"}
    _refused(client.post("/api/v1/devices/heartbeat", json=beat, headers=device))


def _post_observation(client, device, **meta_change: Any):  # type: ignore[no-untyped-def]
    meta, parts = observation()
    meta["observation_id"] = str(uuid.uuid4())
    meta.update(meta_change)
    return client.post("/api/v1/observations", files=multipart(meta, parts), headers=device)


@pytest.mark.parametrize(
    "change",
    [
        {"camera": "front\u0000"},
        {"zone_id": "Z\u0000"},
        {"software_version": "\u0000"},
        {"rights_cache_version": "v\u0000"},
        {"captured_at": "0001-01-01T00:00:00+01:00"},
        {"captured_at": "9999-12-31T23:59:59-01:00"},
        {"captured_at": "2023-12-31T23:59:59+00:00"},  # before the car software existed
        {"first_seen_at": "0001-01-01T00:00:00+01:00"},
    ],
)
def test_limits_observation_metadata_refused(client, accounts, change):
    body = _refused(_post_observation(client, accounts.headers("device"), **change))
    assert body["code"] == "invalid_metadata"
    assert next(iter(change)) in body["detail"]


def test_limits_observation_captured_in_the_future(client, accounts):
    device = accounts.headers("device")
    ahead = datetime.now(UTC) + timedelta(minutes=10)
    body = _refused(_post_observation(client, device, captured_at=ahead.isoformat()))
    assert body["code"] == "implausible_time"
    assert "captured_at" in body["detail"]
    # a little ahead (a car's clock may run ahead of ours) is fine
    near = datetime.now(UTC) + timedelta(minutes=2)
    r = _post_observation(client, device, captured_at=near.isoformat(), first_seen_at=None)
    assert r.status_code == 201, r.text


def test_limits_nul_in_a_login_form_is_422(client):
    r = client.post("/api/v1/auth/token", data={"username": "a\x00", "password": "x"})
    _refused(r, "nul_character")
    r = client.post(
        "/api/v1/auth/token",
        content=json.dumps({}).encode(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 422  # missing fields, no NUL: the ordinary validation answer
    assert r.json()["code"] == "validation_error"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_limits_an_unexpected_error_is_still_json_or_a_dutch_page(app):
    """A bug (an exception nothing maps) answers 500 with ``{detail, code}`` on the API and the
    Dutch error page on a page, never a plain-text 500."""
    from fastapi.testclient import TestClient

    def overflow() -> None:
        raise OverflowError("date value out of range")  # as a year-1 time did

    def bug() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/api/v1/overflow", overflow)
    app.add_api_route("/api/v1/bug", bug)
    app.add_api_route("/ui/bug", bug)
    with TestClient(app, raise_server_exceptions=False) as c:
        overflowed, api_answer, page = (
            c.get("/api/v1/overflow"),
            c.get("/api/v1/bug"),
            c.get("/ui/bug"),
        )
    assert (overflowed.status_code, overflowed.json()["code"]) == (422, "out_of_range")
    assert api_answer.status_code == 500
    assert api_answer.json() == {"detail": "internal server error", "code": "internal_error"}
    assert page.status_code == 500
    assert "text/html" in page.headers["content-type"]
    assert "Er ging iets mis op de server" in page.text


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"area_code": "A" * 65}, "area_code"),
        ({"name": "N" * 10_000}, "name"),
        ({"priority": 2**63}, "priority"),
        ({"max_stay_minutes": 2**40}, "max_stay_minutes"),
        ({"grace_minutes": 2**40}, "grace_minutes"),
        ({"holiday_dates": ["0001-01-01"]}, "holiday_dates"),
        ({"permit_types": ["x" * 10_000]}, "permit_types"),
    ],
)
def test_limits_zone_file_values_past_the_columns_are_refused(client, accounts, change, where):
    """A zone file with a value the backend cannot hold is refused, naming the property,
    instead of a stored zone that makes every rights check in it fail."""
    town = json.loads((REPO / "fixtures" / "zones" / "town.geojson").read_text())
    town["features"][0]["properties"].update(change)
    r = client.put("/api/v1/zones", json=town, headers=accounts.headers("admin"))
    body = _refused(r)
    assert where in body["detail"]
    check = client.get(
        "/api/v1/rights/check",
        params={"plate": "AB12CD", "lon": 4.3581, "lat": 52.0116},
        headers=accounts.headers("boa"),
    )
    assert check.status_code == 200, check.text  # no zone stored: nothing to fail on


def test_limits_zone_id_past_its_column_is_refused(client, accounts):
    town = json.loads((REPO / "fixtures" / "zones" / "town.geojson").read_text())
    town["features"][0]["id"] = "z" * 129
    body = _refused(client.put("/api/v1/zones", json=town, headers=accounts.headers("admin")))
    assert "at most 128" in body["detail"]
