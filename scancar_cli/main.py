"""The ``scancar`` command's root: the car, the backend and their tools in one command.

It only adds each package's commands (``register(app)`` of every module in ``PACKAGES``, in
that order) and handles ``--version``, help wording and the errors that end any command.
Each ``cli`` module is light at import (typer and the standard library); the command bodies
import what they need (FastAPI, SQLAlchemy, OpenCV, onnxruntime), so ``scancar gps`` loads no
web framework and ``scancar db current`` no camera code.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
import typer.core

import api.cli
import api.evidence.cli
import api.permits.cli
import api.reports.cli
import api.residents.cli
import api.retention.cli
import api.zones.cli
import scancar.cli

PACKAGES = (
    api.cli,  # serve, db ..., admin users and devices
    api.zones.cli,  # zones ...
    api.permits.cli,  # permits ...
    api.residents.cli,  # addresses ...
    api.retention.cli,  # admin purge, tick, seed-tariffs
    api.evidence.cli,  # admin check-evidence
    api.reports.cli,  # admin rebuild-reports
    scancar.cli,  # the car: gps, read, replay, run, status, demo
)


def build_app() -> typer.Typer:
    """The root command with every package's commands."""
    app = typer.Typer(
        name="scancar",
        help="Parking scan-car enforcement: the car, the backend and their tools.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    app.callback()(root)
    for package in PACKAGES:
        package.register(app)
    return app


def _show_version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"scancar {version('scancar')}")
        except PackageNotFoundError:  # run from a checkout without installing
            typer.echo("scancar (not installed)")
        raise typer.Exit


def root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="print the version and exit"
        ),
    ] = False,
) -> None:
    """Parking scan-car enforcement: the car, the backend and their tools."""


def plain_metavars(command: typer.core.TyperGroup | typer.core.TyperCommand) -> object:
    """Help pages name values in words (``PATH``, ``N``, ``TEXT``) instead of Python type
    names (``<list[str]>``, ``<float>``, ``<bool>``); flags show no value at all."""
    for param in command.params:
        desc = getattr(param, "type_descriptor", None)
        if param.metavar is not None or desc is None or desc.is_choice:
            continue
        if getattr(param, "is_flag", False) or getattr(param, "count", False):
            param.metavar = ""
            continue
        is_argument = not hasattr(param, "is_flag")
        word = (param.name or "value").upper() if is_argument else _word_for(desc)
        param.metavar = word + ("..." if desc.is_list and not is_argument else "")
        if is_argument:  # its name says what it is; no type column
            param.display_type_rich = lambda **_: None  # type: ignore[attr-defined]
    make_help = command.get_help_option

    def help_option(ctx):  # type: ignore[no-untyped-def]
        option = make_help(ctx)
        if option is not None:
            option.metavar = ""
        return option

    command.get_help_option = help_option  # type: ignore[method-assign]
    for sub in getattr(command, "commands", {}).values():
        plain_metavars(sub)
    return command


def _word_for(desc: object) -> str:
    if getattr(desc, "is_path", False) or getattr(desc, "is_file", False):
        return "PATH"
    annotation = getattr(desc, "annotation", None)
    inner = [*getattr(annotation, "__args__", ()), annotation]
    if int in inner:
        return "N"
    if float in inner:
        return "NUMBER"
    return "TEXT"


def main() -> None:
    """The console script: a database that goes away in the middle of a command, or Ctrl-C,
    ends it with one line instead of a traceback."""
    command = plain_metavars(typer.main.get_command(app))  # type: ignore[arg-type]
    try:
        command(prog_name="scancar")  # type: ignore[operator]
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        raise SystemExit(130) from None
    except Exception as exc:
        if not _is_database_error(exc):
            raise
        from api.dburl import describe_database_error

        url = getattr(getattr(exc, "connection_invalidated", None), "url", None)
        print(
            f"error: {describe_database_error(exc, url or 'the configured database')}",
            file=sys.stderr,
        )
        raise SystemExit(1) from None


def _is_database_error(exc: Exception) -> bool:
    """A SQLAlchemy error (only a command that loaded SQLAlchemy can raise one; the car's
    commands never load it for this check)."""
    errors = sys.modules.get("sqlalchemy.exc")
    return errors is not None and isinstance(exc, errors.SQLAlchemyError)


app = build_app()

if __name__ == "__main__":
    main()
