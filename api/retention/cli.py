"""Admin commands: ``purge [--dry-run]``, ``tick`` (grace step, permit expiry and purge once),
``seed-tariffs``."""

from __future__ import annotations

from typing import Annotated

import typer
from fastapi import FastAPI


def register(admin_app: typer.Typer) -> None:
    @admin_app.command(
        "purge", help="Remove personal data past its term (counts to the audit log)."
    )
    def purge(
        dry_run: Annotated[bool, typer.Option(help="only count what would be removed")] = False,
    ) -> None:
        from api.retention.service import run_purge

        app = _app()
        state = app.state
        report = run_purge(state.engine, state.evidence_store, state.settings, dry_run=dry_run)
        prefix = "would remove" if dry_run else "removed"
        typer.echo(f"{prefix}: {report.summary()}")

    @admin_app.command(
        "tick", help="One run of the background jobs: grace step, permit expiry, then purge."
    )
    def tick() -> None:
        from api.retention.jobs import tick as run_tick

        report = run_tick(_app().state)
        typer.echo(f"grace: {report.grace}")
        typer.echo(f"expiry: {report.expiry or 'failed (see log)'}")
        typer.echo(f"purge: {report.purge.summary() if report.purge else 'failed (see log)'}")
        if report.grace is None or report.expiry is None or report.purge is None:
            raise typer.Exit(1)

    @admin_app.command("seed-tariffs", help="Add the example cost and WAHV tables where empty.")
    def seed_tariffs() -> None:
        from api.db import session_scope
        from api.fines.tariffs import seed_default_tariffs

        with session_scope(_app().state.engine) as session:
            report = seed_default_tariffs(session)
        typer.echo(f"added {report.costs_added} cost and {report.offences_added} offence entries")


def _app() -> FastAPI:
    """The backend's own composition root, so jobs use the same parts as the server."""
    from api.main import create_app
    from api.settings import SettingsError, load_backend_settings

    try:
        settings = load_backend_settings(run_background_jobs=False)
    except SettingsError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    return create_app(settings)
