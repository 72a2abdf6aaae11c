"""Run the ``scancar`` command as a user would: a subprocess in a folder of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO, TEST_SECRET


def cli_env(**settings: str) -> dict[str, str]:
    """The environment without the caller's SCANCAR_ settings (the model path kept), plus
    ``settings`` as ``SCANCAR_<NAME>``; a test secret key unless given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCANCAR_")}
    if "SCANCAR_OCR_MODEL" in os.environ:
        env["SCANCAR_OCR_MODEL"] = os.environ["SCANCAR_OCR_MODEL"]
    env["SCANCAR_SECRET_KEY"] = TEST_SECRET
    env["PYTHONPATH"] = str(REPO)
    env.update({f"SCANCAR_{k.upper()}": v for k, v in settings.items()})
    return env


def run_cli(
    *args: str, cwd: Path, stdin: str | None = None, timeout: float = 120, **settings: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scancar", *args],
        capture_output=True,
        text=True,
        input=stdin,
        env=cli_env(**settings),
        cwd=cwd,
        timeout=timeout,
        check=False,
    )


def one_line_error(result: subprocess.CompletedProcess[str], code: int) -> str:
    """The single ``error: ...`` line of a failed command (asserting the exit code and that no
    traceback was shown); returns the text after ``error: ``."""
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    return errors[0].removeprefix("error: ")
