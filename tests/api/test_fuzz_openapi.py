"""Schemathesis against the app's own OpenAPI schema on PostgreSQL: every operation, as every
role (admin, backoffice, boa, provider, a device).

Two phases, both seeded so a failure reproduces (nothing random is left):

- boundaries: for every operation a request that is valid apart from one value, which takes in
  turn the values the database cannot hold or that sit on a limit: integers at and past
  2^31-1 and 2^63-1, NUL characters, text at and past its maxLength and of 10,000 characters,
  dates in year 1 with a positive offset and in year 9999 with a negative one, the edges of the
  plausible range; run as every role that may call the operation;
- fuzzing: Hypothesis-generated requests (``derandomize``) per operation and role.

Every answer must be no 5xx and conform to the operation's declared responses.
"""

from __future__ import annotations

import copy
import json
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance
from schemathesis.core.failures import FailureGroup

from api.limits import INT32_MAX
from tests.api.permits_support import apply_for, load_town, permit_body
from tests.api.review_support import FakeRights, FakeZoneRules, after_grace, post_hit, run_grace

ROLES = ("admin", "backoffice", "boa", "provider", "device")
FUZZ_EXAMPLES = 8  # per operation and role allowed to call it, on top of the boundary values
CHECKS = [not_a_server_error, response_schema_conformance]
pytestmark = [pytest.mark.slow, pytest.mark.postgres]

NOW = datetime.now(UTC).replace(microsecond=0)
EDGE_TIMES = [
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-01:00",
    "0001-01-01T00:00:00Z",
    "1969-12-31T23:59:59+00:00",
    "2099-12-31T23:59:59+00:00",
    (NOW + timedelta(days=3650)).isoformat(),
]
EDGE_DAYS = ["0001-01-01", "9999-12-31", "1970-01-01", "2099-12-31"]
BIG_INTS = [INT32_MAX, INT32_MAX + 1, 2**63 - 1, 2**63, -(2**63) - 1]


def good_values(world: dict[str, Any]) -> dict[str, Any]:
    """Valid values by field name, so a request fails on the one value under test only."""
    return {
        "hit_id": world["hit_id"],
        "fine_id": world["fine_id"],
        "permit_id": world["permit_id"],
        "application_id": world["application_id"],
        "session_id": world["session_id"],
        "area_code": "9999_NOORD",
        "area_codes": ["9999_NOORD"],
        "plate": "GZ123T",
        "plates": ["GZ123T"],
        "old_plate": "GZ123T",
        "new_plate": "GZ124T",
        "lon": 4.3581,
        "lat": 52.0116,
        "holder": "H-1",
        "reason": "fuzz",
        "provider_session_id": "fuzz-1",
        "start": (NOW - timedelta(hours=1)).isoformat(),
        "end": (NOW + timedelta(hours=1)).isoformat(),
        "valid_from": (NOW - timedelta(days=1)).isoformat(),
        "sent_at": NOW.isoformat(),
        "name": "plate",
        "mode": "on_site",
        "decision": "grant",
        "format": "json",
        "crs": "EPSG:4326",
        "since": (NOW - timedelta(days=1)).isoformat(),
    }


