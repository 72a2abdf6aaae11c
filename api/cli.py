"""The backend's own commands: ``serve``, ``db upgrade|current|check`` and the user and device
``admin`` commands. ``register(app)`` adds them to the root ``scancar`` command
(``scancar.cli.root``, through the ``scancar.commands`` entry points); the features add
theirs from their own ``cli`` modules.

Every command builds its settings and engine through ``api.clitools`` (one composition root
per process) and calls the services; a bad setting stops with one line. Heavy imports
(FastAPI, SQLAlchemy, uvicorn) happen inside the commands.
"""

from __future__ import annotations

import getpass
import logging
import logging.config
import sys
from contextlib import contextmanager
from typing import Annotated

import typer

from api.clitools import (
    ADMIN_HELP,
    database_errors,
    ensure_data_dir,
    fail,
    group,
    load_settings,
    open_engine,
)

DB_HELP = "Database schema migrations (upgrade, current, check)."


def describe_error(exc: BaseException) -> str | None:
    """One line for a database error that ends any backend command (the root prints it);
    ``None`` for other errors. Only a command that loaded SQLAlchemy can raise one."""
    errors = sys.modules.get("sqlalchemy.exc")
    if errors is None or not isinstance(exc, errors.SQLAlchemyError):
        return None
    from api.dburl import describe_database_error

    url = getattr(getattr(exc, "connection_invalidated", None), "url", None)
    return describe_database_error(exc, url or "the configured database")


def register(app: typer.Typer) -> None:
    """Add ``serve``, ``db ...`` and the user and device ``admin`` commands to ``app``."""
    app.command(help="Run the backend (FastAPI under uvicorn); migrates an empty database first.")(
        serve
    )
    db = group(app, "db", DB_HELP)
    db.command("upgrade", help="Apply all migrations to the configured database.")(db_upgrade)
    db.command("current", help="Print the database's migration revision and the code's.")(
        db_current
    )
    db.command("check", help="Exit 1 when the models and the migrated database differ.")(db_check)
    admin = group(app, "admin", ADMIN_HELP)
    admin.command("create-user", help="Create a user with a role; password from stdin or prompt.")(
        create_user
    )
    admin.command("create-device", help="Create a scan-car device; prints its token, only that.")(
        create_device
    )
    admin.command("revoke-device", help="Revoke a device's token; it gets 401 at once.")(
        revoke_device
    )


# --------------------------------------------------------------------------- serve
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
    settings = load_settings()
    log_config = logging_config(json_lines=settings.log_json)
    logging.config.dictConfig(log_config)  # here; uvicorn applies it again in each worker
    ensure_data_dir(settings)
    engine = open_engine(settings)
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
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="target revision; default: the newest")] = "heads",
) -> None:
    from api import migrate

    engine = open_engine(load_settings(), ready=False)
    with database_errors(engine):
        before = migrate.current_revision(engine)
        migrate.upgrade(engine, revision)
        after = migrate.current_revision(engine)
    if before == after:
        typer.echo(f"the database is already at {after}; nothing to do")
    else:
        typer.echo(f"the database is now at {after} (was {before or 'empty'})")


def db_current() -> None:
    from api import migrate

    engine = open_engine(load_settings(), ready=False)
    with database_errors(engine):
        current, head = migrate.current_revision(engine), migrate.head_revision(engine)
    state = "up to date" if current == head else "run scancar db upgrade"
    typer.echo(f"database at {current or 'none (empty)'}, code at {head}: {state}")


def db_check() -> None:
    from api import migrate

    engine = open_engine(load_settings())
    with database_errors(engine):
        diffs = migrate.drift(engine)
    for line in migrate.describe_drift(diffs):
        typer.echo(line)
    if diffs:
        typer.echo(f"{len(diffs)} difference(s) between the models and the database", err=True)
        raise typer.Exit(1)
    typer.echo("ok: models and migrations agree")


# --------------------------------------------------------------------------- admin
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
    engine = open_engine(load_settings())
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


def create_device(name: str) -> None:
    from api.audit.service import record
    from api.auth import service
    from api.db import session_scope
    from api.errors import ApiError

    engine = open_engine(load_settings())
    try:
        with session_scope(engine) as session:
            device, token = service.create_device(session, name=name)
            record(session, None, "device.created", "device", device.id)
    except ApiError as exc:
        raise fail(exc.detail) from None
    typer.echo(token)


def revoke_device(name: str) -> None:
    from api.audit.service import record
    from api.auth import service
    from api.db import session_scope
    from api.errors import ApiError

    engine = open_engine(load_settings())
    try:
        with session_scope(engine) as session:
            device = service.revoke_device(session, name=name)
            record(session, None, "device.revoked", "device", device.id)
    except ApiError as exc:
        raise fail(exc.detail) from None
    typer.echo(f"revoked device {name}")
