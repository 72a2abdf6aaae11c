"""``scancar addresses ...``: load the address source the portal's applications use."""

from __future__ import annotations

from pathlib import Path

import typer

from api.clitools import load_settings, open_engine
from permits.errors import CsvImportError

app = typer.Typer(help="Addresses: import the address list (CSV).", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="addresses", help="Addresses: import FILE (CSV).")


@app.command(
    "import",
    help="Import addresses from a CSV file (postcode,huisnummer,huisletter,toevoeging,straat,"
    "woonplaats,lon,lat; all or nothing, bad rows listed with line numbers). Known addresses "
    "are updated. The fixture town's list: fixtures/addresses/town.csv.",
)
def import_file(file: Path) -> None:
    from api.db import session_scope
    from api.residents.addresses import import_addresses, read_addresses

    try:
        text = file.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        typer.echo(f"error: cannot read {file}: {exc.strerror}", err=True)
        raise typer.Exit(2) from None
    except UnicodeDecodeError:
        typer.echo(f"error: {file} is not UTF-8 text", err=True)
        raise typer.Exit(2) from None
    try:
        rows = read_addresses(text)
    except CsvImportError as exc:
        for error in exc.errors:
            typer.echo(str(error))
        typer.echo(f"{len(exc.errors)} bad row(s); nothing imported", err=True)
        raise typer.Exit(1) from None
    engine = open_engine(load_settings())
    try:
        with session_scope(engine) as session:
            added, updated = import_addresses(session, rows)
    finally:
        engine.dispose()
    typer.echo(f"imported {added + updated} addresses ({added} new, {updated} updated)")
