"""Every help page names values in words (PATH, N, TEXT), never Python type names, and
``--version`` answers."""

from __future__ import annotations

import re

import typer

from scancar.cli.root import app, plain_metavars
from tests.integration.cli.support import run_cli


def _walk(command, ctx):  # type: ignore[no-untyped-def]
    yield command, ctx
    for name, sub in getattr(command, "commands", {}).items():
        yield from _walk(sub, type(ctx)(sub, info_name=name, parent=ctx))


def test_cli_help_pages_have_no_python_type_names(capsys):
    root = plain_metavars(typer.main.get_command(app))
    ctx = typer.core.TyperGroup.context_class(root, info_name="scancar")
    pages = 0
    for command, context in _walk(root, ctx):
        command.get_help(context)
        text = capsys.readouterr().out
        pages += 1
        found = re.findall(r"<[a-z_]+(?:\[[^\]]*\])?(?: range)?>", text)
        assert found == [], (context.command_path, found)
    assert pages > 25


def test_cli_version(tmp_path):
    result = run_cli("--version", cwd=tmp_path)
    assert result.returncode == 0
    assert re.fullmatch(r"scancar \d+\.\d+\.\d+\n", result.stdout)
