"""The ``scancar`` command: backend commands here, the car's commands from ``scancar.cli``.

This is the console-script root. Backend commands build their settings and engine here (one
composition root per process) and call the services; a bad setting stops with one line.
"""

from __future__ import annotations

import getpass
import logging
import logging.config
import sys
from contextlib import contextmanager
from typing import Annotated

import typer
import typer.core

from scancar.cli import register_car_commands

app = typer.Typer(
    name="scancar",
    help="Parking scan-car enforcement: the car, the backend and their tools.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema migrations.", no_args_is_help=True)
admin_app = typer.Typer(help="Users, devices and one-off maintenance.", no_args_is_help=True)
app.add_typer(db_app, name="db", help="Database schema migrations (upgrade, current, check).")
app.add_typer(admin_app, name="admin", help="Users, devices and one-off maintenance jobs.")


def _register_feature_commands() -> None:
    from api.zones.cli import app as zones_app

    app.add_typer(zones_app, name="zones", help="Parking zones: check, import, import-npr.")
    from api.permits.cli import app as permits_app

    app.add_typer(permits_app, name="permits", help="Permits: import FILE (CSV), export.")

    from api.residents.cli import app as addresses_app

    app.add_typer(addresses_app, name="addresses", help="Addresses: import FILE (CSV).")

    from api.retention.cli import register as register_retention_commands

    register_retention_commands(admin_app)
    from api.evidence.cli import register as register_evidence_commands

    register_evidence_commands(admin_app)
    from api.reports.cli import register as register_report_commands

    register_report_commands(admin_app)


_register_feature_commands()


def fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _settings():  # type: ignore[no-untyped-def]
    from api.settings import SettingsError, load_backend_settings

    try:
        return load_backend_settings()
    except SettingsError as exc:
        raise fail(str(exc)) from None


def _engine(settings, *, ready: bool = True):  # type: ignore[no-untyped-def]
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


def _data_dir(settings):  # type: ignore[no-untyped-def]
    from api.settings import SettingsError, ensure_data_dir

    try:
        return ensure_data_dir(settings.data_dir)
    except SettingsError as exc:
        raise fail(str(exc)) from None


# --------------------------------------------------------------------------- serve
@app.command(help="Run the backend (FastAPI under uvicorn); migrates an empty database first.")
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=32, help="worker processes")] = 1,
) -> None:
    from sqlalchemy.exc import SQLAlchemyError

    from api.db import connection_budget_problem
    from api.dburl import describe_database_error
    from api.logsetup import logging_config

    problem = listen_problem(host, port)
    if problem:
        raise fail(problem, 1)
    settings = _settings()
    log_config = logging_config(json_lines=settings.log_json)
    logging.config.dictConfig(log_config)  # here; uvicorn applies it again in each worker
    _data_dir(settings)
    engine = _engine(settings)
    try:
        problem = connection_budget_problem(
            engine,
            workers=workers,
            pool_size=settings.database_pool_size,
            check_pool_size=settings.rights_check_pool_size,
        )
        if problem:  # a warning: the bursts may never come
            logging.getLogger("api.cli").warning("%s", problem)
    except SQLAlchemyError as exc:
        raise fail(describe_database_error(exc, engine.url), 1) from None
    finally:
        engine.dispose()
    settings.evidence_dir.mkdir(parents=True, exist_ok=True)
    with _metrics_folder(workers):
        _run_uvicorn(host, port, workers, log_config)


def _run_uvicorn(host: str, port: int, workers: int, log_config: dict[str, object]) -> None:
    import uvicorn

    uvicorn.run(
        "api.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=log_config,  # applied again in each worker process
        # X-Forwarded-* are believed only from SCANCAR_TRUSTED_PROXIES, by the app itself
        # (api.middleware); uvicorn's own handling would trust 127.0.0.1 by default
        proxy_headers=False,
        # a busy machine can take several seconds to answer the supervisor's ping; do not
        # kill and restart healthy workers for that
        timeout_worker_healthcheck=30,
    )


def listen_problem(host: str, port: int) -> str | None:
    """Why ``host:port`` cannot be listened on (in use, not an address of this machine), or
    ``None``. Checked before anything else is done."""
    import errno
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        return f"cannot listen on {host!r}: {exc.strerror}"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        try:
            sock.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return (
                    f"port {port} on {host} is already in use (another scancar serve?): stop "
                    "that process or choose another --port"
                )
            if exc.errno == errno.EACCES:
                return f"port {port} needs root rights; choose a port above 1023"
            return f"cannot listen on {host} port {port}: {exc.strerror}"
    return None


MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"  # api.metrics.MULTIPROC_ENV, without importing it


@contextmanager
def _metrics_folder(workers: int):  # type: ignore[no-untyped-def]
    """With several workers, each writes its metrics to files in one folder that every worker
    reads for a scrape (prometheus-client's multiprocess mode). The folder is emptied first
    and, when made here, removed after."""
    import os
    import shutil
    import tempfile
    from pathlib import Path

    given = os.environ.get(MULTIPROC_ENV)
    if workers == 1 and not given:
        yield
        return
    folder = Path(given) if given else Path(tempfile.mkdtemp(prefix="scancar-metrics-"))
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink()
    os.environ[MULTIPROC_ENV] = str(folder)  # before the workers import prometheus-client
    try:
        yield
    finally:
        if not given:
            shutil.rmtree(folder, ignore_errors=True)


