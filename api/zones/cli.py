"""``scancar zones ...``: check a zone file, import it, import NPR open-data tables."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from api.clitools import fail, load_settings, open_engine

if TYPE_CHECKING:  # the zones library loads shapely and numpy: inside the commands
    from zones.errors import ZoneFileError


app = typer.Typer(
    help="Parking zones: check and import zone files and NPR tables.", no_args_is_help=True
)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="zones", help="Parking zones: check, import, import-npr.")


DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="only show what would change; store nothing")
]
CrsOpt = Annotated[str | None, typer.Option("--crs", help="EPSG:28992 for RD New coordinates")]


def _store(imported, source: str, *, dry_run: bool = False) -> None:  # type: ignore[no-untyped-def]
    from api.db import session_scope
    from api.zones.versions import import_zone_set

    for notice in (*imported.repairs, *imported.warnings):
        typer.echo(f"note: {notice}", err=True)
    engine = open_engine(load_settings())
    try:
        with session_scope(engine) as session:
            change = import_zone_set(
                session, imported, None, actor_name="cli", note=f"import {source}", dry_run=dry_run
            )
    finally:
        engine.dispose()
    what = f"{change.zone_count} zones from {source}"
    _print_change(
        change,
        f"imported {change.zone_count} zones as version {change.version} ({source})",
        what,
        what,
    )


def _print_change(change, stored: str, same: str, would: str) -> None:  # type: ignore[no-untyped-def]
    if change.is_created:
        typer.echo(stored)
    elif change.previous_version and change.diff.is_empty:
        typer.echo(f"{same}: identical to the current version {change.version}; nothing stored")
    else:
        typer.echo(f"dry run: {would} would become version {change.version}; nothing stored")
    if change.previous_version and not change.diff.is_empty:
        typer.echo(f"changes against version {change.previous_version}: {change.diff.summary()}")


def _problems(exc: ZoneFileError) -> typer.Exit:
    for problem in exc.problems:
        typer.echo(str(problem))
    return typer.Exit(1)


@app.command("check", help="Validate a zone file; one problem per line, exit 1 on problems.")
def check(file: Path, crs: CrsOpt = None) -> None:
    from zones.errors import ZoneFileError, ZonesError
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
    dry_run: DryRunOpt = False,
) -> None:
    from zones.errors import ZoneFileError, ZonesError
    from zones.geojson import load_feature_collection

    try:
        imported = load_feature_collection(file, crs=crs, fix=fix)
    except ZoneFileError as exc:
        raise _problems(exc) from None
    except ZonesError as exc:
        typer.echo(str(exc))
        raise typer.Exit(1) from None
    _store(imported, file.name, dry_run=dry_run)


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
    fix: Annotated[bool, typer.Option(help="repair invalid geometry")] = False,
    dry_run: DryRunOpt = False,
) -> None:
    from zones.errors import ZoneFileError, ZonesError
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
    _store(imported, geometry.name, dry_run=dry_run)


@app.command("versions", help="List the stored zone versions, newest first.")
def versions() -> None:
    from api.db import session_scope
    from api.zones.versions import list_zone_versions

    engine = open_engine(load_settings())
    try:
        with session_scope(engine) as session:
            rows = list_zone_versions(session)
    finally:
        engine.dispose()
    if not rows:
        typer.echo("no zone versions yet: import a zone file with scancar zones import FILE")
        return
    for v in rows:
        mark = "current" if v.is_current else "       "
        when = v.created_at.astimezone().strftime("%Y-%m-%d %H:%M")
        note = f"  {v.note}" if v.note else ""
        typer.echo(
            f"{v.version:>4}  {mark}  {when}  {v.zone_count:>5} zones  by {v.created_by}{note}"
        )


@app.command(
    "rollback",
    help="Make an older zone version current again (stored as a new version; history kept).",
)
def rollback(
    version: Annotated[int, typer.Argument(help="the version to go back to", min=1)],
    dry_run: DryRunOpt = False,
) -> None:
    from api.db import session_scope
    from api.errors import ApiError
    from api.zones.versions import rollback_zone_set

    engine = open_engine(load_settings())
    try:
        with session_scope(engine) as session:
            change = rollback_zone_set(session, version, None, actor_name="cli", dry_run=dry_run)
    except ApiError as exc:
        raise fail(exc.detail, 1) from None
    finally:
        engine.dispose()
    _print_change(
        change,
        f"rolled back: the {change.zone_count} zones of version {version} are now version "
        f"{change.version}",
        f"version {version}",
        f"the {change.zone_count} zones of version {version}",
    )
