"""Structured logs: JSON lines with the request id; tokens never appear."""

from __future__ import annotations

import json
import logging

from api.logsetup import configure_logging


def test_logging_json_lines_carry_the_request_id(client, accounts, capfd):
    headers = accounts.headers("backoffice")
    configure_logging(json_lines=True)
    try:
        r = client.get("/api/v1/audit", headers={**headers, "X-Request-ID": "req-abc-123"})
        assert r.status_code == 200
        assert r.headers["x-request-id"] == "req-abc-123"
        logging.getLogger("test").info("Authorization: Bearer abc.def.ghi password=hunter22")
    finally:
        logging.getLogger().handlers[:] = []
    err = capfd.readouterr().err
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    access = [x for x in lines if x.get("path") == "/api/v1/audit"]
    assert access
    assert access[0]["request_id"] == "req-abc-123"
    assert access[0]["status"] == 200
    token = headers["Authorization"].split()[1]
    assert token not in err
    assert "hunter22" not in err
    assert "abc.def.ghi" not in err


def test_logging_replaces_unsafe_request_ids(client):
    r = client.get("/healthz", headers={"X-Request-ID": "<script>"})
    assert r.headers["x-request-id"] != "<script>"
    assert len(r.headers["x-request-id"]) == 32


def test_logging_access_lines_come_from_every_server_worker(tmp_path):
    """``scancar serve --workers 2``: the workers are new processes; each logs its requests
    (JSON access lines with the request id) like a single-process server does."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    import httpx

    from tests.e2e.server import free_port, wait_until_answering

    port = free_port()
    log_path = tmp_path / "server.log"
    env = dict(
        os.environ,
        SCANCAR_ENV="development",
        SCANCAR_DATABASE_URL=f"sqlite:///{tmp_path / 'serve.db'}",
        SCANCAR_DATA_DIR=str(tmp_path / "data"),
        SCANCAR_RUN_BACKGROUND_JOBS="false",
        SCANCAR_LOG_JSON="true",
    )
    repo = Path(__file__).resolve().parents[2]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "scancar", "serve", "--port", str(port), "--workers", "2"],
            env=env,
            cwd=repo,
            stdout=log,
            stderr=log,
        )
        try:
            wait_until_answering(f"http://127.0.0.1:{port}/readyz")
            ids = [f"req-worker-{i}" for i in range(20)]
            for rid in ids:  # new connections: the kernel spreads them over the workers
                r = httpx.get(f"http://127.0.0.1:{port}/healthz", headers={"X-Request-ID": rid})
                assert r.status_code == 200
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    lines = [json.loads(x) for x in log_path.read_text().splitlines() if x.startswith("{")]
    access = {x["request_id"]: x for x in lines if x.get("logger") == "api.access"}
    assert set(ids) <= access.keys()
    assert all(access[rid]["status"] == 200 and access[rid]["path"] == "/healthz" for rid in ids)
