"""``scancar status --config car.toml``: the car's local state, from the status file the
running car writes every ``health.status_interval_s`` (``<data_dir>/status.json``) and the
data-folder lock (is a car process running?). Exit 0 when healthy, 1 when not (not running,
a stale status file, or any problem the car reports), 2 for a bad configuration."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer


def _age_text(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    if seconds < 120:
        return f"{seconds:.1f} s ago"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.1f} h ago"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    minutes = int(seconds // 60)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{seconds:.0f} s"


def read_status(data_dir: Path, status_interval_s: float) -> tuple[dict[str, Any], list[str]]:
    """(status document or {}, problems including whether the car runs at all)."""
    from scancar.car.health import STATUS_NAME
    from scancar.car.lock import is_locked

    problems: list[str] = []
    running = is_locked(data_dir)
    try:
        doc = json.loads((data_dir / STATUS_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        doc = {}
    if not running:
        problems.append("not running (no car process holds the data folder)")
    if not doc:
        problems.append(f"no status file in {data_dir} yet")
        return doc, problems
    written = datetime.fromisoformat(doc["written_at"])
    age = (datetime.now(UTC) - written).total_seconds()
    doc["status_age_s"] = round(age, 1)
    doc["running"] = running
    if running and age > 3 * status_interval_s + 5:
        problems.append(f"status file {age:.0f} s old: the car process may hang")
    if running:
        problems.extend(doc.get("health", {}).get("problems", []))
    return doc, problems


def _lines(doc: dict[str, Any]) -> list[str]:
    h = doc["health"]
    out = [
        f"car: {'running' if doc.get('running') else 'stopped'} (pid {doc.get('pid')}, "
        f"{doc.get('mode')}), up {_duration(h.get('uptime_s'))}, {h.get('software_version')}, "
        f"run {h.get('run_id')}",
        f"status written {_age_text(doc.get('status_age_s'))}",
    ]
    for cam in h.get("cameras", []):
        out.append(
            f"camera {cam['name']}: {cam['state']}, {cam['fps']:.1f} fps, last frame "
            f"{_age_text(cam['last_frame_age_s'])}, {cam['reconnects']} reconnects, "
            f"{cam['dropped']} dropped"
        )
    gps = h.get("gps") or {}
    out.append(
        f"GPS: {gps.get('state', '-')}, last fix {_age_text(gps.get('fix_age_s'))}, hdop "
        f"{gps.get('hdop')}, quality {gps.get('fix_quality')}, {gps.get('satellites')} satellites"
    )
    offset = h.get("clock_offset_s")
    out.append(
        "clock: system - GPS "
        + ("unknown" if offset is None else f"{offset:+.2f} s")
        + (" (trusted)" if h.get("clock_trusted") else " (NOT trusted: nothing is fined)")
    )
    cache_age = h.get("rights_cache_age_s")
    out.append(
        f"rights: {h.get('rights_state')}, cache age "
        + ("-" if cache_age is None else f"{cache_age:.0f} s")
    )
    out.append(f"zones: {h.get('zones_origin')} (version {h.get('zones_version')})")
    oldest = h.get("outbox_oldest_age_s")
    out.append(
        f"outbox: {h.get('outbox_backlog')} waiting"
        + ("" if oldest is None else f" (oldest {_age_text(oldest).removesuffix(' ago')})")
        + f", {h.get('dead_letters')} dead letters"
    )
    free = h.get("disk_free_bytes")
    out.append("disk: " + ("?" if free is None else f"{free / 1e9:.1f} GB free"))
    c = h.get("counts", {})
    out.append(
        f"counts: frames {c.get('frames')}, reads {c.get('reads')}, passes {c.get('passes')}, "
        f"checks {c.get('checks')}, suspects {c.get('suspects')}, rights unknown "
        f"{c.get('rights_unknown')}, clock refused {c.get('clock_refused')}"
    )
    return out


def status_command(
    config: Annotated[Path, typer.Option("--config", help="the car's TOML configuration")] = Path(
        "car.toml"
    ),
    json_out: Annotated[bool, typer.Option("--json", help="print the status as JSON")] = False,
) -> None:
    """Print the car's local state; exit 1 when it is not healthy."""
    from scancar.cli.run import load_config_or_exit

    car = load_config_or_exit(config)
    doc, problems = read_status(car.data_dir, car.health.status_interval_s)
    if json_out:
        typer.echo(json.dumps({**doc, "healthy": not problems, "problems": problems}))
    else:
        for line in _lines(doc) if doc else []:
            typer.echo(line)
        typer.echo("healthy" if not problems else "UNHEALTHY: " + "; ".join(problems))
    if problems:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``status`` to the root ``scancar`` command."""
    app.command("status", help="The car's local state (status file, lock); exit 1 if unhealthy.")(
        status_command
    )
