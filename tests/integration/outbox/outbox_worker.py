"""Subprocess of the kill -9 test: puts suspects 0..count-1 of a run into the outbox (skipping
the ones it already holds, like a pipeline resuming after a crash) while an uploader thread
drains it to the test backend; exits 0 once everything is sent.

Usage: python outbox_worker.py DIR URL COUNT RUN SEED
"""

from __future__ import annotations

import random
import sys
import threading
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parents[2]), str(HERE)]

import httpx  # noqa: E402
from outbox_backend import TOKEN  # noqa: E402
from outbox_factory import make_suspect, observation_id  # noqa: E402

from scancar.outbox.store import SqliteOutbox  # noqa: E402
from scancar.outbox.uploader import Backoff, Uploader  # noqa: E402


def main(directory: str, url: str, count: int, run: str, seed: int) -> int:
    with SqliteOutbox(directory, 500_000_000) as outbox, httpx.Client(timeout=0.25) as client:
        uploader = Uploader(
            outbox,
            client,
            url,
            TOKEN,
            backoff=Backoff(base_s=0.01, max_s=0.05),
            rng=random.Random(seed),
            idle_poll_s=0.01,
        )
        stop = threading.Event()
        thread = threading.Thread(target=uploader.run, args=(stop,))
        thread.start()
        print("ready", flush=True)
        try:
            for i in range(count):
                if outbox.state_of(observation_id(i, run)) is None:
                    outbox.put(*make_suspect(i, run, image_bytes=3000))
            while outbox.backlog():
                stop.wait(0.01)
        finally:
            stop.set()
            thread.join()
        stats = outbox.stats()
        print(f"pending={stats.pending} sent={stats.sent} dead={stats.dead}")
        return 0 if stats.pending == 0 and stats.dead == 0 else 1


if __name__ == "__main__":
    directory, url, count, run, seed = sys.argv[1:6]
    sys.exit(main(directory, url, int(count), run, int(seed)))
