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
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._server import (
    cpu_seconds,
    database,
    percentile,
    postgres_processes,
    process_tree,
    rss_mb,
    serve,
)

IMAGE_SIDE = (470, 390)  # noise JPEG of about 100 KB


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


BOUNDARY = "scancar-bench-0f3c9a"
IDLE_RECONNECT_S = 4.0


def observation(i: int, plate: tuple[bytes, str], overview: tuple[bytes, str]) -> bytes:
    """One observation as the multipart body a car sends (encoded up front: the load generator
    shares the server's 2 cores, so it should spend as little CPU as a real car's network)."""
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
            {"name": "plate", "kind": "plate", "sha256": plate[1]},
            {"name": "overview", "kind": "overview", "sha256": overview[1]},
        ],
    }
    parts = [
        (b'name="metadata"', b"application/json", json.dumps(meta).encode()),
        (b'name="plate"; filename="plate.jpg"', b"image/jpeg", plate[0]),
        (b'name="overview"; filename="overview.jpg"', b"image/jpeg", overview[0]),
    ]
    sep = b"--" + BOUNDARY.encode()
    chunks = []
    for disposition, ctype, data in parts:
        chunks += [sep, b"\r\nContent-Disposition: form-data; ", disposition]
        chunks += [b"\r\nContent-Type: ", ctype, b"\r\n\r\n", data, b"\r\n"]
    chunks.append(sep + b"--\r\n")
    return b"".join(chunks)


class Feeder:
    """Observation bodies on demand (a new observation id each; images taken in turn)."""

    def __init__(self, images: list[bytes]):
        self.images = [(img, hashlib.sha256(img).hexdigest()) for img in images]
        self.i = 0

    def next(self) -> bytes:
        i = self.i
        self.i += 1
        n = len(self.images)
        return observation(i, self.images[(2 * i) % n], self.images[(2 * i + 1) % n])


class Car:
    """One scan car: a keep-alive HTTP/1.1 connection posting observations one at a time."""

    def __init__(self, base: str, token: str) -> None:
        host, port = base.removeprefix("http://").split(":")
        self.addr = (host, int(port))
        self.head = (
            "POST /api/v1/observations HTTP/1.1\r\nHost: {host}\r\n"
            f"Authorization: Bearer {token}\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
            "Content-Length: {length}\r\n\r\n"
        ).replace("{host}", host)
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.last_used = 0.0

    async def post(self, body: bytes, timeout: float = 30.0) -> int:
        """The response status. A connection idle for longer than the server's keep-alive
        (uvicorn: 5 s) is replaced first, as an HTTP client library would."""
        if time.monotonic() - self.last_used > IDLE_RECONNECT_S:
            self.close()
        if self.reader is None or self.writer is None or self.writer.is_closing():
            self.reader, self.writer = await asyncio.open_connection(*self.addr)
        self.writer.write(self.head.replace("{length}", str(len(body))).encode() + body)
        try:
            head = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), timeout)
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await asyncio.wait_for(self.reader.readexactly(length), timeout)
        except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
            self.close()
            raise
        self.last_used = time.monotonic()
        if b"connection: close" in head.lower():
            self.close()
        return int(head[9:12])

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.writer = None


async def closed_loop(base: str, tokens: list[str], feeder: Feeder, seconds: float) -> dict:
    """Each car posts its next observation as soon as the last one is answered."""
    latencies: list[float] = []
    errors = 0
    end = time.monotonic() + seconds

    async def car(token: str) -> None:
        nonlocal errors
        c = Car(base, token)
        while time.monotonic() < end:
            body = feeder.next()
            t0 = time.perf_counter()
            try:
                status = await c.post(body)
            except (OSError, TimeoutError, asyncio.IncompleteReadError):
                errors += 1
                continue
            latencies.append(time.perf_counter() - t0)
            if status != 201:
                errors += 1
        c.close()

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
    """Observations arrive at ``rate`` per second whatever the server does (a pool of
    connections per car, so a slow answer does not hold back the next arrival)."""
    latencies: list[float] = []
    errors = 0
    statuses: dict[str, int] = {}
    idle: list[Car] = []

    async def one(k: int, body: bytes) -> None:
        nonlocal errors
        c = idle.pop() if idle else Car(base, tokens[k % len(tokens)])
        t0 = time.perf_counter()
        try:
            status = await c.post(body)
        except (OSError, TimeoutError, asyncio.IncompleteReadError) as exc:
            errors += 1
            statuses[type(exc).__name__] = statuses.get(type(exc).__name__, 0) + 1
            return
        latencies.append(time.perf_counter() - t0)
        idle.append(c)
        statuses[str(status)] = statuses.get(str(status), 0) + 1
        if status != 201:
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
    for c in idle:
        c.close()
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
            app_pids = process_tree(proc.pid)
            db_pids = postgres_processes() if kind == "postgresql" else []
            app0, db0, own0 = cpu_seconds(app_pids), cpu_seconds(db_pids), time.process_time()
            closed = asyncio.run(closed_loop(base, tokens, feeder, args.seconds))
            app_ms = (cpu_seconds(app_pids) - app0) / closed["n"] * 1000
            db_ms = (cpu_seconds(db_pids) - db0) / closed["n"] * 1000
            own_ms = (time.process_time() - own0) / closed["n"] * 1000
            opened = asyncio.run(open_loop(base, tokens, feeder, args.rate, args.seconds))
            mem = rss_mb(proc.pid)
        print(
            f"{kind:<10} closed loop, {args.cars} cars: {closed['rate']:7.1f} obs/s "
            f"(n={closed['n']}, errors={closed['errors']}, p50={closed['p50'] * 1000:.0f} ms, "
            f"p99={closed['p99'] * 1000:.0f} ms)"
        )
        cores = os.cpu_count() or 1
        print(
            f"{kind:<10} CPU per observation: {app_ms:.2f} ms server"
            + (f" + {db_ms:.2f} ms PostgreSQL" if db_pids else "")
            + f" + {own_ms:.2f} ms load generator -> at most "
            f"{cores * 1000 / (app_ms + db_ms + own_ms):.0f} obs/s on {cores} cores"
        )
        print(
            f"{kind:<10} open loop at {opened['offered']:.0f}/s offered: "
            f"p50={opened['p50'] * 1000:.0f} ms p95={opened['p95'] * 1000:.0f} ms "
            f"p99={opened['p99'] * 1000:.0f} ms (n={opened['n']}, errors={opened['errors']}, "
            f"answers {opened['statuses']})"
        )
        print(
            f"{kind:<10} server resident memory after the run: {mem:.0f} MB "
            f"({args.workers} workers + supervisor); load average {os.getloadavg()[0]:.1f}"
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
