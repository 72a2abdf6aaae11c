"""``scancar demo --no-serve --json``: one command, a fresh backend process, the fixture route,
and precision 1.0 / recall >= 0.95 of the backend's hits against the route's ground truth; the
dashboard's default period (the last 30 days) holds the drive: its hits, and the reads and
suspects the car reported in its heartbeats."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import REPO
from tests.integration.pipeline.car_support import require_model


def test_car_demo_no_serve_json_precision_and_recall(tmp_path):
    model = require_model()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "scancar",
            "demo",
            "--no-serve",
            "--json",
            "--folder",
            str(tmp_path / "demo"),
        ],
        cwd=REPO,
        env=dict(os.environ, PYTHONPATH=str(REPO), SCANCAR_OCR_MODEL=model),
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["precision"] == 1.0
    assert summary["recall"] >= 0.95
    assert summary["hits_in_backend"] == summary["true_positives"]
    assert summary["frames"] == 230
    assert summary["suspects_pending"] == 0
    _dashboard_figures_agree(tmp_path / "demo" / "scancar.db", summary)
    _rights_from_the_cache(tmp_path / "demo" / "scancar.db")


def _rights_from_the_cache(db: Path) -> None:
    """The demo's route and the car's cache agree in time: every pass was checked offline
    (the hits say their answer came from the cache) and no check went online."""
    import sqlite3
    from contextlib import closing

    with closing(sqlite3.connect(db)) as con:
        sources = {r[0] for r in con.execute("SELECT rights_cache_version FROM hits")}
        online = con.execute(
            "SELECT count(*) FROM rights_check_log WHERE actor_type = 'device'"
        ).fetchone()[0]
    assert sources == {"cache"}
    assert online == 0


def _dashboard_figures_agree(db: Path, summary: dict[str, Any]) -> None:
    from sqlmodel import Session, col, select

    from api.db import make_engine, utcnow
    from api.devices.db import HeartbeatRow
    from api.reports import service as reports

    engine = make_engine(f"sqlite:///{db}")
    with Session(engine) as s:
        last = s.exec(select(HeartbeatRow).order_by(col(HeartbeatRow.id).desc())).first()
        figures = reports.summary(s, *reports.last_days(30, utcnow()))
    engine.dispose()
    assert last is not None
    assert figures.hits_total == summary["hits_in_backend"]
    assert (figures.scans, figures.suspects) == (last.counts["reads"], last.counts["suspects"])
    assert figures.scans > figures.suspects > 0
