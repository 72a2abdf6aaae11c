"""``scancar permits import FILE`` / ``scancar permits export`` on a real SQLite database."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

GOOD = """id,type,holder_ref,plates,area_codes,valid_from,valid_to,status,visitor_budget_minutes
R-1,resident,H-1,gz-123-t,0518_CENTRUM,2026-01-01T00:00:00+01:00,2027-01-01T00:00:00+01:00,,
B-2,business,H-2,XK52GV;AB12CD,0518_CENTRUM;0518_NOORD,2026-01-01T00:00:00+01:00,,active,
V-3,visitor,H-3,,0518_NOORD,2026-01-01T00:00:00Z,,,600
"""
BAD = """id,type,holder_ref,plates,area_codes,valid_from,valid_to,status,visitor_budget_minutes
N-1,resident,H-1,NN11NN,0518_CENTRUM,2026-01-01T00:00:00+01:00,,,
N-2,parking,H-2,NN22NN,0518_CENTRUM,2026-01-01T00:00:00+01:00,,,
N-3,resident,H-3,NN33NN,0518_CENTRUM,2026-01-01T00:00:00,,,
"""


def _cli(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, SCANCAR_ENV="development", SCANCAR_DATABASE_URL=f"sqlite:///{db}")
    return subprocess.run(
        [sys.executable, "-m", "scancar", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        cwd=REPO,
    )


def test_permits_cli_import_reports_bad_rows_and_exports(tmp_path):
    db = tmp_path / "p.db"
    assert _cli("db", "upgrade", db=db).returncode == 0
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text(GOOD)
    bad.write_text(BAD)

    no_zones = _cli("permits", "import", str(good), db=db)
    assert no_zones.returncode == 1
    assert no_zones.stdout.startswith("line 1, column 'area_codes': no zones are imported yet")
    imp = _cli("permits", "import", str(good), "--allow-unknown-areas", db=db)
    assert imp.returncode == 0, imp.stderr
    assert imp.stdout.strip() == "imported 3 permits"

    rejected = _cli("permits", "import", str(bad), "--allow-unknown-areas", db=db)
    assert rejected.returncode == 1
    lines = rejected.stdout.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("line 3, column 'type'")
    assert lines[1].startswith("line 4, column 'valid_from'")
    again = _cli("permits", "import", str(good), "--allow-unknown-areas", db=db)
    assert again.returncode == 1
    assert "already exist" in again.stderr

    out = _cli("permits", "export", db=db)
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert [(r["id"], r["plates"], r["status"]) for r in rows] == [
        ("B-2", "AB12CD;XK52GV", "active"),
        ("R-1", "GZ123T", "active"),
        ("V-3", "", "active"),
    ]
    assert rows[2]["visitor_budget_minutes"] == "600"
