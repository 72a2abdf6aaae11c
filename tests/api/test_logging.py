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
