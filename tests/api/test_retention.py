"""Retention: with a controllable clock, nothing personal outlives its term in the database, the
evidence folder or the logs; every purge writes its counts (never plates) to the audit log."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta

import pytest
from sqlmodel import Session, select

from api.audit.db import AuditRow
from api.db import utcnow
from api.fines.db import FineRow
from api.hits.db import EvidenceRow, HitRightsCheckRow, HitRow
from api.retention.jobs import tick
from api.retention.service import run_purge
from api.review import service as review
from api.review.ports import RightsResult
from tests.api.review_support import FakeRights, post_hit
from tests.conftest import REPO
from tests.factories import CAPTURED_AT, make_image

TOWN = json.loads((REPO / "fixtures" / "zones" / "town.geojson").read_text())
PLATES = {"rejected": "RJ01AA", "dismissed": "DS02BB", "paid": "FN03CC", "open": "OP04DD"}


@pytest.fixture
def rights():
    return FakeRights({PLATES["dismissed"]: RightsResult(True, "paid")})


@pytest.fixture
def app(settings, engine, rights):
    from api.main import create_app

    return create_app(settings, engine=engine, rights_checker=rights)


def _images(seed: int) -> dict[str, tuple[str, bytes]]:
    return {
        "plate": ("plate", make_image(seed, (160, 40))),
        "overview": ("overview", make_image(seed + 1)),
    }


@pytest.fixture
def world(client, accounts, app, engine):
    """Four hits: rejected, dismissed (right found at grace), confirmed + paid, confirmed + open."""
    from api.db import session_scope
    from api.fines.tariffs import seed_default_tariffs

    admin, bo, boa = (accounts.headers(r) for r in ("admin", "backoffice", "boa"))
    assert client.put("/api/v1/zones", json=TOWN, headers=admin).status_code == 201
    with session_scope(engine) as s:
        seed_default_tariffs(s)
    device = accounts.headers("device")
    ids = {
        key: post_hit(client, device, plate=plate, images=_images(10 * i))
        for i, (key, plate) in enumerate(PLATES.items(), start=1)
    }
    st = app.state.backend
    report = review.run_grace_step(
        st.engine,
        st.evidence_store,
        st.rights_checker,
        st.zone_rules,
        st.settings,
        now=CAPTURED_AT + timedelta(minutes=30),
    )
    assert (report.dismissed, report.to_review) == (1, 3)
    on_site = {"mode": "on_site", "lon": 4.3581, "lat": 52.0116}
    for key in ("rejected", "paid", "open"):
        hid = ids[key]
        assert client.post(f"/api/v1/hits/{hid}/claim", headers=boa).status_code == 200
        if key == "rejected":
            body = {"reason": "driver_present"}
            r = client.post(f"/api/v1/hits/{hid}/reject", json=body, headers=boa)
        else:
            r = client.post(f"/api/v1/hits/{hid}/confirm", json=on_site, headers=boa)
        assert r.status_code == 200, r.text
    fines = {}
    for key in ("paid", "open"):
        (fine,) = client.get("/api/v1/fines", params={"hit_id": ids[key]}, headers=bo).json()[
            "data"
        ]
        assert client.post(f"/api/v1/fines/{fine['id']}/issue", headers=bo).status_code == 200
        fines[key] = fine["id"]
    r = client.post(
        f"/api/v1/fines/{fines['paid']}/payments", json={"amount_cents": 8480}, headers=bo
    )
    assert r.json()["status"] == "paid"
    return {"hits": ids, "fines": fines, "t0": utcnow(), "bo": bo}


def _evidence_hashes(engine, hit_id: int) -> set[str]:
    with Session(engine) as s:
        return set(s.exec(select(EvidenceRow.sha256).where(EvidenceRow.hit_id == hit_id)).all())


def _all_rows_text(engine) -> str:
    from api.tables import metadata

    chunks = []
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(table.select()):
                chunks.append(f"{table.name}: {tuple(row)!r}")
    return "\n".join(chunks)


def _files(settings) -> list[str]:
    root = settings.evidence_dir
    return sorted(p.name for p in root.glob("*/*/*") if p.is_file()) if root.exists() else []


def test_retention_nothing_personal_outlives_its_term(world, app, engine, settings, client, caplog):
    caplog.set_level(logging.DEBUG)
    st = app.state.backend
    t0: datetime = world["t0"]
    hits, fines = world["hits"], world["fines"]
    rejected_files = _evidence_hashes(engine, hits["rejected"])
    assert len(rejected_files) == 2
    assert _evidence_hashes(engine, hits["dismissed"]) == set()  # gone at the grace step

    def purge(delta: timedelta, **kw):
        return run_purge(st.engine, st.evidence_store, settings, now=t0 + delta, **kw)

    # within 24 h nothing of the rejected hit goes
    assert purge(timedelta(hours=23)).evidence_rows == 0
    assert _evidence_hashes(engine, hits["rejected"]) == rejected_files
    dry = purge(timedelta(hours=25), dry_run=True)
    assert (dry.dry_run, dry.evidence_hits) == (True, 1)
    assert _evidence_hashes(engine, hits["rejected"]) == rejected_files

    # after 24 h the rejected hit's evidence rows and files are gone
    r = purge(timedelta(hours=25))
    assert (r.evidence_hits, r.evidence_rows, r.rights_checks, r.hits_anonymised) == (1, 2, 0, 0)
    assert _evidence_hashes(engine, hits["rejected"]) == set()
    assert not set(_files(settings)) & rejected_files
    assert len(_files(settings)) == 4  # the two confirmed hits keep their photos

    # after 7 days: rights-check rows, and plates of the rejected and dismissed hits
    r = purge(timedelta(days=8))
    assert r.rights_checks >= 6
    assert r.hits_anonymised == 2
    with Session(engine) as s:
        assert s.exec(select(HitRightsCheckRow)).all() == []
        rej = s.get(HitRow, hits["rejected"])
        assert (rej.plate, rej.metadata_json, rej.reject_reason) == ("", "{}", "driver_present")
        assert s.get(HitRow, hits["open"]).plate == PLATES["open"]  # open fine: kept
    pack = client.get(f"/api/v1/fines/{fines['open']}/pack", headers=world["bo"]).text
    assert "geen geldig parkeerrecht" in pack  # the fine kept its own snapshot

    # the paid fine: not before its objection term + 91 days
    with Session(engine) as s:
        deadline = s.get(FineRow, fines["paid"]).objection_deadline
    assert deadline is not None
    assert purge(deadline - t0 + timedelta(days=90)).fines_anonymised == 0
    r = purge(deadline - t0 + timedelta(days=91, minutes=1))
    assert r.fines_anonymised == 1
    with Session(engine) as s:
        paid = s.get(FineRow, fines["paid"])
        assert (paid.plate, paid.amount_cents, paid.paid_cents) == (None, 8480, 8480)
        assert paid.anonymised_at is not None
        assert s.get(HitRow, hits["paid"]).plate == ""
        assert s.get(FineRow, fines["open"]).plate == PLATES["open"]

    # the open fine is annulled; its term runs out too; then nothing is left
    ann = client.post(
        f"/api/v1/fines/{fines['open']}/annul", json={"reason": "test"}, headers=world["bo"]
    )
    assert ann.status_code == 200
    report = tick(st, now=deadline + timedelta(days=200))
    assert report.purge is not None
    assert report.purge.fines_anonymised == 1

    everything = _all_rows_text(engine)
    for plate in PLATES.values():
        assert plate not in everything, plate
    assert _files(settings) == []
    for plate in PLATES.values():
        assert plate not in caplog.text
    with Session(engine) as s:
        runs = s.exec(select(AuditRow).where(AuditRow.action == "retention.purge")).all()
    assert len(runs) == 4  # only runs that removed something write a row
    assert "fines_anonymised=1" in runs[-1].detail
    assert runs[-1].actor_name == "system"


def test_retention_purge_removes_orphan_files(app, settings, engine):
    store = app.state.backend.evidence_store
    digest, _ = store.put(b"left behind by a crash")
    assert run_purge(engine, store, settings, now=utcnow()).files_deleted == 0  # too new
    report = run_purge(engine, store, settings, now=utcnow() + timedelta(hours=2))
    assert report.files_deleted == 1
    assert not store.exists(digest)


def test_retention_background_loop_runs_with_the_app(settings, engine, rights, accounts):
    """With background jobs on, the server process moves a hit past its grace by itself."""
    import time

    from fastapi.testclient import TestClient

    from api.main import create_app

    fast = settings.model_copy(update={"run_background_jobs": True, "background_interval_s": 0.05})
    app = create_app(fast, engine=engine, rights_checker=rights)
    with TestClient(app) as c:
        accounts.client = c
        hid = post_hit(c, accounts.headers("device"), plate="BG11JJ")
        status = "pending_grace"
        for _ in range(200):
            with Session(engine) as s:
                status = s.get(HitRow, hid).status
            if status != "pending_grace":
                break
            time.sleep(0.05)
    assert status == "awaiting_review"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_retention_admin_commands(world, settings, engine, monkeypatch):
    from typer.testing import CliRunner

    from scancar.cli.root import app as cli

    monkeypatch.setenv("SCANCAR_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SCANCAR_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("SCANCAR_ENV", "test")
    monkeypatch.setenv("SCANCAR_SECRET_KEY", settings.secret_key)
    runner = CliRunner()
    dry = runner.invoke(cli, ["admin", "purge", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert dry.output == "nothing is past its retention term\n"
    tick = runner.invoke(cli, ["admin", "tick"])
    assert tick.exit_code == 0, tick.output
    assert tick.output.splitlines() == [
        "grace: no hit past its grace period",
        "permits: no permit due to expire",
        "purge: nothing to remove",
    ]
    seed = runner.invoke(cli, ["admin", "seed-tariffs"])
    assert seed.output.strip() == "added 0 cost and 0 offence entries"
    with Session(engine) as s:
        assert s.exec(select(EvidenceRow)).all() != []  # nothing was due yet
