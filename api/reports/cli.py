"""Admin command: ``rebuild-reports`` (recompute the report aggregates from the source rows)."""

from __future__ import annotations

import time

import typer

from api.clitools import ADMIN_HELP, group, load_settings, open_engine


def register(app: typer.Typer) -> None:
    admin_app = group(app, "admin", ADMIN_HELP)

    @admin_app.command(
        "rebuild-reports",
        help="Recompute the report figures from hits, fines and heartbeats (after a bulk load "
        "with triggers off or a restore); writers wait meanwhile.",
    )
    def rebuild_reports() -> None:
        from api.reports.rollup import rebuild

        engine = open_engine(load_settings())
        started = time.monotonic()
        rebuild(engine)
        typer.echo(f"rebuilt the report figures in {time.monotonic() - started:.1f} s")
