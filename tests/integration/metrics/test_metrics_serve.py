"""``GET /metrics`` of ``scancar serve --workers 2`` (prometheus-client's multiprocess mode):
every scrape, answered by whichever worker, sums the requests of both workers."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import REPO
from tests.e2e.server import free_port, wait_until_answering
from tests.factories import multipart, observation
from tests.integration.cli.support import cli_env

TOKEN = "metrics-token-0123456789"


def _scrape(base: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with httpx.Client() as fresh:  # a new connection: any worker may answer
        r = fresh.get(f"{base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 200, r.text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(r.text)
        for s in family.samples
    }


@pytest.mark.slow
def test_metrics_serve_two_workers_sum_both(tmp_path, db_url, engine):
    from api.auth.service import create_device
    from api.db import session_scope

    with session_scope(engine) as session:
        _, token = create_device(session, name="metrics-car")
    folder = tmp_path / "prom"
    port = free_port()
    env = cli_env(
        database_url=db_url,
        data_dir=str(tmp_path / "data"),
        env="test",
        metrics_token=TOKEN,
        metrics_allow_from="192.0.2.1",  # not loopback: the token is needed
        background_interval_s="0.5",
        log_json="true",
    )
    env["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
    base = f"http://127.0.0.1:{port}"
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "scancar", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        cwd=REPO,
        stdout=log,
        stderr=log,
    )
    try:
        wait_until_answering(f"{base}/readyz", timeout_s=300)  # a shared, busy machine
        assert httpx.get(f"{base}/metrics").status_code == 403
        requests = 40
        for _ in range(requests):  # new connections: the kernel spreads them over the workers
            assert httpx.get(f"{base}/healthz").status_code == 200
        meta, parts = observation()
        posted = httpx.post(
            f"{base}/api/v1/observations",
            files=multipart(meta, parts),
            headers={"Authorization": f"Bearer {token}"},
        )
        assert posted.status_code == 201, posted.text
        pids = {p.name.split("_")[-1] for p in folder.glob("counter_*.db")}
        assert len(pids) == 2, f"both workers write counters: {sorted(pids)}"
        first, second = _scrape(base), _scrape(base)
    finally:
        proc.terminate()
        proc.wait(timeout=120)
        log.close()
    key = (
        "scancar_http_requests_total",
        (("method", "GET"), ("route", "/healthz"), ("status", "200")),
    )
    assert first[key] == second[key] == requests
    created = ("scancar_ingest_observations_total", (("result", "created"),))
    assert first[created] == second[created] == 1
    hits = {labels: n for (name, labels), n in first.items() if name == "scancar_hits"}
    assert sum(hits.values()) == 1  # pending_grace, or already past it (the job runs)
    assert first[("scancar_job_runs_total", (("job", "grace"),))] >= 2
    pool = ("scancar_db_pool_size", ())
    if db_url.startswith("postgresql"):
        assert first[pool] == 2 * 20  # two workers, SCANCAR_DATABASE_POOL_SIZE 20 each
