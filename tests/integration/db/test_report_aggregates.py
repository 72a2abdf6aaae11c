"""The report aggregates: kept by triggers exactly as a rebuild computes them, on both
databases; SQLite's local-time rule agrees with zoneinfo."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.auth.service import create_device
from api.devices.db import HeartbeatRow
from api.fines.db import FineRow
from api.hits.db import HitRow
from api.reports import rollup

LOCAL = ZoneInfo("Europe/Amsterdam")


@pytest.mark.parametrize("year", [1996, 2026, 2037])
def test_rollup_sqlite_local_time_matches_zoneinfo_every_hour(year):
    """Every UTC hour of a year (and the minute either side of each switch) in SQLite's
    rule gives the same local day and hour as Europe/Amsterdam in zoneinfo."""
    con = sqlite3.connect(":memory:")
    day_sql = rollup.local_day_sql("sqlite", "?")
    hour_sql = rollup.local_hour_sql("sqlite", "?")
    t = datetime(year, 1, 1, tzinfo=UTC)
    times = []
    while t.year == year:
        times += [t, t + timedelta(minutes=59, seconds=59, microseconds=999_999)]
        t += timedelta(hours=1)
    stmt = f"SELECT {day_sql}, {hour_sql}".replace("?", ":t")
    for t in times:
        stored = t.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
        day, hour = con.execute(stmt, {"t": stored}).fetchone()
        local = t.astimezone(LOCAL)
        assert (day, hour) == (local.date().isoformat(), local.hour), stored


MEASURES = {
    "report_hits_daily": ("hits", "decided", "decision_seconds"),
    "report_hits_hourly": ("hits",),
    "report_fines_daily": ("fines", "issued", "amount_issued_cents", "paid_cents"),
    "report_scans_daily": ("reads", "checks", "suspects"),
}


def _snapshot(engine: Engine) -> dict[str, set[tuple[object, ...]]]:
    """The aggregate tables without rows that add up to nothing (a rebuild makes none)."""
    out: dict[str, set[tuple[object, ...]]] = {}
    with engine.connect() as conn:
        for table, measures in MEASURES.items():
            rows = conn.execute(text(f"SELECT * FROM {table}")).mappings().all()  # noqa: S608
            out[table] = {
                tuple(round(v, 3) if isinstance(v, float) else str(v) for v in r.values())
                for r in rows
                if any(round(r[m], 3) for m in measures)
            }
    return out


def _hit(session: Session, device: int, at: datetime, **kw: object) -> HitRow:
    hit = HitRow(
        observation_id=str(uuid.uuid4()),
        device_id=device,
        content_sha256="0" * 64,
        metadata_json="{}",
        status=kw.pop("status", "pending_grace"),
        plate=kw.pop("plate", "GZ123T"),
        plate_confidence=0.9,
        captured_at=at,
        lon=4.35,
        lat=52.01,
        position_accuracy_m=3.0,
        camera="right",
        zone_id=kw.pop("zone_id", "centrum"),
        reason="no_right",
        software_version="t",
        **kw,
    )
    session.add(hit)
    session.flush()
    return hit


def _workload(engine: Engine) -> None:
    """Inserts, status changes, decisions, a zone move, deletes, fines paid and annulled,
    heartbeats of two runs with a restart; around the summer-time switch and midnight."""
    base = datetime(2026, 10, 24, 22, 30, tzinfo=UTC)  # 00:30 local on 25 Oct, the switch day
    with Session(engine) as s:
        device, _ = create_device(s, name=f"car-{uuid.uuid4().hex[:6]}")
        dev = device.id or 0
        hits = [_hit(s, dev, base + timedelta(minutes=37 * i)) for i in range(12)]
        hits += [_hit(s, dev, base, zone_id=None), _hit(s, dev, base, zone_id=None)]
        s.commit()
        for i, h in enumerate(hits):
            h.status = "awaiting_review"
            if i % 3 == 0:
                h.status, h.decided_at = "confirmed", h.captured_at + timedelta(minutes=5 + i)
            elif i % 3 == 1:
                h.status, h.reject_reason = "rejected", "driver_present"
                h.decided_at = h.captured_at + timedelta(hours=i)
            s.add(h)
        s.commit()
        hits[4].zone_id = "noord"
        hits[5].captured_at = hits[5].captured_at + timedelta(days=1)
        hits[7].status = "claimed"
        s.add_all([hits[4], hits[5], hits[7]])
        s.commit()
        fines = []
        for h in hits[:12:3]:
            f = FineRow(
                hit_id=h.id or 0,
                track="tax",
                status="draft",
                plate=h.plate,
                zone_id=h.zone_id,
                offence_at=h.captured_at,
                amount_cents=8480,
            )
            s.add(f)
            fines.append(f)
        s.commit()
        fines[0].status, fines[0].issued_at = "issued", base + timedelta(days=1)
        fines[1].status, fines[1].issued_at, fines[1].paid_cents = "paid", base, 8480
        fines[2].status = "annulled"
        s.add_all(fines)
        s.commit()
        s.delete(fines[3])
        s.commit()
        s.delete(s.get(HitRow, hits[-1].id))
        s.commit()
        for k, (run, reads) in enumerate(
            [("a", 10), ("a", 25), ("a", 40), ("a", 5), ("b", 7), (None, 3), (None, 9), ("a", 12)]
        ):
            s.add(
                HeartbeatRow(
                    device_id=dev,
                    run_id=run,
                    sent_at=base + timedelta(minutes=50 * k),
                    received_at=base,
                    counts={"reads": reads, "checks": reads, "suspects": reads // 5},
                    software_version="t",
                )
            )
            s.commit()


def test_rollup_triggers_keep_the_aggregates_a_rebuild_computes(engine):
    _workload(engine)
    kept = _snapshot(engine)
    assert kept["report_hits_daily"], "the triggers wrote nothing"
    assert kept["report_scans_daily"]
    rollup.rebuild(engine)
    rebuilt = _snapshot(engine)
    assert kept == rebuilt


def test_rollup_counts_heartbeat_increments_per_run(engine):
    """Run a: 10, 25, 40, then 5 (a restart: counts in full), 12; run b: 7; no run: 3, 9."""
    _workload(engine)
    with engine.connect() as conn:
        reads = conn.execute(text("SELECT SUM(reads) FROM report_scans_daily")).scalar_one()
    assert reads == 40 + 5 + (12 - 5) + 7 + 9


def test_rollup_hits_count_on_the_local_day_across_the_switch(engine):
    """A hit at 00:30 UTC on 25 Oct 2026 is 02:30 local (summer time ends at 01:00 UTC)."""
    with Session(engine) as s:
        device, _ = create_device(s, name="car-x")
        _hit(s, device.id or 0, datetime(2026, 10, 25, 0, 30, tzinfo=UTC))
        _hit(s, device.id or 0, datetime(2026, 10, 25, 1, 30, tzinfo=UTC))
        _hit(s, device.id or 0, datetime(2026, 10, 24, 22, 30, tzinfo=UTC))
        s.commit()
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT day, hour, hits FROM report_hits_hourly ORDER BY day, hour")
        ).all()
    assert [(str(d), h, n) for d, h, n in rows] == [("2026-10-25", 0, 1), ("2026-10-25", 2, 2)]
