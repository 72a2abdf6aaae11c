"""``GET /metrics`` through the app on SQLite and PostgreSQL: who may scrape it, and that
each figure follows what happened (requests, ingest, rights checks, hits and fines by
status, review latency, background jobs)."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from api.retention.jobs import tick
from tests.api.review_support import FakeRights, FakeZoneRules, after_grace, post_hit
from tests.factories import multipart, observation

TOKEN = "metrics-token-0123456789"


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"metrics_token": TOKEN})


@pytest.fixture
def app(settings, engine):
    from api.main import create_app

    return create_app(
        settings, engine=engine, rights_checker=FakeRights(), zone_rules=FakeZoneRules()
    )


def scrape(client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    r = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(r.text)
        for s in family.samples
    }


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_refused_without_token_from_other_addresses(client):
    r = client.get("/metrics")  # the test client's address is "testclient", not allowed
    assert r.status_code == 403
    assert r.json()["code"] == "metrics_forbidden"
    wrong = client.get("/metrics", headers={"Authorization": "Bearer wrong-token-0123456789"})
    assert wrong.status_code == 403


def test_metrics_follow_requests_ingest_review_and_jobs(client, accounts, app):
    device = accounts.headers("device")
    before = scrape(client)
    meta, parts = observation()
    files = multipart(meta, parts)
    assert client.post("/api/v1/observations", files=files, headers=device).status_code == 201
    assert client.post("/api/v1/observations", files=files, headers=device).status_code == 200
    hit = post_hit(client, device)
    client.get("/api/v1/hits/999999", headers=accounts.headers("boa"))

    report = tick(app.state.backend, now=after_grace())
    assert report.grace is not None
    assert report.grace.to_review == 2
    boa = accounts.headers("boa")
    assert client.post(f"/api/v1/hits/{hit}/claim", headers=boa).status_code == 200
    r = client.post(f"/api/v1/hits/{hit}/reject", json={"reason": "plate_misread"}, headers=boa)
    assert r.status_code == 200, r.text

    after = scrape(client)
    assert value(after, "scancar_ingest_observations_total", result="created") == 2
    assert value(after, "scancar_ingest_observations_total", result="repeat") == 1
    evidence = sum(len(b) for b in parts.values())
    assert value(after, "scancar_ingest_evidence_bytes_total") >= evidence + 1
    route = "/api/v1/observations"
    assert (
        value(after, "scancar_http_requests_total", method="POST", route=route, status="201") == 2
    )
    assert (
        value(after, "scancar_http_requests_total", method="POST", route=route, status="200") == 1
    )
    assert (
        value(
            after,
            "scancar_http_requests_total",
            method="GET",
            route="/api/v1/hits/{hit_id}",
            status="404",
        )
        == 1
    )
    latency = "scancar_http_request_duration_seconds_count"
    assert value(after, latency, method="POST", route=route) == 3
    assert value(before, latency, method="POST", route=route) == 0
    # hits by status, read from the database
    assert value(after, "scancar_hits", status="awaiting_review") == 1
    assert value(after, "scancar_hits", status="rejected") == 1
    assert value(after, "scancar_database_up") == 1
    # review latency: one rejection, decided after the grace period ended
    assert value(after, "scancar_review_decision_seconds_count", decision="rejected") == 1
    assert value(after, "scancar_review_decision_seconds_count", decision="confirmed") == 0
    for job in ("grace", "permit_expiry", "purge"):
        assert value(after, "scancar_job_runs_total", job=job) == 1
        assert value(after, "scancar_job_failures_total", job=job) == 0
        assert value(after, "scancar_job_last_success_timestamp_seconds", job=job) > 0


def test_metrics_count_a_failing_job(client, app, monkeypatch):
    from api.retention import jobs

    def broken(*_args, **_kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(jobs, "run_purge", broken)
    assert tick(app.state.backend).purge is None
    after = scrape(client)
    assert value(after, "scancar_job_runs_total", job="purge") == 1
    assert value(after, "scancar_job_failures_total", job="purge") == 1
    assert value(after, "scancar_job_last_success_timestamp_seconds", job="purge") == 0
    assert value(after, "scancar_job_failures_total", job="grace") == 0


def test_metrics_per_car_from_heartbeats(client, accounts):
    from datetime import UTC, datetime

    silent = accounts.device("auto-stil")  # never sent a heartbeat
    talking = accounts.device("auto-1")
    sent = datetime.now(UTC)
    beat = {
        "sent_at": sent.isoformat(),
        "outbox_backlog": 7,
        "rights_cache_age_s": 125.0,
        "software_version": "test",
    }
    headers = {"Authorization": f"Bearer {talking}"}
    assert client.post("/api/v1/devices/heartbeat", json=beat, headers=headers).status_code == 204
    after = scrape(client)
    seen = value(after, "scancar_car_last_heartbeat_timestamp_seconds", device="auto-1")
    assert abs(seen - sent.timestamp()) < 120
    assert ("scancar_car_last_heartbeat_timestamp_seconds", (("device", "auto-stil"),)) in after
    assert value(after, "scancar_car_last_heartbeat_timestamp_seconds", device="auto-stil") == 0
    assert value(after, "scancar_car_reported_outbox_backlog", device="auto-1") == 7
    assert value(after, "scancar_car_reported_rights_cache_age_seconds", device="auto-1") == 125
    assert silent
