"""``scancar admin check-evidence``: the restore drill's check of every evidence file."""

from __future__ import annotations

import typer

from api.clitools import ADMIN_HELP, ensure_data_dir, group, load_settings, open_engine


def register(app: typer.Typer) -> None:
    admin_app = group(app, "admin", ADMIN_HELP)

    @admin_app.command(
        "check-evidence",
        help="Check that every evidence file exists and matches its SHA-256 (after a restore). "
        "Exit 1 when any is missing or changed.",
    )
    def check_evidence() -> None:
        from api.evidence.store import EvidenceStore
        from api.evidence.verify import verify_evidence

        settings = load_settings()
        ensure_data_dir(settings)
        engine = open_engine(settings)
        try:
            report = verify_evidence(engine, EvidenceStore(settings.evidence_dir))
        finally:
            engine.dispose()
        for bad in report.bad:
            typer.echo(f"hit {bad.hit_id}, {bad.name}: {bad.problem} (sha256 {bad.sha256[:12]}...)")
        megabytes = report.bytes_checked / 1e6
        typer.echo(
            f"checked {report.files} evidence files ({megabytes:.1f} MB) of {report.hits} hits: "
            + ("every file matches its SHA-256" if report.is_ok else f"{len(report.bad)} bad")
        )
        if report.unreferenced_files:
            typer.echo(
                f"note: {report.unreferenced_files} files in {settings.evidence_dir} belong to "
                "no evidence row (leftovers; the purge removes them after an hour)",
                err=True,
            )
        if not report.is_ok:
            raise typer.Exit(1)
