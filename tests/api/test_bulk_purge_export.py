# ruff: noqa: S608 - the fixture SQL is built from constants of this module
"""The purge and the export at a size no single statement could take: more than 65,535 rows
(the most bound parameters one PostgreSQL statement may carry) in each step, from a fixture
generated in SQL. The purge is interrupted by its time budget and goes on in the next run; the
export streams every fine of the batch."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import bindparam, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from api.audit.db import AuditRow
from api.auth.service import create_device
from api.db import UTCDateTime, utcnow
from api.evidence.store import EvidenceStore
from api.fines.db import FineEventRow, FineExportItemRow, FineRow
from api.hits.db import EvidenceRow, HitRightsCheckRow, HitRow
from api.retention.service import run_purge
from tests.bulk import false, series

N = 66_000  # > 65,535


def _bulk_world(engine: Engine, now):  # type: ignore[no-untyped-def]
    """N rejected hits decided 30 days ago (a photo and a rights check each) and N confirmed
    hits with paid fines issued 200 days ago (objection term long over)."""
    with Session(engine) as s:
        device, _ = create_device(s, name="bulk-car")
        s.commit()
        dev = device.id
    times = {
        "captured": now - timedelta(days=210),
        "decided": now - timedelta(days=30),
        "issued": now - timedelta(days=200),
        "deadline": now - timedelta(days=158),
        "closed": now - timedelta(days=150),
    }
    pg = engine.dialect.name == "postgresql"
    no = false(engine)
    digest = "lpad(CAST(id AS TEXT), 64, '0')" if pg else "printf('%064d', id)"
    with_, from_ = series(engine, 2 * N)
    hits = text(
        f"{with_}INSERT INTO hits (observation_id, device_id, content_sha256, metadata_json, "
        "status, plate, plate_confidence, captured_at, lon, lat, position_accuracy_m, camera, "
        "zone_id, reason, software_version, received_at, updated_at, repeat, decided_at, "
        "reject_reason) "
        f"SELECT 'bulk-' || i, {dev}, 'x', '{{}}', CASE WHEN i <= {N} THEN 'rejected' "
        "ELSE 'confirmed' END, 'BK' || i, 0.9, :captured, 4.35, 52.01, 3.0, 'right', 'centrum', "
        f"'no_right', 't', :captured, :decided, {no}, :decided, "
        f"CASE WHEN i <= {N} THEN 'driver_present' END FROM {from_}"
    )
    stamp = [bindparam(k, type_=UTCDateTime()) for k in times]
    with engine.begin() as conn:
        if pg:  # the report triggers are not under test here; the load is 3x faster without
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(hits.bindparams(*stamp[:2]), times)
        conn.execute(
            text(
                "INSERT INTO evidence (hit_id, name, kind, sha256, size_bytes, content_type, "
                f"width, height, created_at) SELECT id, 'plate', 'plate', {digest}, "
                "1, 'image/jpeg', 1, 1, :captured FROM hits WHERE status = 'rejected'"
            ).bindparams(stamp[0]),
            times,
        )
        conn.execute(
            text(
                "INSERT INTO hit_rights_checks (hit_id, at, source, plate, zone_id, "
                "checked_for, allowed, reason) SELECT id, :captured, 'car', plate, zone_id, "
                f":captured, {no}, 'no_right' FROM hits WHERE status = 'rejected'"
            ).bindparams(stamp[0]),
            times,
        )
        conn.execute(
            text(
                "INSERT INTO fines (hit_id, track, status, number, plate, zone_id, offence_at, "
                "amount_cents, paid_cents, calculation_json, evidence_json, "
                "needs_second_approval, created_at, updated_at, issued_at, objection_deadline, "
                "objection_late, closed_at) SELECT id, 'tax', 'paid', 'B-' || id, plate, zone_id, "
                f":captured, 8480, 8480, '{{}}', '{{}}', {no}, :captured, :closed, :issued, "
                f":deadline, {no}, :closed FROM hits WHERE status = 'confirmed'"
            ).bindparams(stamp[0], *stamp[2:]),
            times,
        )
        # issued fines wait for an export, as issuing one puts it on the list
        conn.execute(
            text(
                "INSERT INTO fine_export_pending (fine_id, track, issued_at, amount_cents) "
                "SELECT id, track, issued_at, amount_cents FROM fines"
            )
        )
    return times


def _count(engine: Engine, stmt) -> int:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return int(s.exec(stmt).one())


@pytest.fixture
def bulk(engine):
    now = utcnow()
    return {"now": now, **_bulk_world(engine, now)}


def test_bulk_export_streams_every_fine_of_one_batch(client, accounts, engine, bulk):
    bo = accounts.headers("backoffice")
    period = {
        "track": "tax",
        "from": (bulk["issued"] - timedelta(days=1)).isoformat(),
        "to": (bulk["issued"] + timedelta(days=1)).isoformat(),
    }
    r = client.get("/api/v1/fines/export", params=period, headers=bo)
    assert r.status_code == 200, r.text[:300]
    body = r.json()
    assert (body["created"], body["fine_count"], len(body["fines"])) == (True, N, N)
    assert body["total_cents"] == N * 8480
    assert len({f["fine_id"] for f in body["fines"]}) == N
    in_batch = FineExportItemRow.batch_id == body["batch_id"]
    assert _count(engine, select(func.count()).where(in_batch)) == N
    # the export is in each fine's history, read from the batch (no history row per fine)
    assert _count(engine, select(func.count()).where(FineEventRow.action == "export")) == 0
    one = client.get(f"/api/v1/fines/{body['fines'][-1]['fine_id']}", headers=bo).json()
    assert one["export_batch_id"] == body["batch_id"]
    assert [e["detail"] for e in one["history"] if e["action"] == "export"] == [
        f"batch={body['batch_id']}"
    ]
    again = client.get("/api/v1/fines/export", params={**period, "format": "csv"}, headers=bo)
    assert again.headers["x-batch-id"] == body["batch_id"]
    rows = list(csv.DictReader(io.StringIO(again.text)))
    assert len(rows) == N
    assert {row["batch_id"] for row in rows} == {body["batch_id"]}
    assert rows[0]["plate"].startswith("BK")


def test_bulk_purge_in_chunks_resumes_after_its_time_budget(engine, settings, bulk):
    store = EvidenceStore(settings.evidence_dir)
    now = bulk["now"]
    first = run_purge(engine, store, settings, now=now, max_seconds=0.001)
    assert not first.complete
    assert first.evidence_rows == settings.chunk_size  # one chunk, then out of time
    rest = run_purge(engine, store, settings, now=now)
    assert rest.complete
    assert first.evidence_hits + rest.evidence_hits == N
    assert first.evidence_rows + rest.evidence_rows == N
    assert first.rights_checks + rest.rights_checks == N
    assert first.hits_anonymised + rest.hits_anonymised == 2 * N
    assert first.fines_anonymised + rest.fines_anonymised == N
    assert _count(engine, select(func.count()).select_from(EvidenceRow)) == 0
    assert _count(engine, select(func.count()).select_from(HitRightsCheckRow)) == 0
    assert _count(engine, select(func.count()).where(HitRow.plate != "")) == 0
    assert _count(engine, select(func.count()).where(col(FineRow.plate).is_not(None))) == 0
    with Session(engine) as s:
        runs = s.exec(select(AuditRow.detail).where(AuditRow.action == "retention.purge")).all()
    assert len(runs) == 2
    assert "complete=False" in runs[0]
    assert f"fines_anonymised={rest.fines_anonymised}" in runs[1]
    assert run_purge(engine, store, settings, now=now).changed is False
