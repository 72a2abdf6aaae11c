"""Database URLs as operators write them, and database errors as one line they can act on.

``SCANCAR_DATABASE_URL`` takes what libpq tools take (``postgres://`` and ``postgresql://``) as
well as SQLAlchemy's ``postgresql+psycopg://``, and ``sqlite:///PATH``. Anything else is refused
with one line that says what is supported; no SQLAlchemy "background on this error" links, and
never the password.
"""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

SUPPORTED = "postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE or sqlite:///PATH"
_POSTGRES = frozenset({"postgres", "postgresql", "pgsql"})
_KNOWN_OTHERS = {
    "mysql": "MySQL",
    "mariadb": "MariaDB",
    "mssql": "SQL Server",
    "oracle": "Oracle",
    "cockroachdb": "CockroachDB",
}


class DatabaseUrlError(ValueError):
    """The database URL cannot be used; the message is one line without the password."""


class DatabaseNotReady(RuntimeError):
    """The database cannot be reached or is not migrated; the message is one line."""


def normalise_database_url(url: str) -> str:
    """The URL SQLAlchemy needs (``postgresql+psycopg://`` or ``sqlite:///``), or
    ``DatabaseUrlError`` naming what is wrong and what is supported."""
    text = url.strip()
    if not text:
        raise DatabaseUrlError(f"is empty; use {SUPPORTED}")
    scheme, sep, rest = text.partition("://")
    if not sep or not scheme or not scheme.replace("+", "").replace("-", "").isalnum():
        raise DatabaseUrlError(f"{_shown(text)!r} is not a database URL; use {SUPPORTED}")
    backend, _, driver = scheme.lower().partition("+")
    if backend in _POSTGRES:
        if driver not in ("", "psycopg"):
            raise DatabaseUrlError(
                f"the PostgreSQL driver {driver!r} is not installed; scancar uses psycopg 3: "
                f"write postgresql://{_shown(rest)}"
            )
        text = f"postgresql+psycopg://{rest}"
    elif backend == "sqlite":
        if driver not in ("", "pysqlite"):
            raise DatabaseUrlError(
                f"the SQLite driver {driver!r} is not installed; write sqlite:///PATH"
            )
        if rest and not rest.startswith("/"):
            raise DatabaseUrlError(
                f"'sqlite://{rest}' names a host; SQLite takes a file: sqlite:///relative/path.db "
                "or sqlite:////absolute/path.db (three or four slashes)"
            )
        text = f"sqlite://{rest}"
    elif backend in _KNOWN_OTHERS:
        raise DatabaseUrlError(
            f"{_KNOWN_OTHERS[backend]} is not supported; scancar runs on PostgreSQL or SQLite: "
            f"use {SUPPORTED}"
        )
    else:
        raise DatabaseUrlError(f"unknown database scheme {scheme!r}; use {SUPPORTED}")
    parsed = _parse(text)
    if parsed.drivername.startswith("postgresql") and not parsed.database:
        raise DatabaseUrlError(
            f"{display_url(parsed)} names no database; add it after the host, e.g. "
            "postgresql://scancar@db.example.nl:5432/scancar"
        )
    return parsed.render_as_string(hide_password=False)


def _parse(text: str) -> URL:
    try:
        return make_url(text)
    except (ArgumentError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "int()" in reason:
            reason = "the port is not a number"
        raise DatabaseUrlError(f"{_shown(text)!r} does not parse: {reason}") from None


def _shown(text: str) -> str:
    """``text`` with a password (``user:password@``) replaced by ``***``."""
    scheme, sep, rest = text.partition("://")
    if not sep:
        return text
    userinfo, at, host = rest.rpartition("@")
    if not at or ":" not in userinfo:
        return text
    user = userinfo.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"


def display_url(url: str | URL) -> str:
    """A URL for messages and logs: the password hidden."""
    if isinstance(url, URL):
        return url.render_as_string(hide_password=True)
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return _shown(url)


def describe_database_error(exc: BaseException, url: str | URL) -> str:
    """One line for a failed connection or statement: the database (password hidden) and the
    driver's own first line, with a hint for the usual causes."""
    return f"cannot use the database {display_url(url)}: {database_reason(exc)}"


def database_reason(exc: BaseException) -> str:
    """The driver's first line of a database error (no SQL, no parameters, no links), with a
    hint for the usual causes."""
    orig = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(orig).splitlines() if line.strip()]
    reason = lines[0] if lines else type(orig).__name__
    reason = reason.removeprefix("(psycopg.OperationalError) ")
    for needle, hint in _HINTS:
        if needle in reason.lower():
            return f"{reason} ({hint})"
    return reason


_HINTS = (
    ("connection refused", "is PostgreSQL running and listening on that host and port?"),
    ("does not exist", "create it first, see docs/deploy.md"),
    ("password authentication failed", "check the user and password in SCANCAR_DATABASE_URL"),
    ("no password supplied", "add the password to SCANCAR_DATABASE_URL"),
    ("could not translate host name", "the host name does not resolve"),
    ("name or service not known", "the host name does not resolve"),
    ("timeout expired", "the host does not answer; check the address and firewall"),
    ("unable to open database file", "the folder is missing or not writable"),
    ("permission denied", "the database user lacks a right; see docs/deploy.md"),
)
