"""``scancar zones ...``: check a zone file, import it, import NPR open-data tables."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from zones.errors import ZoneFileError, ZonesError

app = typer.Typer(
    help="Parking zones: check and import zone files and NPR tables.", no_args_is_help=True
)

CrsOpt = Annotated[str | None, typer.Option("--crs", help="EPSG:28992 for RD New coordinates")]


def _store(imported, source: str) -> None:  # type: ignore[no-untyped-def]
    from api.cli import _engine, _settings
    from api.db import session_scope
    from api.zones.service import store_version

    engine = _engine(_settings())
    with session_scope(engine) as session:
        row = store_version(session, imported, None, actor_name="cli", note=f"import {source}")
    for notice in (*imported.repairs, *imported.warnings):
        typer.echo(f"note: {notice}", err=True)
    typer.echo(f"imported {row.zone_count} zones as version {row.version}")


def _problems(exc: ZoneFileError) -> typer.Exit:
    for problem in exc.problems:
        typer.echo(str(problem))
    return typer.Exit(1)


@app.command("check", help="Validate a zone file; one problem per line, exit 1 on problems.")
def check(file: Path, crs: CrsOpt = None) -> None:
    from zones.geojson import load_feature_collection

    try:
        imported = load_feature_collection(file, crs=crs)
    except ZoneFileError as exc:
        raise _problems(exc) from None
    except ZonesError as exc:
        typer.echo(str(exc))
        raise typer.Exit(1) from None
    for warning in imported.warnings:
        typer.echo(f"warning: {warning}", err=True)
    typer.echo(f"ok: {len(imported.zones)} zones")


@app.command("import", help="Import a zone file as a new version (all or nothing).")
def import_file(
    file: Path,
    crs: CrsOpt = None,
    fix: Annotated[
        bool, typer.Option(help="repair invalid geometry, reporting each repair")
    ] = False,
) -> None:
    from zones.geojson import load_feature_collection

    try:
        imported = load_feature_collection(file, crs=crs, fix=fix)
    except ZoneFileError as exc:
        raise _problems(exc) from None
    except ZonesError as exc:
        typer.echo(str(exc))
        raise typer.Exit(1) from None
    _store(imported, file.name)


@app.command("import-npr", help="Build zones from NPR open-data tables plus area polygons (WKT).")
def import_npr(
    areas: Annotated[Path, typer.Option(help="NPR 'gebied' table (JSON or CSV)")],
    geometry: Annotated[Path, typer.Option(help="areamanagerid, areaid, areageometryastext")],
    regulations: Annotated[Path | None, typer.Option(help="NPR 'regeling'")] = None,
    time_frames: Annotated[Path | None, typer.Option(help="NPR 'tijdvak'")] = None,
    fare_calculations: Annotated[Path | None, typer.Option(help="NPR 'tariefberekening'")] = None,
    fare_parts: Annotated[Path | None, typer.Option(help="NPR 'tariefdeel'")] = None,
    area_regulations: Annotated[Path | None, typer.Option(help="area -> regulation table")] = None,
    on: Annotated[str | None, typer.Option(help="rules valid on this date (YYYY-MM-DD)")] = None,
    fix: bool = False,
) -> None:
    from zones.npr import import_npr as run

    try:
        imported = run(
            areas,
            geometry,
            regulations=regulations,
            time_frames=time_frames,
            fare_calculations=fare_calculations,
            fare_parts=fare_parts,
            area_regulations=area_regulations,
            on=date.fromisoformat(on) if on else None,
            fix=fix,
        )
    except ZoneFileError as exc:
        raise _problems(exc) from None
    except (ZonesError, ValueError) as exc:
        typer.echo(str(exc))
        raise typer.Exit(1) from None
    _store(imported, geometry.name)
