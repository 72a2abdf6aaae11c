"""``scancar run`` as a real process on the recorded fixture route (image folder + NMEA file):
it runs to the end of the frames, stops cleanly on SIGTERM (exit 0) and restarts without
reporting anything twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter

from tests.conftest import REPO
from tests.integration.pipeline.car_support import demo_route, outbox_plates, require_model


def _config(tmp_path, route, model):
    text = f"""
data_dir = "{tmp_path / "car"}"
ocr_model = "{model}"
[gps]
source = "nmea:{route.gps_file}"
keep_s = 100000
[zones]
file = "{REPO / "fixtures" / "zones" / "town.geojson"}"
[rights]
key_file = "{route.folder / "rights.key"}"
snapshot = "{route.folder / "rights-snapshot.ndjson"}"
max_age_minutes = 100000000
[[cameras]]
name = "cam-right"
source = "{route.frames_dir}"
side = "right"
distance_m = 3.0
"""
    path = tmp_path / "car.toml"
    path.write_text(text)
    return path


def _start(config):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.Popen(
        [sys.executable, "-m", "api.cli", "run", "--config", str(config)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_car_run_whole_route_then_restart_reports_nothing_twice(tmp_path):
    model = require_model()
    route = demo_route()
    config = _config(tmp_path, route, model)
    first = _start(config)
    out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    counters = json.loads(out.strip().splitlines()[-1])
    assert counters["suspects_stored"] == len(route.expected_hits)
    second = _start(config)
    out, err = second.communicate(timeout=300)
    assert second.returncode == 0, err
    again = json.loads(out.strip().splitlines()[-1])
    assert again["suspects_stored"] == 0
    assert again["outcomes"]["discard_repeat"] == len(route.expected_hits)
    assert Counter(outbox_plates(tmp_path / "car")) == Counter(route.expected_hits)
    log_lines = (tmp_path / "car" / "logs" / "car.log").read_text().splitlines()
    assert all(json.loads(line)["level"] for line in log_lines)


def test_car_run_sigterm_exits_zero_and_restart_completes(tmp_path):
    model = require_model()
    route = demo_route()
    config = _config(tmp_path, route, model)
    proc = _start(config)
    log = tmp_path / "car" / "logs" / "car.log"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (log.exists() and "running" in log.read_text()):
        time.sleep(0.1)
    time.sleep(1.0)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    stopped = json.loads(out.strip().splitlines()[-1])
    assert stopped["frames"] < route.frames
    restart = _start(config)
    out, err = restart.communicate(timeout=300)
    assert restart.returncode == 0, err
    assert Counter(outbox_plates(tmp_path / "car")) == Counter(route.expected_hits)


def test_car_run_bad_config_one_line_exit_2(tmp_path):
    path = tmp_path / "car.toml"
    path.write_text(
        'data_dir = "x"\n[gps]\nsource = "usb"\n[[cameras]]\nname = "a"\nsource = "0"\n'
    )
    proc = subprocess.run(
        [sys.executable, "-m", "api.cli", "run", "--config", str(path)],
        cwd=REPO,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert "gps.source" in proc.stderr
