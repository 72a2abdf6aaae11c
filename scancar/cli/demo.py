"""``scancar demo``: one command for a new user.

1. a fresh embedded backend (SQLite under ``--folder``, default ``./demo``) as its own process
   (``python -m scancar serve`` on a free port, ``SCANCAR_ENV=development``), seeded through the
   CLI: schema, demo users (one per role), a scan-car device, the fixture
   town's zones;
2. the car replays the fixture route (``fixtures.route``: synthetic frames with known ground
   truth, NMEA, the rights of the compliant cars as an offline feed snapshot) against it;
3. the backend's grace step runs (``scancar admin tick`` when available), then the hits are
   fetched as back office and compared with the route's ground truth;
4. a summary table (or ``--json``: one JSON object), then the server keeps running with the
   URL and the BOA login printed, unless ``--no-serve``.

The car side never imports the backend: it talks to it over HTTP like a real car.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

REPO = Path(__file__).resolve().parents[2]
TOWN_ZONES = REPO / "fixtures" / "zones" / "town.geojson"


def demo_ocr_model() -> str | None:
    """``SCANCAR_OCR_MODEL`` when set, else the shared model folder next to the repo if any
    (else the settings' default hub name, which needs internet); ``read`` and ``replay``
    find it the same way."""
    from scancar.settings import local_ocr_model

    return local_ocr_model()


DEMO_USERS = (
    ("admin", "admin", "demo-admin-pass"),
    ("backoffice", "backoffice", "demo-backoffice-pass"),
    ("boa", "boa", "demo-boa-pass"),
    ("provider", "provider", "demo-provider-pass"),
    ("bewoner", "resident", "demo-bewoner-pass"),  # the residents' portal (/mijn/)
    ("meldkamer", "coordinator", "demo-meldkamer-pass"),  # the control room (/ui/meldkamer)
)
TOWN_ADDRESSES = REPO / "fixtures" / "addresses" / "town.csv"


# a busy or small machine needs a while to import the backend (a minute under heavy load)
START_TIMEOUT_S = 120


def demo_start(now: datetime) -> datetime:
    """When the demo's drive starts: the latest Tuesday, 11:00 in Amsterdam, at least three hours
    before ``now`` and not a public holiday. The hits then fall in the dashboard's default
    period (the last 30 days) with the heartbeats of the same run, and every zone is
    regulated as on the fixture's own Tuesday."""
    from zoneinfo import ZoneInfo

    from zones.rules import dutch_public_holidays

    local = ZoneInfo("Europe/Amsterdam")
    day: date = (now - timedelta(hours=3)).astimezone(local).date()
    while True:
        day -= timedelta(days=(day.weekday() - 1) % 7)  # back to a Tuesday
        start = datetime(day.year, day.month, day.day, 11, tzinfo=local)
        if start <= now - timedelta(hours=3) and day not in dutch_public_holidays(day.year):
            return start.astimezone(UTC)
        day -= timedelta(days=1)


class DemoError(RuntimeError):
    """A demo step failed; one line."""


def step(text: str) -> None:
    """Say what the demo does now (stderr: ``--json`` keeps stdout to the summary)."""
    print(f"demo: {text}", file=sys.stderr, flush=True)


def port_problem(port: int) -> str | None:
    """Why the backend could not listen on ``port`` of 127.0.0.1, or None."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError as exc:
            return f"port {port} on 127.0.0.1 is not free ({exc.strerror}); choose another --port"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _backend(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    proc = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "scancar", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    if proc.returncode != 0:
        raise DemoError(f"'scancar {' '.join(args)}' failed: {proc.stderr.strip()[-500:]}")
    return proc.stdout.strip()


def _has_command(env: dict[str, str], *args: str) -> bool:
    proc = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "scancar", *args, "--help"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    return proc.returncode == 0


@dataclass
class Backend:
    env: dict[str, str]
    url: str
    token: str = ""
    process: subprocess.Popen[bytes] | None = None

    def start(self, port: int, log_path: Path) -> None:
        log = log_path.open("ab")
        self.process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "scancar", "serve", "--port", str(port)],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,  # noqa: PLW1509
        )
        import httpx

        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise DemoError(
                    f"the backend exited with {self.process.returncode}; see {log_path}"
                )
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    self._check_it_is_ours(log_path)
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise DemoError(
            f"the backend did not answer on {self.url} within {START_TIMEOUT_S} s; see {log_path}"
        )

    def _check_it_is_ours(self, log_path: Path) -> None:
        """Only the demo's own backend knows the device token it just made: a 200 from
        another server on the port would be someone else's."""
        import httpx

        answer = httpx.get(
            f"{self.url}/api/v1/rights/feed-key",
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=10,
        )
        if answer.status_code != 200 or (self.process and self.process.poll() is not None):
            raise DemoError(
                f"another server answers on {self.url}, not the demo's backend (it refused "
                f"the demo's device token); choose another --port (backend log: {log_path})"
            )

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def _die_with_parent() -> None:
    """In the backend's process before it starts (Linux): end it when the demo dies, also by
    SIGKILL, so a killed demo leaves no server behind on its port."""
    import ctypes
    import signal

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def setup_backend(folder: Path, port: int) -> tuple[Backend, str]:
    """A fresh database with the demo users, a device (its token returned) and the zones."""
    env = dict(os.environ)
    env.update(
        SCANCAR_ENV="development",
        SCANCAR_DATABASE_URL=f"sqlite:///{(folder / 'scancar.db').resolve()}",
        SCANCAR_DATA_DIR=str(folder.resolve()),
        SCANCAR_PORTAL_PASSWORD_LOGIN="true",  # noqa: S106 - demo residents log in with a password
        PYTHONPATH=os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
    )
    step(f"a fresh SQLite database in {folder}")
    _backend(env, "db", "upgrade")
    step(f"the demo users ({', '.join(n for n, _, _ in DEMO_USERS)}) and the car demo-car-1")
    for name, role, password in DEMO_USERS:
        _backend(
            env,
            "admin",
            "create-user",
            name,
            "--role",
            role,
            "--password-stdin",
            stdin=password + "\n",
        )
    token = _backend(env, "admin", "create-device", "demo-car-1").splitlines()[-1].strip()
    (folder / "device-token.txt").write_text(token + "\n")
    step("the fixture town's zones")
    _backend(env, "zones", "import", str(TOWN_ZONES))
    step("the fixture town's addresses (resident portal)")
    _backend(env, "addresses", "import", str(TOWN_ADDRESSES))
    return Backend(env, f"http://127.0.0.1:{port}", token), token


def seed_permits(backend: Backend, route_dir: Path) -> bool:
    """The route's permits into the backend, when it has ``scancar permits import``."""
    if not _has_command(backend.env, "permits", "import"):
        return False
    step("the route's permits")
    _backend(backend.env, "permits", "import", str(route_dir / "permits.csv"))
    return True


def seed_paid_sessions(base: str, route_dir: Path) -> int:
    """The route's paid sessions, reported by the demo parking provider over HTTP."""
    import httpx

    sessions = json.loads((route_dir / "sessions.json").read_text(encoding="utf-8"))
    with httpx.Client(base_url=base, timeout=10) as client:
        r = client.post(
            "/api/v1/auth/token", data={"username": "provider", "password": "demo-provider-pass"}
        )
        r.raise_for_status()
        headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
        for item in sessions:
            body = {k: v for k, v in item.items() if k != "provider"}
            r = client.post("/api/v1/parking-sessions", json=body, headers=headers)
            if r.status_code not in (200, 201):
                raise DemoError(
                    f"paid session {body['provider_session_id']}: "
                    f"HTTP {r.status_code} {r.text[:200]}"
                )
    return len(sessions)


def fetch_hits(base: str, username: str, password: str) -> list[dict[str, Any]]:
    import httpx

    with httpx.Client(base_url=base, timeout=10) as client:
        r = client.post("/api/v1/auth/token", data={"username": username, "password": password})
        r.raise_for_status()
        headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
        hits: list[dict[str, Any]] = []
        offset = 0
        while True:
            r = client.get("/api/v1/hits", params={"limit": 500, "offset": offset}, headers=headers)
            r.raise_for_status()
            page = r.json()
            hits.extend(page["data"])
            offset += len(page["data"])
            if not page["data"] or offset >= page["count"]:
                return hits


def score(hit_plates: list[str], expected: frozenset[str]) -> dict[str, Any]:
    """Precision and recall of the backend's hits against the route truth. A second hit for
    the same plate counts as a false positive."""
    seen: set[str] = set()
    tp = fp = 0
    for plate in hit_plates:
        if plate in expected and plate not in seen:
            tp += 1
        else:
            fp += 1
        seen.add(plate)
    precision = 1.0 if tp + fp == 0 else tp / (tp + fp)
    recall = 1.0 if not expected else tp / len(expected)
    return {
        "true_positives": tp,
        "false_positives": fp,
        "false_negatives": len(expected) - tp,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
    }


def run_demo(
    folder: Path, *, seed: int = 0, port: int | None = None
) -> tuple[dict[str, Any], Backend]:
    from fixtures.route import ensure_route
    from scancar.cli.replay import ReplayOptions, parse_camera, run_replay

    problem = port_problem(port) if port else None
    if problem:
        raise DemoError(problem)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    start = demo_start(datetime.now(UTC))
    step(f"the fixture route (seed {seed}, driven on {start:%Y-%m-%d}; rendered once, then cached)")
    route = ensure_route(seed, start=start)
    backend, token = setup_backend(folder, port or free_port())
    rights_in_backend = seed_permits(backend, route.folder)
    step(f"starting the backend on {backend.url} (log: {folder / 'backend.log'})")
    backend.start(int(backend.url.rsplit(":", 1)[1]), folder / "backend.log")
    try:
        if rights_in_backend:
            step("the route's paid sessions, reported by the demo parking provider")
            seed_paid_sessions(backend.url, route.folder)
        step(f"the car replays the route ({route.frames} frames)")
        # the car takes its rights from the backend (feed + online check) when the backend has
        # them; else from the route's offline snapshot
        offline = (
            {}
            if rights_in_backend
            else {
                "rights_snapshot": route.folder / "rights-snapshot.ndjson",
                "rights_key": route.folder / "rights.key",
            }
        )
        report = run_replay(
            ReplayOptions(
                cameras=(parse_camera(f"cam-right={route.frames_dir}", "right:3"),),
                gps=route.gps_file,
                data_dir=folder / "car",
                zones=TOWN_ZONES,
                backend=backend.url,
                token=token,
                progress=sys.stderr.isatty(),
                ocr_model=demo_ocr_model(),
                **offline,  # type: ignore[arg-type]
            )
        )
        grace_step = _has_command(backend.env, "admin", "tick")
        if grace_step:
            step("the grace step (scancar admin tick)")
            _backend(backend.env, "admin", "tick")
        step("fetching the hits and scoring them against the route's truth")
        hits = fetch_hits(backend.url, "backoffice", "demo-backoffice-pass")
    except BaseException:
        backend.stop()
        raise
    plates = [h["plate"] for h in hits]
    statuses: dict[str, int] = {}
    for h in hits:
        statuses[h["status"]] = statuses.get(h["status"], 0) + 1
    summary: dict[str, Any] = {
        "route": str(route.folder),
        "frames": report.frames,
        "frames_skipped": report.frames_skipped,
        "plates_read": report.passes,
        "checks": report.checks,
        "discarded": report.discarded,
        "suspects_posted": report.outbox_sent,
        "suspects_pending": report.outbox_pending,
        "hits_in_backend": len(hits),
        "hit_statuses": dict(sorted(statuses.items())),
        "expected_hits": len(route.expected_hits),
        **score(plates, route.expected_hits),
        "outcomes": report.outcomes,
        "replay_s": report.elapsed_s,
        "rights_source": (
            "backend feed (the car's cache, for the route's time)"
            if rights_in_backend
            else "offline snapshot"
        ),
        "grace_step": "admin tick" if grace_step else "backend background job",
        "backend": backend.url,
        "review_page": f"{backend.url}/ui/queue",
        "permit_desk": f"{backend.url}/ui/vergunningen",
        "residents_portal": f"{backend.url}/mijn/",
        "boa_login": {"username": "boa", "password": "demo-boa-pass"},
        "users": {name: password for name, _, password in DEMO_USERS},
        "device_token_file": str(folder / "device-token.txt"),
    }
    return summary, backend


def login_lines(summary: dict[str, Any]) -> list[str]:
    """Where each audience's pages are and the demo login for each."""
    url = summary["backend"]
    return [
        f"review page: {summary['review_page']}  login: boa / demo-boa-pass "
        f"(API docs at {url}/docs); Ctrl-C stops",
        f"permit desk: {summary['permit_desk']}  login: backoffice / demo-backoffice-pass; "
        f"residents: {summary['residents_portal']}  login: bewoner / demo-bewoner-pass",
        f"control room: {url}/ui/meldkamer  login: meldkamer / demo-meldkamer-pass; "
        f"admin: {url}/ui/admin  login: admin / demo-admin-pass",
    ]


def _print_table(summary: dict[str, Any]) -> None:
    rows = [
        ("frames", summary["frames"]),
        ("frames skipped", summary["frames_skipped"]),
        ("plates read (passes)", summary["plates_read"]),
        ("rights checks", summary["checks"]),
        ("discarded", summary["discarded"]),
        ("suspects posted", summary["suspects_posted"]),
        ("hits in the backend", summary["hits_in_backend"]),
        ("expected hits (truth)", summary["expected_hits"]),
        ("precision", summary["precision"]),
        ("recall", summary["recall"]),
    ]
    typer.echo("Scan-car demo: fixture route against a fresh backend")
    for name, value in rows:
        typer.echo(f"  {name:<24} {value}")
    outcomes = ", ".join(f"{k.replace('_', ' ')} {n}" for k, n in summary["outcomes"].items())
    typer.echo(f"  {'outcomes':<24} {outcomes}")


def demo(
    folder: Annotated[Path, typer.Option(help="where the demo keeps its data")] = Path("demo"),
    json_out: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
    serve: Annotated[bool, typer.Option("--serve/--no-serve", help="keep serving")] = True,
    port: Annotated[int | None, typer.Option(help="backend port (default: a free one)")] = None,
    seed: Annotated[int, typer.Option(help="route seed")] = 0,
) -> None:
    """Fresh backend + the car replaying the fixture route; summary; then serve."""
    import signal

    from scancar.cli.carlog import configure_car_logging, remove_handlers

    def on_term(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)  # stop the backend process too
    handlers = configure_car_logging(None)
    try:
        summary, backend = run_demo(folder, seed=seed, port=port)
    except DemoError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        remove_handlers(handlers)
    if json_out:
        typer.echo(json.dumps(summary))
    else:
        _print_table(summary)
    if not serve:
        backend.stop()
        return
    for line in login_lines(summary):
        typer.echo(line, err=True)
    try:
        if backend.process is not None:
            backend.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        backend.stop()


def register(app: typer.Typer) -> None:
    app.command(
        "demo", help="A fresh demo backend, the car replaying the fixture route, a summary."
    )(demo)
