"""``scancar demo``: one command for a new user.

Sets up a fresh embedded backend (SQLite under ``./demo``) with demo users and a scan-car
device, then serves it and prints the URL and logins. The backend runs as its own process
(``python -m api.cli``); the car side never imports the backend.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

DEMO_USERS = (
    ("admin", "admin", "demo-admin-pass"),
    ("backoffice", "backoffice", "demo-backoffice-pass"),
    ("boa", "boa", "demo-boa-pass"),
    ("provider", "provider", "demo-provider-pass"),
)


def _backend(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    proc = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "api.cli", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        typer.echo(f"error: 'scancar {' '.join(args)}' failed: {proc.stderr.strip()}", err=True)
        raise typer.Exit(1)
    return proc.stdout.strip()


def demo(
    folder: Annotated[Path, typer.Option(help="where the demo keeps its data")] = Path("demo"),
    json_out: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
    serve: Annotated[bool, typer.Option("--serve/--no-serve", help="keep serving")] = True,
    port: int = 8000,
) -> None:
    """Set up a fresh demo backend with users and a device, then serve it."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    env = dict(os.environ)
    env.update(
        SCANCAR_ENV="development",
        SCANCAR_DATABASE_URL=f"sqlite:///{(folder / 'scancar.db').resolve()}",
        SCANCAR_DATA_DIR=str(folder.resolve()),
    )
    _backend(env, "db", "upgrade")
    for name, role, password in DEMO_USERS:
        _backend(
            env,
            "admin",
            "create-user",
            name,
            "--role",
            role,
            "--password-stdin",
            stdin=password + "\n",
        )
    token = _backend(env, "admin", "create-device", "demo-car-1")
    (folder / "device-token.txt").write_text(token + "\n")
    summary = {
        "backend": f"http://127.0.0.1:{port}",
        "database": env["SCANCAR_DATABASE_URL"],
        "users": {name: password for name, _, password in DEMO_USERS},
        "device": "demo-car-1",
        "device_token_file": str(folder / "device-token.txt"),
    }
    if json_out:
        typer.echo(json.dumps(summary))
    else:
        typer.echo("Demo backend ready")
        for key, value in summary.items():
            typer.echo(f"  {key:<18} {value}")
    if serve:
        typer.echo(
            f"serving on http://127.0.0.1:{port} (API docs at /docs); Ctrl-C stops", err=True
        )
        os.execvpe(  # noqa: S606 - replace this process with the server
            sys.executable,
            [sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
            env,
        )


def register(app: typer.Typer) -> None:
    app.command("demo", help="Set up a fresh demo (SQLite, demo users, a device) and serve it.")(
        demo
    )
