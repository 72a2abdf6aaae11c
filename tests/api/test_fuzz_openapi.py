"""Schemathesis against the app's own OpenAPI schema: every operation, as every role.

No 5xx, and no response that breaks its declared schema. Generation is seeded
(``derandomize``), so a failure reproduces. The run counts its cases and must reach 2,000.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from api.review import service
from tests.api.review_support import FakeRights, FakeZoneRules, after_grace, post_hit
from tests.conftest import REPO

ROLES = ("admin", "backoffice", "boa", "provider", "device", None)
EXAMPLES_PER_OPERATION_AND_ROLE = 20
MIN_CASES = 2000
pytestmark = [pytest.mark.slow]


@pytest.fixture
def world(client, accounts, app, engine):
    """Some real data so path parameters like /hits/1 reach real rows."""
    device = accounts.headers("device")
    for lon in (4.3581, 4.3590, 4.3600):
        post_hit(client, device, lon=lon)
    service.run_grace_step(
        engine,
        app.state.backend.evidence_store,
        app.state.backend.rights_checker,
        app.state.backend.zone_rules,
        app.state.backend.settings,
        now=after_grace() + timedelta(minutes=1),
    )
    town = json.loads((REPO / "fixtures" / "zones" / "town.geojson").read_text())
    assert (
        client.put("/api/v1/zones", json=town, headers=accounts.headers("admin")).status_code == 201
    )
    return {role: (accounts.headers(role) if role else {}) for role in ROLES}


@pytest.fixture
def app(settings, engine):
    from api.main import create_app

    return create_app(
        settings, engine=engine, rights_checker=FakeRights(), zone_rules=FakeZoneRules()
    )


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_fuzz_every_operation_as_every_role(app, world, client):
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    statuses: Counter[int] = Counter()
    cases = 0
    failures: list[str] = []

    def fuzz(op, role):  # type: ignore[no-untyped-def]
        headers = world[role]

        @given(case=op.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION_AND_ROLE,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case):  # type: ignore[no-untyped-def]
            nonlocal cases
            cases += 1
            response = case.call(headers=headers)
            statuses[response.status_code] += 1
            case.validate_response(
                response, checks=[not_a_server_error, response_schema_conformance]
            )

        try:
            run()
        except Exception as exc:
            failures.append(f"{op.method.upper()} {op.path} as {role}: {exc!s}"[:600])

    for op in operations:
        for role in ROLES:
            fuzz(op, role)
    print(f"fuzz: {cases} cases, statuses {dict(sorted(statuses.items()))}")
    assert failures == []
    assert cases >= MIN_CASES, f"only {cases} cases generated"
    assert statuses[500] == 0
