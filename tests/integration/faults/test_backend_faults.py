"""Faults under a real server: a full evidence disk, and PostgreSQL restarted during ingest.

The disk is a tiny tmpfs mounted for the test; PostgreSQL is a private cluster (initdb on a
free port) so stopping it cannot disturb the other tests. Both need root (as CI has); outside
CI without root they are skipped.
"""

from __future__ import annotations

import hashlib
import random
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, col, func, select

from api.hits.db import HitRow
from scancar.outbox.store import SqliteOutbox
from scancar.outbox.uploader import Backoff, Uploader
from scancar.wire import EvidenceRef, ObservationMetadata, SuspectReason
from tests.conftest import IN_CI, TEST_SECRET
from tests.e2e.server import serve
from tests.factories import make_image, multipart, observation
from tests.integration.faults.pg_cluster import need_root

pytestmark = [pytest.mark.slow]


def _suspect(i: int, run: str) -> tuple[ObservationMetadata, dict[str, bytes]]:
    images = {"plate": make_image(1000 + i, (96, 24)), "overview": make_image(2000 + i, (160, 90))}
    meta = ObservationMetadata(
        observation_id=uuid.uuid5(uuid.NAMESPACE_URL, f"{run}-{i}"),
        captured_at=datetime(2026, 11, 26, 9, 0, tzinfo=UTC) + timedelta(seconds=i),
        plate=f"GZ{i % 1000:03d}T",
        country="NL",
        plate_confidence=0.97,
        char_confidences=[0.99] * 6,
        lon=4.358 + i * 1e-5,
        lat=52.0115,
        position_accuracy_m=3.0,
        heading_deg=90.0,
        camera="right",
        zone_id="centrum",
        reason=SuspectReason.NO_RIGHT,
        software_version="fault-test",
        evidence=[
            EvidenceRef(
                name=n,
                kind="plate" if n == "plate" else "overview",
                sha256=hashlib.sha256(b).hexdigest(),
            )
            for n, b in images.items()
        ],
    )
    return meta, images


# --------------------------------------------------------------------------- disk full
@pytest.fixture
def tiny_disk() -> Iterator[Path]:
    need_root("mounting a tmpfs")
    mount = Path(tempfile.mkdtemp(prefix="scancar-disk-"))
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if r.returncode != 0:
        if IN_CI:
            pytest.fail(f"cannot mount a tmpfs: {r.stderr}")
        pytest.skip(f"cannot mount a tmpfs: {r.stderr}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)
        shutil.rmtree(mount, ignore_errors=True)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_disk_full_is_507_and_nothing_half_stored(tiny_disk, settings, engine, accounts):
    from api.main import create_app

    settings.data_dir = tiny_disk
    settings.evidence_min_free_mb = 0.25  # of the 512 KB disk
    app = create_app(settings, engine=engine)
    filler = tiny_disk / "filler.bin"
    with filler.open("wb") as fh:  # fill the disk to the last few KB
        try:
            while True:
                fh.write(b"\0" * 16384)
                fh.flush()
        except OSError:
            pass
    meta, parts = observation(images={"overview": ("overview", make_image(7, (400, 300)))})
    device = {"Authorization": f"Bearer {accounts.device('car-disk')}"}
    with serve(app) as base:
        r = httpx.post(f"{base}/api/v1/observations", files=multipart(meta, parts), headers=device)
        assert r.status_code == 507, r.text
        assert r.json()["code"] == "evidence_disk_full"
        assert "retry" in r.json()["detail"]
        with Session(engine) as s:
            assert s.exec(select(func.count()).select_from(HitRow)).one() == 0
        leftovers = [p for p in (tiny_disk / "evidence").rglob("*") if p.is_file()]
        assert leftovers == []
        ready = httpx.get(f"{base}/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["evidence_disk"].startswith("full (")
        assert ready.json()["checks"]["database"] == "ok"
        filler.unlink()
        ready = httpx.get(f"{base}/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"]["evidence_disk"] == "ok"
        again = httpx.post(
            f"{base}/api/v1/observations", files=multipart(meta, parts), headers=device
        )
        assert again.status_code == 201, again.text


# --------------------------------------------------------------------------- PostgreSQL restart
def test_postgres_restart_during_ingest_loses_nothing(private_pg, tmp_path):
    from api import migrate
    from api.auth.service import create_device
    from api.db import make_engine, session_scope
    from api.main import create_app
    from api.settings import BackendSettings

    engine = make_engine(private_pg.url, pool_size=4)
    migrate.upgrade(engine)
    with session_scope(engine) as s:
        _, token = create_device(s, name="car-pg")
    settings = BackendSettings(
        env="test",
        secret_key=TEST_SECRET,
        database_url=private_pg.url,
        data_dir=tmp_path / "data",
        run_background_jobs=False,
    )
    app = create_app(settings, engine=engine)
    outbox = SqliteOutbox(tmp_path / "car", quota_bytes=50_000_000)
    ids = set()
    for i in range(40):
        meta, images = _suspect(i, "pg-restart")
        outbox.put(meta, images)
        ids.add(str(meta.observation_id))
    with serve(app) as base, httpx.Client(timeout=5.0) as client:
        uploader = Uploader(
            outbox,
            client,
            base,
            token,
            batch_size=5,
            backoff=Backoff(base_s=0.05, max_s=0.5),
            idle_poll_s=0.1,
            rng=random.Random(7),
        )
        stop = threading.Event()
        worker = threading.Thread(target=uploader.run, args=(stop,), daemon=True)
        worker.start()
        deadline = time.monotonic() + 30
        while outbox.backlog() > 25 and time.monotonic() < deadline:
            time.sleep(0.02)
        private_pg.stop()
        meta, images = _suspect(999, "pg-probe")
        probe = httpx.post(
            f"{base}/api/v1/observations",
            files=[("metadata", (None, meta.model_dump_json(), "application/json"))]
            + [(n, (n, b, "image/jpeg")) for n, b in images.items()],
            headers={"Authorization": f"Bearer {token}"},
        )
        assert probe.status_code == 503, probe.text
        assert probe.json()["code"] == "database_unavailable"
        ready = httpx.get(f"{base}/readyz")
        assert ready.status_code == 503
        time.sleep(1.0)
        private_pg.start()
        deadline = time.monotonic() + 60
        while outbox.backlog() and time.monotonic() < deadline:
            time.sleep(0.1)
        stop.set()
        worker.join(timeout=10)
    assert outbox.backlog() == 0
    assert outbox.stats().dead == 0
    with Session(engine) as s:
        stored = s.exec(select(HitRow.observation_id)).all()
        assert sorted(stored) == sorted(ids)
        per_id = s.exec(
            select(HitRow.observation_id, func.count()).group_by(col(HitRow.observation_id))
        ).all()
        assert max(n for _, n in per_id) == 1
    engine.dispose()
