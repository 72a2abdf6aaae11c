"""Admin commands: ``purge [--dry-run]``, ``tick`` (grace step, permit expiry and purge once),
``seed-tariffs``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from api.clitools import ADMIN_HELP, group, open_backend

if TYPE_CHECKING:
    from api.permits.jobs import ExpiryReport
    from api.retention.service import PurgeReport
    from api.review.service import GraceReport


def register(app: typer.Typer) -> None:
    admin_app = group(app, "admin", ADMIN_HELP)

    @admin_app.command(
        "purge", help="Remove personal data past its term (counts to the audit log)."
    )
    def purge(
        dry_run: Annotated[bool, typer.Option(help="only count what would be removed")] = False,
        max_seconds: Annotated[
            float | None,
            typer.Option(min=1, help="stop after this long (the next run goes on); default: done"),
        ] = None,
    ) -> None:
        from api.retention.service import run_purge

        with open_backend() as backend:
            report = run_purge(
                backend.engine,
                backend.evidence_store,
                backend.settings,
                dry_run=dry_run,
                max_seconds=max_seconds,
            )
        typer.echo(describe_purge(report))

    @admin_app.command(
        "tick", help="One run of the background jobs: grace step, permit expiry, then purge."
    )
    def tick() -> None:
        from api.retention.jobs import tick as run_tick

        with open_backend() as backend:
            report = run_tick(backend)
        typer.echo(f"grace: {describe_grace(report.grace) if report.grace else 'failed (see log)'}")
        typer.echo(
            f"permits: {describe_expiry(report.expiry) if report.expiry else 'failed (see log)'}"
        )
        typer.echo(f"purge: {describe_purge(report.purge) if report.purge else 'failed (see log)'}")
        if report.grace is None or report.expiry is None or report.purge is None:
            raise typer.Exit(1)

    @admin_app.command("seed-tariffs", help="Add the example cost and WAHV tables where empty.")
    def seed_tariffs() -> None:
        from api.db import session_scope
        from api.fines.tariffs import seed_default_tariffs

        with open_backend() as backend, session_scope(backend.engine) as session:
            report = seed_default_tariffs(session)
        typer.echo(f"added {report.costs_added} cost and {report.offences_added} offence entries")


def describe_grace(report: GraceReport) -> str:
    """The grace step in words."""
    if not (report.checked or report.expired_claims):
        return "no hit past its grace period"
    text = (
        f"{_n(report.checked, 'hit')} past the grace period checked: {report.dismissed} "
        f"dismissed (a right was found), {report.to_review} to review"
    )
    if report.expired_claims:
        text += f"; {_n(report.expired_claims, 'expired claim')} released"
    return text


def describe_expiry(report: ExpiryReport) -> str:
    """The permit expiry step in words."""
    if not (report.expired or report.refused or report.granted or report.failed):
        return "no permit due to expire"
    parts = [
        f"{_n(report.expired, 'permit')} expired",
        f"{_n(report.refused, 'waiting application')} refused (validity ended)",
        f"{_n(report.granted, 'waiting application')} granted a freed place",
    ]
    if report.failed:
        parts.append(f"{_n(report.failed, 'permit')} failed (see the log; retried next run)")
    return ", ".join(parts)


def describe_purge(report: PurgeReport) -> str:
    """The purge in words; a dry run says what would go."""
    parts = [
        (report.evidence_hits, f"the photos of {_n(report.evidence_hits, 'closed hit')}"),
        (report.rights_checks, _n(report.rights_checks, "rights check of a hit")),
        (
            report.check_log_anonymised,
            f"the plates of {_n(report.check_log_anonymised, 'rights-check log row')}",
        ),
        (report.check_log_deleted, _n(report.check_log_deleted, "rights-check log row")),
        (report.hits_anonymised, f"the plates of {_n(report.hits_anonymised, 'closed hit')}"),
        (report.fines_anonymised, f"the plates of {_n(report.fines_anonymised, 'closed fine')}"),
        (report.files_deleted, _n(report.files_deleted, "leftover evidence file")),
    ]
    listed = [text for count, text in parts if count]
    more = "" if report.complete else " (stopped at its time limit; run it again to go on)"
    if not listed:
        return "nothing is past its retention term" if report.dry_run else "nothing to remove"
    return ("would remove " if report.dry_run else "removed ") + ", ".join(listed) + more


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