# --------------------------------------------------------------------------- db
@db_app.command("upgrade", help="Apply all migrations to the configured database.")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="target revision; default: the newest")] = "heads",
) -> None:
    from api import migrate

    engine = _engine(_settings(), ready=False)
    with _database_errors(engine):
        before = migrate.current_revision(engine)
        migrate.upgrade(engine, revision)
        after = migrate.current_revision(engine)
    if before == after:
        typer.echo(f"the database is already at {after}; nothing to do")
    else:
        typer.echo(f"the database is now at {after} (was {before or 'empty'})")


@db_app.command("current", help="Print the database's migration revision and the code's.")
def db_current() -> None:
    from api import migrate

    engine = _engine(_settings(), ready=False)
    with _database_errors(engine):
        current, head = migrate.current_revision(engine), migrate.head_revision(engine)
    state = "up to date" if current == head else "run scancar db upgrade"
    typer.echo(f"database at {current or 'none (empty)'}, code at {head}: {state}")


@db_app.command("check", help="Exit 1 when the models and the migrated database differ.")
def db_check() -> None:
    from api import migrate

    engine = _engine(_settings())
    with _database_errors(engine):
        diffs = migrate.drift(engine)
    for line in migrate.describe_drift(diffs):
        typer.echo(line)
    if diffs:
        typer.echo(f"{len(diffs)} difference(s) between the models and the database", err=True)
        raise typer.Exit(1)
    typer.echo("ok: models and migrations agree")


@contextmanager
def _database_errors(engine):  # type: ignore[no-untyped-def]
    """A database error inside a command is one line (exit 1), never a traceback."""
    from sqlalchemy.exc import SQLAlchemyError

    from api.dburl import describe_database_error

    try:
        yield
    except SQLAlchemyError as exc:
        raise fail(describe_database_error(exc, engine.url), 1) from None
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- admin
@admin_app.command("create-user", help="Create a user with a role; password from stdin or prompt.")
def create_user(
    name: str,
    role: Annotated[str, typer.Option(help="admin, backoffice, boa or provider")],
    password_stdin: Annotated[bool, typer.Option(help="read the password from stdin")] = False,
    full_name: str = "",
    badge: Annotated[str | None, typer.Option(help="BOA badge number")] = None,
) -> None:
    from api.audit.service import record
    from api.auth import service
    from api.db import session_scope
    from api.errors import ApiError

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            raise fail("the passwords differ")
    engine = _engine(_settings())
    try:
        with session_scope(engine) as session:
            user = service.create_user(
                session,
                username=name,
                password=password,
                role=role,
                full_name=full_name,
                badge_number=badge,
            )
            record(session, None, "user.created", "user", user.id, f"role={user.role}")
    except ApiError as exc:
        raise fail(exc.detail) from None
    typer.echo(f"created user {name} ({role})")


@admin_app.command("create-device", help="Create a scan-car device; prints its token, only that.")
def create_device(name: str) -> None:
    from api.audit.service import record
    from api.auth import service
    from api.db import session_scope
    from api.errors import ApiError

    engine = _engine(_settings())
    try:
        with session_scope(engine) as session:
            device, token = service.create_device(session, name=name)
            record(session, None, "device.created", "device", device.id)
    except ApiError as exc:
        raise fail(exc.detail) from None
    typer.echo(token)


@admin_app.command("revoke-device", help="Revoke a device's token; it gets 401 at once.")
def revoke_device(name: str) -> None:
    from api.audit.service import record
    from api.auth import service
    from api.db import session_scope
    from api.errors import ApiError

    engine = _engine(_settings())
    try:
        with session_scope(engine) as session:
            device = service.revoke_device(session, name=name)
            record(session, None, "device.revoked", "device", device.id)
    except ApiError as exc:
        raise fail(exc.detail) from None
    typer.echo(f"revoked device {name}")


register_car_commands(app)


def _show_version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"scancar {version('scancar')}")
        except PackageNotFoundError:  # run from a checkout without installing
            typer.echo("scancar (not installed)")
        raise typer.Exit


@app.callback()
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
            param.display_type_rich = lambda **_: None  # type: ignore[method-assign]
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
    from sqlalchemy.exc import SQLAlchemyError

    command = plain_metavars(typer.main.get_command(app))
    try:
        command(prog_name="scancar")  # type: ignore[operator]
    except SQLAlchemyError as exc:
        from api.dburl import describe_database_error

        url = getattr(getattr(exc, "connection_invalidated", None), "url", None)
        print(
            f"error: {describe_database_error(exc, url or 'the configured database')}",
            file=sys.stderr,
        )
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        raise SystemExit(130) from None


if __name__ == "__main__":
    main()
