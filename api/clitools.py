"""What the backend's commands share: settings, engine, data folder and ``Backend`` built as
the server builds them, each problem one line on stderr and an exit code (2: the
configuration, 1: the environment, e.g. a database that does not answer or is not migrated).

Light at import (typer only): the root ``scancar`` command imports every package's CLI
module, and a car command must not load the backend.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from pathlib import Path

    from sqlalchemy.engine import Engine

    from api.backend import Backend
    from api.settings import BackendSettings


ADMIN_HELP = "Users, devices and one-off maintenance jobs."  # the shared ``admin`` group


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``error: message`` on stderr; the exit to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def load_settings() -> BackendSettings:
    from api.settings import SettingsError, load_backend_settings

    try:
        return load_backend_settings()
    except SettingsError as exc:
        raise fail(str(exc)) from None


def open_engine(settings: BackendSettings, *, ready: bool = True) -> Engine:
    """The database engine; with ``ready`` the database must answer and be migrated (an empty
    one is migrated, as ``serve`` does). Problems stop the command with one line."""
    import api.tables  # noqa: F401  every table, so foreign keys between features resolve
    from api import migrate
    from api.db import make_engine
    from api.dburl import DatabaseNotReady, DatabaseUrlError

    try:
        engine = make_engine(settings.database_url, pool_size=settings.database_pool_size)
    except DatabaseUrlError as exc:
        raise fail(f"SCANCAR_DATABASE_URL: {exc}") from None
    except DatabaseNotReady as exc:
        raise fail(str(exc), 1) from None
    if ready:
        try:
            if migrate.ensure_ready(engine):
                typer.echo("empty database: applied the migrations", err=True)
        except DatabaseNotReady as exc:
            engine.dispose()
            raise fail(str(exc), 1) from None
    return engine


def ensure_data_dir(settings: BackendSettings) -> Path:
    from api.settings import SettingsError
    from api.settings import ensure_data_dir as ensure

    try:
        return ensure(settings.data_dir)
    except SettingsError as exc:
        raise fail(str(exc)) from None


@contextmanager
def open_backend() -> Iterator[Backend]:
    """The server's own parts (``api.backend.build_backend``) without a web app and without
    the background jobs, closed after the command."""
    from api.backend import build_backend

    settings = load_settings().model_copy(update={"run_background_jobs": False})
    ensure_data_dir(settings)
    backend = build_backend(settings, engine=open_engine(settings))
    try:
        yield backend
    finally:
        backend.close()


@contextmanager
def database_errors(engine: Engine) -> Iterator[None]:
    """A database error inside a command is one line (exit 1), never a traceback; the
    engine is disposed of after."""
    from sqlalchemy.exc import SQLAlchemyError

    from api.dburl import describe_database_error

    try:
        yield
    except SQLAlchemyError as exc:
        raise fail(describe_database_error(exc, engine.url), 1) from None
    finally:
        engine.dispose()


def group(app: typer.Typer, name: str, help_text: str) -> typer.Typer:
    """The sub-command group ``name`` of ``app`` (``scancar admin ...``), made on first use,
    so each package adds its commands to a shared group without importing the others."""
    for info in app.registered_groups:
        if info.name == name and info.typer_instance is not None:
            return info.typer_instance
    sub = typer.Typer(help=help_text, no_args_is_help=True)
    app.add_typer(sub, name=name, help=help_text)
    return sub
