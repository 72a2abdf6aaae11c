"""Load on observation ingest: simulated scan cars posting observations with two ~100 KB
evidence images each to a real `scancar serve` (several uvicorn workers).

Prints, for PostgreSQL and then SQLite: the sustained rate with N cars posting as fast as they
can (closed loop), then latency percentiles at a fixed offered load (open loop, default 100/s),
and the server's resident memory afterwards. Targets on the 2-core machine: >= 200
observations/s on PostgreSQL, p99 < 250 ms at 100/s offered.

    python bench/load_ingest.py [--cars 8] [--seconds 15] [--rate 100] [--workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import io
import json
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._server import database, percentile, rss_mb, serve

IMAGE_SIDE = (400, 330)  # noise JPEG of about 100 KB


def make_images(n: int, seed: int = 1) -> list[bytes]:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 255, size=(IMAGE_SIDE[1], IMAGE_SIDE[0], 3), dtype=np.uint8)
    out = []
    for i in range(n):
        arr = base.copy()
        arr[0, :16] = np.frombuffer(i.to_bytes(48, "big"), dtype=np.uint8).reshape(16, 3)
        buf = io.BytesIO()
        Image.fromarray(arr).save(buf, format="JPEG", quality=70)
        out.append(buf.getvalue())
    return out


def observation(i: int, plate_img: bytes, overview_img: bytes) -> list[tuple[str, tuple]]:
    meta = {
        "observation_id": str(uuid.uuid4()),
        "captured_at": datetime.now(UTC).isoformat(),
        "plate": f"GZ{i % 1000:03d}T",
        "country": "NL",
        "plate_confidence": 0.97,
        "char_confidences": [0.99] * 6,
        "lon": 4.358,
        "lat": 52.0115,
        "position_accuracy_m": 3.0,
        "heading_deg": 90.0,
        "camera": "right",
        "zone_id": "centrum",
        "reason": "no_right",
        "software_version": "bench",
        "evidence": [
            {"name": "plate", "kind": "plate", "sha256": hashlib.sha256(plate_img).hexdigest()},
            {
                "name": "overview",
                "kind": "overview",
                "sha256": hashlib.sha256(overview_img).hexdigest(),
            },
        ],
    }
    return [
        ("metadata", (None, json.dumps(meta), "application/json")),
        ("plate", ("plate.jpg", plate_img, "image/jpeg")),
        ("overview", ("overview.jpg", overview_img, "image/jpeg")),
    ]


class Feeder:
    def __init__(self, images: list[bytes]):
        self.images = images
        self.i = 0

    def next(self) -> list[tuple[str, tuple]]:
        i = self.i
        self.i += 1
        n = len(self.images)
        return observation(i, self.images[(2 * i) % n], self.images[(2 * i + 1) % n])


async def closed_loop(base: str, tokens: list[str], feeder: Feeder, seconds: float) -> dict:
    latencies: list[float] = []
    errors = 0
    end = time.monotonic() + seconds

    async def car(token: str) -> None:
        nonlocal errors
        async with httpx.AsyncClient(timeout=30, headers={"Authorization": f"Bearer {token}"}) as c:
            while time.monotonic() < end:
                t0 = time.perf_counter()
                try:
                    r = await c.post(f"{base}/api/v1/observations", files=feeder.next())
                except httpx.HTTPError:
                    errors += 1
                    continue
                latencies.append(time.perf_counter() - t0)
                if r.status_code != 201:
                    errors += 1

    t0 = time.monotonic()
    await asyncio.gather(*(car(t) for t in tokens))
    elapsed = time.monotonic() - t0
    return {
        "rate": len(latencies) / elapsed,
        "n": len(latencies),
        "errors": errors,
        "p50": percentile(latencies, 50),
        "p99": percentile(latencies, 99),
    }


async def open_loop(
    base: str, tokens: list[str], feeder: Feeder, rate: float, seconds: float
) -> dict:
    latencies: list[float] = []
    errors = 0
    statuses: dict[str, int] = {}
    clients = [
        httpx.AsyncClient(
            timeout=30,
            headers={"Authorization": f"Bearer {t}"},
            limits=httpx.Limits(max_connections=50),
        )
        for t in tokens
    ]

    async def one(k: int, files: list) -> None:
        nonlocal errors
        t0 = time.perf_counter()
        try:
            r = await clients[k % len(clients)].post(f"{base}/api/v1/observations", files=files)
        except httpx.HTTPError as exc:  # an overloaded server: count it, keep the run going
            errors += 1
            statuses[type(exc).__name__] = statuses.get(type(exc).__name__, 0) + 1
            return
        latencies.append(time.perf_counter() - t0)
        statuses[str(r.status_code)] = statuses.get(str(r.status_code), 0) + 1
        if r.status_code != 201:
            errors += 1

    tasks = []
    start = time.monotonic()
    k = 0
    while (now := time.monotonic()) - start < seconds:
        due = start + k / rate
        if due > now:
            await asyncio.sleep(due - now)
        tasks.append(asyncio.create_task(one(k, feeder.next())))
        k += 1
    await asyncio.gather(*tasks)
    for c in clients:
        await c.aclose()
    return {
        "offered": rate,
        "n": len(latencies),
        "errors": errors,
        "p50": percentile(latencies, 50),
        "p95": percentile(latencies, 95),
        "p99": percentile(latencies, 99),
        "statuses": statuses,
    }


def device_tokens(url: str, n: int) -> list[str]:
    from api.auth.service import create_device
    from api.db import make_engine, session_scope

    engine = make_engine(url)
    tokens = []
    with session_scope(engine) as s:
        for i in range(n):
            _, token = create_device(s, name=f"bench-car-{i}-{uuid.uuid4().hex[:4]}")
            tokens.append(token)
    engine.dispose()
    return tokens


def run(kind: str, args: argparse.Namespace, images: list[bytes]) -> None:
    with (
        tempfile.TemporaryDirectory(prefix="scancar-bench-") as tmp,
        database(kind, Path(tmp)) as url,
    ):
        tokens = device_tokens(url, args.cars)
        with serve(url, Path(tmp) / "data", args.workers) as (base, proc):
            feeder = Feeder(images)
            asyncio.run(closed_loop(base, tokens, feeder, 2))  # warm-up
            closed = asyncio.run(closed_loop(base, tokens, feeder, args.seconds))
            opened = asyncio.run(open_loop(base, tokens, feeder, args.rate, args.seconds))
            mem = rss_mb(proc.pid)
        print(
            f"{kind:<10} closed loop, {args.cars} cars: {closed['rate']:7.1f} obs/s "
            f"(n={closed['n']}, errors={closed['errors']}, p50={closed['p50'] * 1000:.0f} ms, "
            f"p99={closed['p99'] * 1000:.0f} ms)"
        )
        print(
            f"{kind:<10} open loop at {opened['offered']:.0f}/s offered: "
            f"p50={opened['p50'] * 1000:.0f} ms p95={opened['p95'] * 1000:.0f} ms "
            f"p99={opened['p99'] * 1000:.0f} ms (n={opened['n']}, errors={opened['errors']}, "
            f"answers {opened['statuses']})"
        )
        print(
            f"{kind:<10} server resident memory after the run: {mem:.0f} MB "
            f"({args.workers} workers + supervisor)"
        )
        target = 200 if kind == "postgresql" else None
        if target:
            print(
                f"{kind:<10} ratio to the 200 obs/s target: {closed['rate'] / target:.2f}; "
                f"p99 at {args.rate:.0f}/s vs 250 ms: {opened['p99'] * 1000 / 250:.2f}"
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cars", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--rate", type=float, default=100.0, help="offered load for the open loop")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--only", choices=["postgresql", "sqlite"])
    args = ap.parse_args()
    t0 = time.perf_counter()
    images = make_images(400)
    print(
        f"images: {len(images)} x ~{sum(map(len, images)) // len(images) // 1024} KB "
        f"(made in {time.perf_counter() - t0:.1f} s)"
    )
    for kind in ("postgresql", "sqlite"):
        if args.only in (None, kind):
            run(kind, args, images)


if __name__ == "__main__":
    main()
