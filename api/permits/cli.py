"""``scancar permits ...``: a first load of permits from CSV, and an export back to CSV."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from permits.errors import CsvImportError

app = typer.Typer(help="Permits: import from and export to CSV.", no_args_is_help=True)


@app.command(
    "import",
    help="Import permits from a CSV file (all or nothing; bad rows are listed with line numbers).",
)
def import_file(file: Path) -> None:
    from api.cli import _engine, _settings
    from api.db import session_scope
    from api.errors import ApiError
    from api.permits.service import import_permits
    from permits.csvio import read_permits_csv

    try:
        with file.open(encoding="utf-8", newline="") as stream:
            permits = read_permits_csv(stream)
    except OSError as exc:
        typer.echo(f"error: cannot read {file}: {exc.strerror}", err=True)
        raise typer.Exit(2) from None
    except CsvImportError as exc:
        for error in exc.errors:
            typer.echo(str(error))
        typer.echo(f"{len(exc.errors)} bad row(s); nothing imported", err=True)
        raise typer.Exit(1) from None
    engine = _engine(_settings())
    try:
        with session_scope(engine) as session:
            count = import_permits(session, permits, "cli")
    except ApiError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"imported {count} permits")


@app.command("export", help="Write every permit as CSV to standard output.")
def export() -> None:
    from api.cli import _engine, _settings
    from api.db import session_scope
    from api.permits.service import iter_permits
    from permits.csvio import write_permits_csv

    engine = _engine(_settings())
    with session_scope(engine) as session:
        count = write_permits_csv(iter_permits(session), sys.stdout)
    typer.echo(f"exported {count} permits", err=True)
