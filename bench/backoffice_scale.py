"""A year of a large city: every back-office and review answer at 100k and 1M hits.

For each configuration (default: PostgreSQL at 100,000 and 1,000,000 hits, SQLite at 100,000)
the bench loads a year of data generated in SQL (``bench/scale_data.py``: hits, fines,
payments, history, audit log, heartbeats; retention applied as if the purge last ran a day
ago), starts ``scancar serve --workers 1`` on it and times every back-office and review
answer over real HTTP (p50 and max of ``--repeat`` runs after one warm-up), checks the answers
that can be wrong (nearest-first against the true nearest, counts against SQL), then times the
CLI jobs (purge, tick) with their peak memory and a month's export (first and repeat).
It prints one table with a column per configuration and the growth from the smallest to the
largest PostgreSQL size, plus a same-run baseline (SHA-256 per second on one core) so runs on a
busy machine can be compared.

    .venv/bin/python bench/backoffice_scale.py                       # all three (1M: ~15 min)
    .venv/bin/python bench/backoffice_scale.py --configs postgresql:100000 --keep
    .venv/bin/python bench/backoffice_scale.py --configs postgresql:100000 --reuse  # no reload
    .venv/bin/python bench/backoffice_scale.py --configs postgresql:1000000 --keep --load-only

``--keep`` keeps the loaded databases (``scancar_<tag>_<size>_<seed>`` on PostgreSQL, a file
under ``--workdir`` for SQLite) and ``--reuse`` starts from them (migrated to head first), so
the load is paid once while developing; every run restores what the previous run changed
(the exported batch, the purge's work) by reloading only when ``--reuse`` is not given.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import math
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from sqlalchemy import text
from sqlalchemy.engine import Engine

from bench._server import PG_ADMIN, REPO, serve, server_env
from bench.scale_data import PASSWORD, load_year

WORKDIR = Path("/tmp/scancar-scale")  # noqa: S108 - bench scratch space
TAG = "scale"  # database names: scancar_<tag>_<size>_<seed>


@dataclass
class Timing:
    samples_ms: list[float] = field(default_factory=list)
    status: int = 0
    note: str = ""

    @property
    def p50(self) -> float:
        return statistics.median(self.samples_ms) if self.samples_ms else math.nan

    @property
    def worst(self) -> float:
        return max(self.samples_ms) if self.samples_ms else math.nan


@dataclass
class Result:
    name: str
    load: dict[str, float] = field(default_factory=dict)
    timings: dict[str, Timing] = field(default_factory=dict)
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    checks: dict[str, str] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)


# --------------------------------------------------------------------------- databases
def _pg_url(name: str) -> str:
    return PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"


@contextlib.contextmanager
def bench_database(kind: str, size: int, args: argparse.Namespace) -> Iterator[tuple[str, bool]]:
    """(url, loaded) for a database of this configuration; ``loaded`` when reused as is."""
    import psycopg

    from api import migrate
    from api.db import make_engine

    name = f"scancar_{args.tag}_{size}_{args.seed}"
    keep, reuse = args.keep, args.reuse
    if kind == "sqlite":
        path = args.workdir / f"{name}.db"
        exists = path.exists()
        if exists and not reuse:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            exists = False
        url = f"sqlite:///{path}"
    else:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            exists = bool(
                conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            )
            if exists and not reuse:
                conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
                exists = False
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')
        url = _pg_url(name)
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    try:
        yield url, exists
    finally:
        if not keep:
            if kind == "sqlite":
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)
            else:
                with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def rebuild_aggregates(engine: Engine) -> float | None:
    """Rebuild the report aggregates after a load with triggers off (when the code has them)."""
    try:
        from api.reports import rollup  # type: ignore[attr-defined]
    except ImportError:
        return None
    t = time.perf_counter()
    rollup.rebuild(engine)
    return time.perf_counter() - t


def table_rows(engine: Engine) -> dict[str, int]:
    names = ("hits", "fines", "fine_payments", "evidence", "hit_events", "audit_log", "heartbeats")
    with engine.connect() as conn:
        return {n: int(conn.execute(text(f"SELECT COUNT(*) FROM {n}")).scalar_one()) for n in names}  # noqa: S608


# --------------------------------------------------------------------------- HTTP
class Client:
    def __init__(self, base: str) -> None:
        self.base = base
        self.http = httpx.Client(base_url=base, timeout=600)

    def token(self, username: str) -> dict[str, str]:
        r = self.http.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
        r.raise_for_status()
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    def cookie(self, username: str) -> httpx.Cookies:
        r = self.http.post(
            "/ui/login",
            data={"username": username, "password": PASSWORD, "next": "/ui/queue"},
            headers={"Origin": self.base},
        )
        if r.status_code != 303:
            raise RuntimeError(f"ui login of {username}: {r.status_code}")
        jar = httpx.Cookies()
        for k, v in r.cookies.items():
            jar.set(k, v)
        self.http.cookies.clear()
        return jar

    def time(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        cookies: httpx.Cookies | None = None,
        repeat: int,
        warmup: bool = True,
    ) -> tuple[Timing, httpx.Response]:
        timing = Timing()
        last: httpx.Response | None = None
        for k in range(repeat + (1 if warmup else 0)):
            self.http.cookies = cookies or httpx.Cookies()
            t = time.perf_counter()
            try:
                last = self.http.request(method, path, headers=headers)
            except httpx.HTTPError:  # a 500 may close the connection: count it, go on
                last = httpx.Response(599, request=httpx.Request(method, self.base + path))
            ms = (time.perf_counter() - t) * 1000
            if k or not warmup:
                timing.samples_ms.append(ms)
        if last is None:
            raise RuntimeError("no request was made")
        timing.status = last.status_code
        return timing, last


# --------------------------------------------------------------------------- the runs
def _ids(engine: Engine) -> dict[str, Any]:
    """Things the endpoints need: a waiting hit, a fine with a plate, a reference point."""
    with engine.connect() as conn:
        q = conn.execute
        return {
            "hit": q(text("SELECT MAX(id) FROM hits WHERE status = 'confirmed'")).scalar_one(),
            "fine": q(text("SELECT MAX(id) FROM fines WHERE status = 'issued'")).scalar_one(),
            "plate": q(
                text("SELECT plate FROM fines WHERE plate IS NOT NULL ORDER BY id DESC LIMIT 1")
            ).scalar_one(),
            "waiting": [
                r[0]
                for r in q(
                    text(
                        "SELECT id FROM hits WHERE status = 'awaiting_review' ORDER BY id LIMIT 50"
                    )
                )
            ],
            "zone": "z03",
        }


def nearest_truth(engine: Engine, lon: float, lat: float, n: int) -> list[int]:
    """The ids of the true nearest ``n`` waiting hits (haversine, over all of them)."""
    from api.review.rules import distance_m

    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT id, lon, lat FROM hits WHERE status = 'awaiting_review'")
        ).all()
    ranked = sorted(rows, key=lambda r: (distance_m(lon, lat, r[1], r[2]), r[0]))
    return [r[0] for r in ranked[:n]]


def time_endpoints(c: Client, engine: Engine, repeat: int, result: Result) -> None:
    ids = _ids(engine)
    bo, boa = c.token("backoffice"), c.token("boa00")
    bo_cookie, boa_cookie = c.cookie("backoffice"), c.cookie("boa00")
    admin_cookie = c.cookie("admin")
    lon, lat = 5.0905, 52.0790  # inside the grid, near its busy corner
    now = datetime.now(UTC)
    day = lambda d: (now - timedelta(days=d)).isoformat()  # noqa: E731
    api: list[tuple[str, str, dict[str, str]]] = [
        ("GET /hits", "/api/v1/hits", bo),
        ("GET /hits?status=awaiting_review", "/api/v1/hits?status=awaiting_review", boa),
        ("GET /hits?zone=", f"/api/v1/hits?zone={ids['zone']}", bo),
        ("GET /hits?plate=", f"/api/v1/hits?plate={ids['plate']}", bo),
        (
            "GET /hits nearest-first",
            f"/api/v1/hits?status=awaiting_review&lon={lon}&lat={lat}&limit=50",
            boa,
        ),
        ("GET /hits/{id}", f"/api/v1/hits/{ids['hit']}", bo),
        ("GET /fines", "/api/v1/fines", bo),
        ("GET /fines?status=issued", "/api/v1/fines?status=issued", bo),
        ("GET /fines?plate=", f"/api/v1/fines?plate={ids['plate']}", bo),
        ("GET /fines/{id}", f"/api/v1/fines/{ids['fine']}", bo),
        ("GET /fines/alerts", "/api/v1/fines/alerts", bo),
        ("GET /reports/summary 30 d", "/api/v1/reports/summary", bo),
        (
            "GET /reports/summary 365 d",
            f"/api/v1/reports/summary?from={day(365)}&to={now.isoformat()}",
            bo,
        ),
        (
            "GET /reports/summary 365 d csv",
            f"/api/v1/reports/summary?from={day(365)}&to={now.isoformat()}&format=csv",
            bo,
        ),
        ("GET /audit", "/api/v1/audit", bo),
        ("GET /audit?target_type=hit", "/api/v1/audit?target_type=hit", bo),
        ("GET /devices", "/api/v1/devices", bo),
    ]
    for name, path, headers in api:
        timing, r = c.time("GET", path.replace("+", "%2B"), headers=headers, repeat=repeat)
        result.timings[name] = timing
        if name == "GET /hits nearest-first" and r.status_code == 200:
            got = [h["id"] for h in r.json()["data"]]
            want = nearest_truth(engine, lon, lat, 50)
            total = r.json()["count"]
            with engine.connect() as conn:
                waiting = conn.execute(
                    text("SELECT COUNT(*) FROM hits WHERE status = 'awaiting_review'")
                ).scalar_one()
            ok = got == want and total == waiting
            result.checks["nearest-first"] = (
                "right"
                if ok
                else f"WRONG: {len(set(got) & set(want))}/50 of the true nearest, "
                f"count {total} of {waiting} waiting"
            )
            timing.note = "" if ok else "wrong"
    pages: list[tuple[str, str, httpx.Cookies]] = [
        ("/ui/queue", "/ui/queue", boa_cookie),
        ("/ui/queue nearest-first", f"/ui/queue?lon={lon}&lat={lat}", boa_cookie),
        ("/ui/hits/{id}", f"/ui/hits/{ids['waiting'][0]}", boa_cookie),
        ("/ui/dashboard 30 d", "/ui/dashboard?days=30", bo_cookie),
        ("/ui/dashboard 365 d", "/ui/dashboard?days=365", bo_cookie),
        ("/ui/dashboard/summary.csv 365 d", "/ui/dashboard/summary.csv?days=365", bo_cookie),
        ("/ui/fines", "/ui/fines", bo_cookie),
        ("/ui/fines/{id}", f"/ui/fines/{ids['fine']}", bo_cookie),
        ("/ui/meldingen", "/ui/meldingen", bo_cookie),
        ("/ui/meldingen/{id}", f"/ui/meldingen/{ids['hit']}", bo_cookie),
        ("/ui/exports", "/ui/exports", bo_cookie),
        ("/ui/autos", "/ui/autos", bo_cookie),
        ("/ui/audit", "/ui/audit", admin_cookie),
        ("/ui/meldkamer", "/ui/meldkamer", bo_cookie),
        ("/ui/meldkamer/live.json", "/ui/meldkamer/live.json", bo_cookie),
    ]
    for name, path, jar in pages:
        timing, _ = c.time("GET", path, cookies=jar, repeat=repeat)
        result.timings[name] = timing
    # review writes: claim and release waiting hits, a different one each time
    claim, release = Timing(), Timing()
    for hit_id in ids["waiting"][: repeat + 1]:
        for timing, action in ((claim, "claim"), (release, "release")):
            t = time.perf_counter()
            r = c.http.post(f"/api/v1/hits/{hit_id}/{action}", headers=boa)
            timing.samples_ms.append((time.perf_counter() - t) * 1000)
            timing.status = r.status_code
    result.timings["POST /hits/{id}/claim"] = claim
    result.timings["POST /hits/{id}/release"] = release


def time_export(c: Client, repeat: int, result: Result) -> None:
    """A month's export for the tax track: first (makes the batch), then repeats."""
    bo = c.token("backoffice")
    now = datetime.now(UTC)
    frm, to = (now - timedelta(days=45)).isoformat(), (now - timedelta(days=15)).isoformat()
    path = f"/api/v1/fines/export?track=tax&from={frm}&to={to}".replace("+", "%2B")
    first, r = c.time("GET", path, headers=bo, repeat=1, warmup=False)
    result.timings["GET /fines/export month, first"] = first
    if r.status_code == 200:
        result.rows["exported fines"] = int(r.json().get("fine_count", 0))
    again, _ = c.time("GET", path, headers=bo, repeat=repeat)
    result.timings["GET /fines/export month, repeat"] = again
    csv_t, _ = c.time("GET", path + "&format=csv", headers=bo, repeat=repeat)
    result.timings["GET /fines/export month csv"] = csv_t


