"""``scancar permits ...``: a first load of permits from CSV, and an export back to CSV."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from permits.errors import CsvImportError

app = typer.Typer(help="Permits: import from and export to CSV.", no_args_is_help=True)


@app.command(
    "import",
    help="Import permits from a CSV file (all or nothing; bad rows are listed with line numbers). "
    "Granted, active and suspended permits take a place in their area's quota; a row beyond "
    "the quota is a bad row unless --allow-over-quota is given.",
)
def import_file(
    file: Path,
    allow_over_quota: Annotated[
        bool,
        typer.Option(
            "--allow-over-quota",
            help="import rows beyond an area's quota anyway (the file is the municipality's "
            "truth); the areas over their quota are printed as warnings",
        ),
    ] = False,
) -> None:
    from api.cli import _engine, _settings
    from api.db import session_scope
    from api.errors import ApiError
    from api.permits.service import import_permits
    from permits.csvio import read_permit_rows

    try:
        with file.open(encoding="utf-8", newline="") as stream:
            rows = read_permit_rows(stream)
    except OSError as exc:
        typer.echo(f"error: cannot read {file}: {exc.strerror}", err=True)
        raise typer.Exit(2) from None
    except CsvImportError as exc:
        _bad_rows(exc)
    engine = _engine(_settings())
    try:
        with session_scope(engine) as session:
            report = import_permits(session, rows, "cli", allow_over_quota=allow_over_quota)
    except ApiError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(1) from None
    except CsvImportError as exc:  # rows over a quota
        _bad_rows(exc, "; rows over a quota are imported with --allow-over-quota")
    finally:
        engine.dispose()
    for area in report.areas_over_quota:
        typer.echo(
            f"warning: area {area.area_code!r} is over its quota: {area.held_after} permits "
            f"hold a place, the quota is {area.capacity} ({area.held_before} before this import)",
            err=True,
        )
    typer.echo(f"imported {report.count} permits")
    if report.applications:
        typer.echo(
            f"{report.applications} of them are applications to decide "
            f"({report.waitlisted} on a waiting list)"
        )
    if report.granted_from_waiting:
        typer.echo(f"granted at once, places being free: {', '.join(report.granted_from_waiting)}")


def _bad_rows(exc: CsvImportError, hint: str = "") -> NoReturn:
    for error in exc.errors:
        typer.echo(str(error))
    typer.echo(f"{len(exc.errors)} bad row(s); nothing imported{hint}", err=True)
    raise typer.Exit(1)


@app.command("export", help="Write every permit as CSV to standard output.")
def export() -> None:
    from api.cli import _engine, _settings
    from api.db import session_scope
    from api.permits.service import iter_permits
    from permits.csvio import write_permits_csv

    engine = _engine(_settings())
    try:
        with session_scope(engine) as session:
            count = write_permits_csv(iter_permits(session), sys.stdout)
    finally:
        engine.dispose()
    typer.echo(f"exported {count} permits", err=True)
