"""The ``scancar`` root only registers commands: importing it loads no web framework, database,
camera or inference code, and no car command loads the backend's web framework (FastAPI)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import REPO
from tests.integration.cli.support import cli_env

HEAVY = ("fastapi", "starlette", "uvicorn", "sqlalchemy", "sqlmodel", "cv2", "onnxruntime")
CAR_COMMANDS = ("gps", "read", "replay", "run", "status", "demo")

# Runs the root as the console script does, then tells which heavy modules were loaded.
PROBE = """
import json, sys
args, heavy = json.loads(sys.argv[1]), json.loads(sys.argv[2])
sys.argv = ["scancar", *args]
from scancar.cli.root import main
code = 0
try:
    main()
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "loaded": [m for m in heavy if m in sys.modules]}))
"""


def _probe(args: list[str], cwd) -> dict:  # type: ignore[type-arg]
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args), json.dumps(HEAVY)],
        capture_output=True,
        text=True,
        env=cli_env(),
        cwd=cwd,
        timeout=120,
        check=False,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_cli_root_imports_nothing_heavy(tmp_path):
    code = (
        "import json, sys; from scancar.cli.root import cli_app; cli_app(); "
        "print(json.dumps(sorted(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=cli_env(),
        cwd=tmp_path,
        timeout=120,
        check=True,
    )
    loaded = set(json.loads(result.stdout))
    assert "api.cli" in loaded  # every command registered, the backend's too
    assert "scancar.cli.replay" in loaded
    assert [m for m in HEAVY if m in loaded] == []


@pytest.mark.parametrize("command", CAR_COMMANDS)
def test_cli_car_command_help_loads_no_backend(command, tmp_path):
    outcome = _probe([command, "--help"], tmp_path)
    assert outcome["code"] == 0
    assert "fastapi" not in outcome["loaded"]
    assert "sqlalchemy" not in outcome["loaded"]


def test_cli_car_commands_that_run_load_no_web_framework(tmp_path):
    nmea = tmp_path / "drive.nmea"
    nmea.write_text(
        "$GPRMC,100000.00,A,5222.2120,N,00453.7120,E,10.0,90.0,261126,,,A*6F\n", encoding="ascii"
    )
    gps = _probe(["gps", str(nmea)], tmp_path)
    status = _probe(["status", "--config", str(tmp_path / "missing.toml")], tmp_path)
    assert gps["code"] in (0, 1), gps
    assert status["code"] == 2, status  # no such configuration: one line, exit 2
    for outcome in (gps, status):
        assert "fastapi" not in outcome["loaded"]
        assert "starlette" not in outcome["loaded"]


def test_cli_backend_command_loads_what_it_needs(tmp_path):
    """The probe can see a heavy import: a backend command does load the database code."""
    outcome = _probe(["db", "current"], tmp_path)
    assert "sqlalchemy" in outcome["loaded"]


def test_cli_root_module_is_the_console_script():
    text = (REPO / "pyproject.toml").read_text()
    assert 'scancar = "scancar.cli.root:main"' in text


def test_cli_root_finds_every_package_through_its_entry_points():
    """The installed entry points name every package's cli module, backend first, car last."""
    from scancar.cli.root import command_modules

    names = [m.__name__ for m in command_modules()]
    assert names[0] == "api.cli"
    assert names[-1] == "scancar.cli"
    assert {"api.zones.cli", "api.permits.cli", "api.retention.cli"} <= set(names)
