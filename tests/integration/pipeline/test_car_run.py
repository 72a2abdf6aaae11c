"""The car's commands as real processes on the recorded fixture route: ``scancar replay`` (the
same ``build_car`` as ``run``) stops cleanly on SIGTERM (exit 0) and a restart on the same data
folder completes without reporting anything twice; ``scancar run`` refuses recordings and bad
configuration with one line."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from tests.conftest import REPO
from tests.integration.pipeline.car_support import demo_route, outbox_plates, require_model

TOWN = REPO / "fixtures" / "zones" / "town.geojson"


def _replay(route, data_dir, *extra):
    env = dict(os.environ, PYTHONPATH=str(REPO), SCANCAR_OCR_MODEL=require_model())
    args = [
        *("--frames", f"cam-right={route.frames_dir}", "--gps", str(route.gps_file)),
        *("--data-dir", str(data_dir), "--zones", str(TOWN)),
        *("--rights-snapshot", str(route.folder / "rights-snapshot.ndjson")),
        *("--rights-key", str(route.folder / "rights.key"), "--json"),
        *extra,
    ]
    return subprocess.Popen(
        [sys.executable, "-m", "scancar", "replay", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _stored(outbox: Path) -> int:
    with contextlib.closing(sqlite3.connect(f"file:{outbox}?mode=ro", uri=True)) as con:
        return int(con.execute("SELECT count(*) FROM outbox").fetchone()[0])


def test_car_replay_sigterm_exits_zero_and_restart_reports_nothing_twice(tmp_path):
    route = demo_route()
    data_dir = tmp_path / "car"
    proc = _replay(route, data_dir, "--speed", "5")
    outbox = data_dir / "outbox" / "outbox.sqlite3"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and proc.poll() is None:
        # read-only: opening the SqliteOutbox here would run its start-up repair under the
        # running car (and delete the evidence of a put in progress)
        if outbox.exists() and _stored(outbox) > 0:
            break
        time.sleep(0.1)
    assert proc.poll() is None, proc.communicate()[1]
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    stopped = json.loads(out.strip().splitlines()[-1])
    assert 0 < stopped["frames"] < route.frames
    assert 0 < stopped["suspects_stored"] < len(route.expected_hits)

    restart = _replay(route, data_dir)
    out, err = restart.communicate(timeout=300)
    assert restart.returncode == 0, err
    again = json.loads(out.strip().splitlines()[-1])
    assert again["frames"] == route.frames
    assert again["outcomes"]["discard_repeat"] == stopped["suspects_stored"]
    assert Counter(outbox_plates(data_dir)) == Counter(route.expected_hits)


def _run(config):
    return subprocess.run(
        [sys.executable, "-m", "scancar", "run", "--config", str(config)],
        cwd=REPO,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_car_run_refuses_a_recording_with_one_line_pointing_to_replay(tmp_path):
    route = demo_route()
    path = tmp_path / "car.toml"
    path.write_text(
        f'data_dir = "{tmp_path / "car"}"\n[gps]\nsource = "nmea:{route.gps_file}"\n'
        f'[zones]\nfile = "{TOWN}"\n[[cameras]]\nname = "a"\nsource = "{route.frames_dir}"\n'
    )
    proc = _run(path)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert "cameras.0.source" in proc.stderr
    assert "scancar replay" in proc.stderr
    log = (tmp_path / "car" / "logs" / "car.log").read_text()
    assert "is a recording" in log


def test_car_run_bad_config_one_line_exit_2(tmp_path):
    path = tmp_path / "car.toml"
    path.write_text(
        'data_dir = "x"\n[gps]\nsource = "usb"\n[[cameras]]\nname = "a"\nsource = "0"\n'
    )
    proc = _run(path)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert "gps.source" in proc.stderr