def _resolve(spec: dict[str, Any], sc: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in sc:
        sc = spec["components"]["schemas"][sc["$ref"].split("/")[-1]]
    options = sc.get("anyOf") or sc.get("oneOf")
    if options:
        real = [o for o in options if o.get("type") != "null"]
        return _resolve(spec, real[0]) if real else sc
    return sc


def _good(spec: dict[str, Any], sc: dict[str, Any], name: str, good: dict[str, Any]) -> Any:  # noqa: PLR0911
    if name in good:
        return copy.deepcopy(good[name])
    sc = _resolve(spec, sc)
    if "enum" in sc:
        return sc["enum"][0]
    if "default" in sc and sc["default"] is not None:
        return sc["default"]
    kind = sc.get("type")
    if kind == "integer":
        return max(sc.get("minimum", 1), 1)
    if kind == "number":
        return sc.get("minimum", 1.0)
    if kind == "boolean":
        return False
    if kind == "array":
        return [_good(spec, sc.get("items", {}), name, good)] if sc.get("minItems") else []
    if kind == "object":
        props = sc.get("properties", {})
        return {p: _good(spec, sub, p, good) for p, sub in props.items()}
    return {
        "date-time": NOW.isoformat(),
        "date": NOW.date().isoformat(),
        "uuid": "00000000-0000-4000-8000-000000000001",
    }.get(sc.get("format", ""), "x" * max(sc.get("minLength", 1), 1))


def _hostile(spec: dict[str, Any], sc: dict[str, Any]) -> list[Any]:  # noqa: PLR0911
    sc = _resolve(spec, sc)
    kind = sc.get("type")
    if kind == "integer":
        return BIG_INTS
    if kind == "number":
        return [1e308, -1e308]
    if kind != "string" or "enum" in sc:
        return []
    if sc.get("format") == "date-time":
        return EDGE_TIMES
    if sc.get("format") == "date":
        return EDGE_DAYS
    if sc.get("format") in {"binary", "uuid"} or "contentMediaType" in sc:
        return []
    values: list[Any] = ["\x00", "a\x00b", "x" * 10_000]
    if "maxLength" in sc:
        values += ["x" * sc["maxLength"], "x" * (sc["maxLength"] + 1)]
    return values


def _fields(spec: dict[str, Any], sc: dict[str, Any], path: tuple[Any, ...]) -> Iterator[Any]:
    """(path into the body, schema) of every value of a JSON body, nested objects too."""
    sc = _resolve(spec, sc)
    if sc.get("type") == "object":
        for prop, sub in sc.get("properties", {}).items():
            yield from _fields(spec, sub, (*path, prop))
    elif sc.get("type") == "array":
        yield from _fields(spec, sc.get("items", {}), (*path, 0))
    elif path:
        yield path, sc


def _with(body: Any, path: tuple[Any, ...], value: Any) -> Any:
    body = copy.deepcopy(body)
    node = body
    for key in path[:-1]:
        if isinstance(key, int):
            if not node:
                node.append({})
            node = node[0]
        else:
            node = node.setdefault(key, {})
    if isinstance(path[-1], int):
        node[:] = [value]
    else:
        node[path[-1]] = value
    return body


def boundary_cases(op: Any, spec: dict[str, Any], good: dict[str, Any]) -> Iterator[Any]:
    """The operation's valid base request, then one hostile value at a time."""
    raw = spec["paths"][op.path][op.method.lower()]
    params = {"path": {}, "query": {}}
    schemas: list[tuple[str, str, dict[str, Any]]] = []
    for p in raw.get("parameters", []):
        if p["in"] in params and (p.get("required") or p["name"] in good or p["in"] == "path"):
            params[p["in"]][p["name"]] = _good(spec, p["schema"], p["name"], good)
        if p["in"] in params:
            schemas.append((p["in"], p["name"], p["schema"]))
    content = raw.get("requestBody", {}).get("content", {})
    media = "application/json" if "application/json" in content else None
    body = _good(spec, content[media]["schema"], "", good) if media else None

    def case(path: dict[str, Any], query: dict[str, Any], body_: Any) -> Any:
        kwargs: dict[str, Any] = {"path_parameters": path, "query": query}
        if media:
            kwargs |= {"body": body_, "media_type": media}
        return op.Case(**kwargs)

    yield case(params["path"], params["query"], body)
    for where, name, sc in schemas:
        for value in _hostile(spec, sc):
            changed = {**params[where], name: value}
            path, query = (
                (changed, params["query"]) if where == "path" else (params["path"], changed)
            )
            yield case(path, query, body)
    if media:
        for path_in_body, sc in _fields(spec, content[media]["schema"], ()):
            for value in _hostile(spec, sc):
                yield case(params["path"], params["query"], _with(body, path_in_body, value))


@pytest.fixture
def app(settings, engine):
    from api.main import create_app

    return create_app(
        settings, engine=engine, rights_checker=FakeRights(), zone_rules=FakeZoneRules()
    )


@pytest.fixture
def world(client, accounts, app, engine) -> dict[str, Any]:
    """Real rows, so that path ids reach them: hits, a fine, a permit, an application, a
    parking session, the town's zones."""
    load_town(engine)
    device = accounts.headers("device")
    hits = [post_hit(client, device, lon=lon) for lon in (4.3581, 4.3590, 4.3600)]
    run_grace(app, now=after_grace() + timedelta(minutes=1))
    boa, bo = accounts.headers("boa"), accounts.headers("backoffice")
    assert client.post(f"/api/v1/hits/{hits[0]}/claim", headers=boa).status_code == 200
    body = {"mode": "on_site", "lon": 4.3581, "lat": 52.0116}
    assert client.post(f"/api/v1/hits/{hits[0]}/confirm", json=body, headers=boa).status_code == 200
    fines = client.get("/api/v1/fines", params={"hit_id": hits[0]}, headers=bo).json()["data"]
    visitor = permit_body(plates=[], permit_type="visitor", visitor_budget_minutes=600)
    r = client.post("/api/v1/permits", json=visitor, headers=bo)
    assert r.status_code == 201, r.text
    permit_id = r.json()["id"]
    application_id = apply_for(client, bo, "XB123Z")
    provider = accounts.headers("provider")
    paid = permit_body() | {"provider_session_id": "world-1", "plate": "GZ125T"}
    paid = {k: paid[k] for k in ("provider_session_id", "plate")} | {
        "area_code": "9999_NOORD",
        "start": (NOW - timedelta(minutes=5)).isoformat(),
    }
    r = client.post("/api/v1/parking-sessions", json=paid, headers=provider)
    assert r.status_code == 201, r.text
    return {
        "hit_id": hits[1],
        "fine_id": fines[0]["id"] if fines else 1,
        "permit_id": permit_id,
        "application_id": application_id,
        "session_id": r.json()["id"],
        "headers": {role: accounts.headers(role) for role in ROLES},
    }


def _call(case: Any, headers: dict[str, str], statuses: Counter[int]) -> int:
    response = case.call(headers=headers)
    statuses[response.status_code] += 1
    case.validate_response(response, checks=CHECKS)
    return int(response.status_code)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_fuzz_every_operation_as_every_role_on_postgres(app, world, client):
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    spec = client.get("/openapi.json").json()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 70
    good = good_values(world)
    statuses: Counter[int] = Counter()
    counts = Counter[str]()
    failures: list[str] = []
    allowed: list[tuple[Any, str]] = []
    started = time.monotonic()

    for op in operations:
        cases = list(boundary_cases(op, spec, good))
        for role in ROLES:
            headers = world["headers"][role]
            try:
                base = _call(cases[0], headers, statuses)
                counts["boundary"] += 1
                if base in (401, 403):
                    continue  # the role may not call it: every other value is refused alike
                allowed.append((op, role))
                for case in cases[1:]:
                    counts["boundary"] += 1
                    _call(case, headers, statuses)
            except (Exception, FailureGroup) as exc:  # collected, reported below
                failures.append(f"{op.method.upper()} {op.path} as {role}: {exc!s}"[:800])
    boundary_s = time.monotonic() - started

    def fuzz(op: Any, role: str) -> None:
        headers = world["headers"][role]

        @given(case=op.as_strategy())
        @settings(
            max_examples=FUZZ_EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            counts["fuzz"] += 1
            _call(case, headers, statuses)

        try:
            run()
        except (Exception, FailureGroup) as exc:
            failures.append(f"fuzz {op.method.upper()} {op.path} as {role}: {exc!s}"[:800])

    for op, role in allowed:
        fuzz(op, role)
    took = time.monotonic() - started
    print(
        f"fuzz on PostgreSQL: {len(operations)} operations x {len(ROLES)} roles "
        f"({len(allowed)} pairs allowed), "
        f"{counts['boundary']} boundary cases ({boundary_s:.0f} s) + {counts['fuzz']} "
        f"generated, {took:.0f} s; statuses {dict(sorted(statuses.items()))}"
    )
    print(json.dumps(failures, indent=1))
    assert failures == []
    assert statuses[500] == 0
    assert counts["boundary"] >= 1200
    assert len(allowed) >= 80
    assert statuses[422] >= 500  # the limits answered, the boundaries were reached
    assert statuses[200] + statuses[201] >= 100  # and valid requests went through
