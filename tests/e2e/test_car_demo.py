"""``scancar demo --no-serve --json``: one command, a fresh backend process, the fixture route,
and precision 1.0 / recall >= 0.95 of the backend's hits against the route's ground truth."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import REPO
from tests.integration.pipeline.car_support import require_model


def test_car_demo_no_serve_json_precision_and_recall(tmp_path):
    model = require_model()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "api.cli",
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
