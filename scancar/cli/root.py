"""The ``scancar`` command's root: the car, the backend and their tools in one command.

It only adds each package's commands and handles ``--version``, help wording and the errors
that end any command. The packages are found through the entry-point group
``scancar.commands`` (``pyproject.toml``): each entry names a ``cli`` module with
``register(app)`` and optionally ``describe_error(exc) -> str | None`` (one line for an error
of its own kind, e.g. the backend's database errors). Entries are added in the order of their
names. So the car's package holds the root without importing the backend: an installation
without ``api`` simply has the car's commands.

Each ``cli`` module is light at import (typer and the standard library); the command bodies
import what they need (FastAPI, SQLAlchemy, OpenCV, onnxruntime), so ``scancar gps`` loads no
web framework and ``scancar db current`` no camera code.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from importlib.metadata import entry_points
from types import ModuleType
from typing import Annotated

import typer
import typer.core

COMMANDS_GROUP = "scancar.commands"


class NotInstalledError(Exception):
    """No package registered any command: the distribution is not installed."""


def command_modules() -> list[ModuleType]:
    """The ``cli`` modules of the entry-point group, in the order of the entries' names."""
    found = sorted(entry_points(group=COMMANDS_GROUP), key=lambda ep: ep.name)
    if not found:
        raise NotInstalledError(
            "scancar is not installed (no commands in the entry-point group "
            f"{COMMANDS_GROUP!r}): run pip install -e . in the project folder"
        )
    return [ep.load() for ep in found]


def _error_describers(modules: list[ModuleType]) -> list[Callable[[BaseException], str | None]]:
    return [m.describe_error for m in modules if callable(getattr(m, "describe_error", None))]


def build_app(modules: list[ModuleType]) -> typer.Typer:
    """The root command with every package's commands."""
    app = typer.Typer(
        name="scancar",
        help="Parking scan-car enforcement: the car, the backend and their tools.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    app.callback()(root)
    for module in modules:
        module.register(app)
    return app


def _show_version(value: bool) -> None:
    if value:  # the root only runs installed (its commands come from the entry points)
        from importlib.metadata import version

        typer.echo(f"scancar {version('scancar')}")
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
    """The console script: an error a package describes (the backend's database going away in
    the middle of a command), or Ctrl-C, ends it with one line instead of a traceback."""
    try:
        modules = command_modules()
    except NotInstalledError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    command = plain_metavars(typer.main.get_command(build_app(modules)))  # type: ignore[arg-type]
    try:
        command(prog_name="scancar")  # type: ignore[operator]
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        raise SystemExit(130) from None
    except Exception as exc:
        for describe in _error_describers(modules):
            line = describe(exc)
            if line:
                print(f"error: {line}", file=sys.stderr)
                raise SystemExit(1) from None
        raise


def cli_app() -> typer.Typer:
    """The root command with every installed package's commands (for tests and tools)."""
    return build_app(command_modules())


def __getattr__(name: str) -> typer.Typer:
    """``from scancar.cli.root import app``: built on first use, not at import."""
    if name == "app":
        return cli_app()
    raise AttributeError(name)


if __name__ == "__main__":
    main()