def run_job(url: str, workdir: Path, *args: str) -> dict[str, Any]:
    """One CLI job as its own process: wall time, peak memory (MB), exit code, last line."""
    env = server_env(url, workdir / "data")
    t = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "scancar", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t
    out = (proc.stdout.read() if proc.stdout else b"").decode(errors="replace").strip()
    err = (proc.stderr.read() if proc.stderr else b"").decode(errors="replace").strip()
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code
    lines = (out or err).splitlines()
    if code != 0:
        lines = err.splitlines() or lines
    return {
        "seconds": seconds,
        "peak_mb": usage.ru_maxrss / 1024,
        "exit": code,
        "last": (lines[-1] if lines else "")[:160],
    }


def run_config(kind: str, size: int, args: argparse.Namespace) -> Result:
    from api.db import make_engine

    result = Result(f"{'PostgreSQL' if kind == 'postgresql' else 'SQLite'} {size // 1000}k")
    workdir = args.workdir / f"{args.tag}-{kind}-{size}"
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "data").mkdir(exist_ok=True)
    with bench_database(kind, size, args) as (url, loaded):
        engine = make_engine(url)
        if not loaded:
            t = time.perf_counter()
            report = load_year(engine, workdir, hits=size, seed=args.seed)
            result.load = {**report.seconds, "total": time.perf_counter() - t}
            rebuilt = rebuild_aggregates(engine)
            if rebuilt is not None:
                result.load["aggregates"] = rebuilt
            print(f"  loaded in {result.load['total']:.0f} s: {_fmt_load(result.load)}", flush=True)
        result.rows = table_rows(engine)
        if args.load_only:
            engine.dispose()
            return result
        with serve(url, workdir / "data", workers=1) as (base, _proc):
            c = Client(base)
            print("  timing the answers", flush=True)
            time_endpoints(c, engine, args.repeat, result)
            print("  timing the jobs", flush=True)
            result.jobs["purge --dry-run"] = run_job(url, workdir, "admin", "purge", "--dry-run")
            result.jobs["purge"] = run_job(url, workdir, "admin", "purge")
            result.jobs["purge again"] = run_job(url, workdir, "admin", "purge")
            result.jobs["tick"] = run_job(url, workdir, "admin", "tick")
            time_export(c, args.repeat, result)
        engine.dispose()
    return result


