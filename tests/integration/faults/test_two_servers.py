"""Two server processes run the grace step and the purge at once: nothing is done twice."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlmodel import Session, col, func, select

from api.hits.db import HitEventRow, HitRow
from tests.conftest import REPO, TEST_SECRET
from tests.e2e.server import free_port
from tests.factories import multipart, observation

pytestmark = [pytest.mark.slow]


def _start(db_url: str, data_dir, port: int) -> subprocess.Popen[bytes]:  # type: ignore[no-untyped-def]
    env = dict(os.environ)
    env.update(
        SCANCAR_ENV="test",
        SCANCAR_SECRET_KEY=TEST_SECRET,
        SCANCAR_DATABASE_URL=db_url,
        SCANCAR_DATA_DIR=str(data_dir),
        SCANCAR_RUN_BACKGROUND_JOBS="true",
        SCANCAR_BACKGROUND_INTERVAL_S="0.2",
        PYTHONPATH=str(REPO),
    )
    return subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait_ready(base: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{base} did not become ready")


def test_two_servers_process_each_hit_once(db_url, engine, accounts, tmp_path):
    token = accounts.device("car-two")
    old = datetime.now(UTC) - timedelta(hours=1)  # grace long over
    ports = [free_port(), free_port()]
    servers = [_start(db_url, tmp_path / "data", p) for p in ports]
    try:
        for p in ports:
            _wait_ready(f"http://127.0.0.1:{p}")
        n = 30
        for i in range(n):  # post through both servers, alternating
            meta, parts = observation(
                captured_at=(old + timedelta(seconds=i)).isoformat(), plate=f"GZ{i:03d}T"
            )
            r = httpx.post(
                f"http://127.0.0.1:{ports[i % 2]}/api/v1/observations",
                files=multipart(meta, parts),
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
            assert r.status_code == 201, r.text
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with Session(engine) as s:
                pending = s.exec(
                    select(func.count()).select_from(HitRow).where(HitRow.status == "pending_grace")
                ).one()
            if pending == 0:
                break
            time.sleep(0.2)
        time.sleep(1.0)  # a few more rounds of both loops
    finally:
        for srv in servers:
            srv.terminate()
        for srv in servers:
            srv.wait(timeout=30)
    with Session(engine) as s:
        statuses = s.exec(select(HitRow.status)).all()
        assert sorted(set(statuses)) == ["awaiting_review"]
        assert len(statuses) == 30
        per_hit = s.exec(
            select(HitEventRow.hit_id, func.count())
            .where(HitEventRow.action == "grace_passed")
            .group_by(col(HitEventRow.hit_id))
        ).all()
        assert len(per_hit) == 30
        assert {count for _, count in per_hit} == {1}
