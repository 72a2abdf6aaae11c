"""Two server processes run the grace step and the purge at once: nothing is done twice."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlmodel import Session, col, func, select

from api.hits.db import HitEventRow, HitRow
from tests.conftest import REPO, TEST_SECRET
from tests.e2e.server import free_port, wait_until_answering
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
        [sys.executable, "-m", "scancar", "serve", "--port", str(port)],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@contextlib.contextmanager
def _two_servers(db_url: str, data_dir) -> Iterator[list[int]]:  # type: ignore[no-untyped-def]
    """Two ``scancar serve`` processes on one database and data dir, ready; their ports."""
    ports = [free_port(), free_port()]
    servers = [_start(db_url, data_dir, p) for p in ports]
    try:
        for p in ports:
            wait_until_answering(f"http://127.0.0.1:{p}/readyz")
        yield ports
    finally:
        for srv in servers:
            srv.terminate()
        for srv in servers:
            srv.wait(timeout=30)


def test_two_servers_process_each_hit_once(db_url, engine, accounts, tmp_path):
    token = accounts.device("car-two")
    old = datetime.now(UTC) - timedelta(hours=1)  # grace long over
    with _two_servers(db_url, tmp_path / "data") as ports:
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


def test_two_servers_expire_each_permit_once(db_url, engine, tmp_path):
    """Both servers' job loops see the same permits pass their end at the same moment: each is
    expired once, and each waiting application gets the freed place once."""
    from api.db import session_scope
    from api.permits.db import PermitEventRow, PermitRow
    from api.permits.service import NewPermit, apply_for_permit, create_permit, decide_application
    from api.permits.service import set_quota as set_area_quota
    from permits.model import PermitType

    holders, waiting = 40, 20
    area = "9999_NOORD"
    with _two_servers(db_url, tmp_path / "data"):
        start = datetime.now(UTC) - timedelta(days=1)
        ends = datetime.now(UTC) + timedelta(seconds=8)  # after the setup, during the loops

        def new(plate: str, valid_to: datetime) -> NewPermit:
            return NewPermit(
                PermitType.RESIDENT, f"H-{plate}", (plate,), frozenset({area}), start, valid_to
            )

        with session_scope(engine) as session:
            set_area_quota(session, area, holders, [PermitType.RESIDENT], None)
        ending = []
        for i in range(holders):
            with session_scope(engine) as session:
                ending.append(create_permit(session, new(f"EX{i:02d}AA", ends), None).id)
        apps = []
        for i in range(waiting):
            with session_scope(engine) as session:
                app = apply_for_permit(
                    session, new(f"WT{i:02d}BB", ends + timedelta(days=365)), {}, [], None
                )
                apps.append(app.permit_id)
                decide_application(session, app.id or 0, "grant", "checked", None)
        assert datetime.now(UTC) < ends, "setup took too long for this test"

        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            with Session(engine) as s:
                left = s.exec(
                    select(func.count())
                    .select_from(PermitRow)
                    .where(col(PermitRow.status).in_(["active", "waitlisted"]))
                    .where(col(PermitRow.id).in_(ending + apps))
                ).one()
                granted = s.exec(
                    select(func.count())
                    .select_from(PermitRow)
                    .where(col(PermitRow.id).in_(apps), PermitRow.status == "active")
                ).one()
            if datetime.now(UTC) > ends and left == waiting and granted == waiting:
                break
            time.sleep(0.2)
        time.sleep(1.0)  # a few more rounds of both loops
    with Session(engine) as s:
        statuses = dict(
            s.exec(
                select(PermitRow.id, PermitRow.status).where(col(PermitRow.id).in_(ending))
            ).all()
        )
        assert set(statuses.values()) == {"expired"}
        expire_events = dict(
            s.exec(
                select(PermitEventRow.permit_id, func.count())
                .where(PermitEventRow.action == "expire")
                .group_by(col(PermitEventRow.permit_id))
            ).all()
        )
        assert expire_events == dict.fromkeys(ending, 1)
        grants = dict(
            s.exec(
                select(PermitEventRow.permit_id, func.count())
                .where(PermitEventRow.action == "grant", PermitEventRow.from_status == "waitlisted")
                .group_by(col(PermitEventRow.permit_id))
            ).all()
        )
        assert grants == dict.fromkeys(apps, 1)
        holders_now = s.exec(
            select(func.count())
            .select_from(PermitRow)
            .where(PermitRow.quota_area_code == area, PermitRow.status == "active")
        ).one()
        assert holders_now == waiting