def _fmt_load(load: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.1f}" for k, v in load.items() if k != "total")


# --------------------------------------------------------------------------- the table
def sha256_rate(n: int = 300_000) -> float:
    data = [i.to_bytes(8, "little") for i in range(n)]
    t = time.perf_counter()
    for d in data:
        hashlib.sha256(d).digest()
    return n / (time.perf_counter() - t)


def _ms(t: Timing | None) -> str:
    if t is None:
        return "-"
    mark = "" if t.status < 400 else f" ({t.status})"
    mark += " WRONG" if t.note == "wrong" else ""
    return f"{t.p50:,.0f}{mark}"


def print_table(results: list[Result], baseline: float) -> None:  # noqa: PLR0912
    names: list[str] = []
    for r in results:
        names += [n for n in r.timings if n not in names]
    pg = [r for r in results if r.name.startswith("PostgreSQL")]
    growth = len(pg) >= 2
    head = f"{'p50 ms (max in JSON)':<36}" + "".join(f"{r.name:>16}" for r in results)
    print("\n" + head + (f"{'growth':>9}" if growth else ""))
    print("-" * len(head) + ("-" * 9 if growth else ""))
    for n in names:
        line = f"{n:<36}" + "".join(f"{_ms(r.timings.get(n)):>16}" for r in results)
        if growth and n in pg[0].timings and n in pg[-1].timings:
            a, b = pg[0].timings[n].p50, pg[-1].timings[n].p50
            line += f"{b / a:>8.1f}x" if a > 0 else ""
        print(line)
    jobs: list[str] = []
    for r in results:
        jobs += [j for j in r.jobs if j not in jobs]
    for j in jobs:
        cells = []
        for r in results:
            job = r.jobs.get(j)
            if job is None:
                cells.append(f"{'-':>16}")
            elif job["exit"] != 0:
                cells.append(f"{'FAILED':>16}")
            else:
                cells.append(f"{job['seconds']:>7.1f} s {job['peak_mb']:>4.0f} MB")
        print(f"{'scancar admin ' + j:<36}" + "".join(cells))
    print()
    for r in results:
        print(f"{r.name}: rows {r.rows}")
        for k, v in r.checks.items():
            print(f"  check {k}: {v}")
        for j, job in r.jobs.items():
            print(f"  {j}: exit {job['exit']}: {job['last']}")
        if r.load:
            print(f"  load {r.load['total']:.0f} s ({_fmt_load(r.load)})")
    print(
        f"\nbaseline sha256/s {baseline:,.0f} (same run, one core); load average "
        f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--configs",
        default="postgresql:100000,postgresql:1000000,sqlite:100000",
        help="comma-separated kind:hits (kind: postgresql or sqlite)",
    )
    p.add_argument("--repeat", type=int, default=5, help="timed requests per answer (p50)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--keep", action="store_true", help="keep the loaded databases")
    p.add_argument("--reuse", action="store_true", help="use kept databases as they are")
    p.add_argument(
        "--load-only",
        action="store_true",
        help="load (and with --keep keep) the databases, time nothing: a later --reuse run "
        "then finds the purge's day of work still to do",
    )
    p.add_argument("--json", type=Path, help="write all figures here")
    p.add_argument("--workdir", type=Path, default=WORKDIR, help="scratch folder")
    p.add_argument("--tag", default=TAG, help="names the kept databases: scancar_<tag>_...")
    args = p.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    baseline = sha256_rate()
    results = []
    for item in args.configs.split(","):
        kind, _, size = item.partition(":")
        if kind not in ("postgresql", "sqlite") or not size.isdigit():
            print(f"error: bad configuration {item!r}; use postgresql:N or sqlite:N")
            return 2
        print(f"{kind} {int(size):,} hits", flush=True)
        results.append(run_config(kind, int(size), args))
    baseline = (baseline + sha256_rate()) / 2
    print_table(results, baseline)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "baseline_sha256_per_s": baseline,
                    "results": [
                        {
                            "name": r.name,
                            "load_s": r.load,
                            "rows": r.rows,
                            "checks": r.checks,
                            "jobs": r.jobs,
                            "timings": {
                                k: {"p50_ms": t.p50, "max_ms": t.worst, "status": t.status}
                                for k, t in r.timings.items()
                            },
                        }
                        for r in results
                    ],
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
