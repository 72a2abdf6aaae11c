"""A demo killed with SIGKILL (no chance to clean up) leaves no backend behind on its port."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx

from scancar.cli.demo import free_port
from tests.conftest import REPO
from tests.integration.pipeline.car_support import require_model


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _wait(condition, seconds: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_killed_demo_takes_its_backend_with_it(tmp_path):
    model = require_model()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    demo = subprocess.Popen(
        [sys.executable, "-m", "scancar", "demo", "--port", str(port), "--folder", str(tmp_path)],
        cwd=REPO,
        env=dict(os.environ, PYTHONPATH=str(REPO), SCANCAR_OCR_MODEL=model),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert _wait(lambda: _answers(url), 180), "the demo's backend never answered"
        demo.send_signal(signal.SIGKILL)
        demo.wait(timeout=10)
        assert _wait(lambda: not _answers(url), 20), "the backend outlived the killed demo"
    finally:
        if demo.poll() is None:
            demo.kill()
