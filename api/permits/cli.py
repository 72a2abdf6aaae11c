"""``scancar permits ...``: a first load of permits from CSV, and an export back to CSV."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from api.clitools import fail, load_settings, open_engine
from permits.csvio import CsvPermit
from permits.errors import CsvImportError, CsvRowError

app = typer.Typer(help="Permits: import from and export to CSV.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="permits", help="Permits: import FILE (CSV), export.")


@app.command(
    "import",
    help="Import permits from a CSV file (all or nothing; bad rows are listed with line numbers). "
    "Granted, active and suspended permits take a place in their area's quota; a row beyond "
    "the quota is a bad row unless --allow-over-quota is given.",
)
def import_file(
    file: Annotated[Path, typer.Argument(help="the CSV file (UTF-8 or Windows-1252, ',' or ';')")],
    allow_over_quota: Annotated[
        bool,
        typer.Option(
            "--allow-over-quota",
            help="import rows beyond an area's quota anyway (the file is the municipality's "
            "truth); the areas over their quota are printed as warnings",
        ),
    ] = False,
    allow_unknown_areas: Annotated[
        bool,
        typer.Option(
            "--allow-unknown-areas",
            help="import rows whose area codes match no zone (printed as warnings)",
        ),
    ] = False,
) -> None:
    from api.db import session_scope
    from api.errors import ApiError
    from api.permits.service import import_permits
    from permits.errors import CsvEncodingError

    try:
        rows = _read_rows(file)
    except OSError as exc:
        raise fail(f"cannot read {file}: {exc.strerror}") from None
    except CsvEncodingError as exc:
        raise fail(f"{file}: {exc}", 1) from None
    except CsvImportError as exc:
        _bad_rows(exc)
    engine = open_engine(load_settings())
    try:
        with session_scope(engine) as session:
            _check_areas(session, rows, allow_unknown_areas)
            report = import_permits(session, rows, "cli", allow_over_quota=allow_over_quota)
    except ApiError as exc:
        raise fail(exc.detail, 1) from None
    except CsvImportError as exc:  # rows over a quota or in unknown areas
        hint = (
            "; rows in areas without a zone are imported with --allow-unknown-areas"
            if any(e.column == "area_codes" and "zone" in e.message for e in exc.errors)
            else "; rows over a quota are imported with --allow-over-quota"
        )
        _bad_rows(exc, hint)
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


def _read_rows(file: Path) -> list[CsvPermit]:
    """The file's permits, decoded as a spreadsheet program saved it."""
    import io

    from permits.csvio import decode_csv, read_permit_rows

    return read_permit_rows(io.StringIO(decode_csv(file.read_bytes()), newline=""))


def _check_areas(session, rows: list[CsvPermit], allow_unknown: bool) -> None:  # type: ignore[no-untyped-def]
    """Rows naming an area code no zone has are bad rows (warnings with the flag)."""
    from api.zones.versions import current_area_codes
    from permits.csvio import unknown_area_codes

    known = current_area_codes(session)
    if known is None:
        if not allow_unknown:
            raise CsvImportError(
                [
                    CsvRowError(
                        1,
                        "area_codes",
                        "no zones are imported yet, so no area code can be checked: import "
                        "them first (scancar zones import FILE) or pass --allow-unknown-areas",
                    )
                ]
            )
        typer.echo("warning: no zones are imported yet; area codes not checked", err=True)
        return
    errors = unknown_area_codes(rows, known)
    if errors and not allow_unknown:
        raise CsvImportError(errors)
    for error in errors:
        typer.echo(f"warning: {error}", err=True)


def _bad_rows(exc: CsvImportError, hint: str = "") -> NoReturn:
    for error in exc.errors:
        typer.echo(str(error))
    typer.echo(f"{len(exc.errors)} bad row(s); nothing imported{hint}", err=True)
    raise typer.Exit(1)


@app.command("export", help="Write every permit as CSV to standard output.")
def export() -> None:
    from api.db import session_scope
    from api.permits.service import iter_permits
    from permits.csvio import write_permits_csv

    engine = open_engine(load_settings())
    try:
        with session_scope(engine) as session:
            count = write_permits_csv(iter_permits(session), sys.stdout)
    finally:
        engine.dispose()
    typer.echo(f"exported {count} permits", err=True)
