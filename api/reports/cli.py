"""Admin command: ``rebuild-reports`` (recompute the report aggregates from the source rows)."""

from __future__ import annotations

import time

import typer


def register(admin_app: typer.Typer) -> None:
    @admin_app.command(
        "rebuild-reports",
        help="Recompute the report figures from hits, fines and heartbeats (after a bulk load "
        "with triggers off or a restore); writers wait meanwhile.",
    )
    def rebuild_reports() -> None:
        from api.cli import _engine, _settings
        from api.reports.rollup import rebuild

        engine = _engine(_settings())
        started = time.monotonic()
        rebuild(engine)
        typer.echo(f"rebuilt the report figures in {time.monotonic() - started:.1f} s")
