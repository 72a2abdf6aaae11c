"""Crash safety: a worker filling and draining the outbox is killed with SIGKILL at random
(seeded) moments, restarted, and in the end the backend holds every suspect exactly once."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scancar.outbox.store import SqliteOutbox
from tests.integration.outbox.outbox_backend import BackendState, content_hash, running_backend
from tests.integration.outbox.outbox_factory import make_suspect, observation_id

WORKER = Path(__file__).resolve().parent / "outbox_worker.py"
COUNT = 120
KILLS = 8


def start_worker(directory: Path, url: str, run: str, seed: int) -> subprocess.Popen[bytes]:
    log = (directory.parent / f"worker-{seed}.log").open("wb")
    with log:
        return subprocess.Popen(
            [sys.executable, str(WORKER), str(directory), url, str(COUNT), run, str(seed)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def wait_until_ready(log: Path, worker: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and worker.poll() is None:
        if b"ready" in log.read_bytes():
            return
        time.sleep(0.02)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [20260302])
def test_outbox_delivers_every_suspect_exactly_once_across_kill_9(
    tmp_path: Path, seed: int
) -> None:
    rng = random.Random(seed)
    run = f"kill9-{seed}"
    directory = tmp_path / "outbox"
    state = BackendState()
    # transient trouble on the backend side as well: 500s, hangs past the client timeout
    # (stored server-side, so the retry is a duplicate) and dropped connections
    state.script.extend(
        rng.choice(["", "", "", "", "500", "hang:0.4", "drop"]) for _ in range(COUNT)
    )
    killed_with_backlog = 0
    progress: list[int] = []  # observations stored by the backend after each kill
    with running_backend(state) as (url, _):
        for round_ in range(KILLS):
            worker = start_worker(directory, url, run, seed + round_)
            if rng.random() < 0.25:
                time.sleep(rng.uniform(0.0, 0.8))  # during start-up / reconcile
            else:
                wait_until_ready(tmp_path / f"worker-{seed + round_}.log", worker)
                time.sleep(rng.uniform(0.0, 1.5))  # while putting and uploading
            if worker.poll() is None:
                os.kill(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)
            if worker.returncode == -signal.SIGKILL:
                killed_with_backlog += 1
            progress.append(len(state.stored))
        final = start_worker(directory, url, run, seed + KILLS)
        final.wait(timeout=240)
        log = (tmp_path / f"worker-{seed + KILLS}.log").read_text(errors="replace")
        assert final.returncode == 0, log[-3000:]
        assert f"pending=0 sent={COUNT} dead=0" in log

    expected = {str(observation_id(i, run)): i for i in range(COUNT)}
    # the kills really hit a working process, at different stages of the run
    assert killed_with_backlog >= 3, progress
    assert len(set(progress)) >= 2, progress
    assert set(state.stored) == set(expected)
    assert state.conflicts == 0
    for oid, index in expected.items():
        metadata, evidence = make_suspect(index, run, image_bytes=3000)
        assert state.stored[oid] == content_hash(metadata.model_dump_json().encode(), evidence)
    assert all(n >= 1 for n in state.receipts.values())
    with SqliteOutbox(directory, 500_000_000) as outbox:
        stats = outbox.stats()
        print("stored after each kill:", progress, "posts:", sum(state.posts.values()))
        assert (stats.pending, stats.sent, stats.dead) == (0, COUNT, 0)
        assert list(outbox.evidence_dir.iterdir()) == []
