"""Schema migrations (Alembic) driven from code: ``scancar db upgrade`` and ``scancar serve``."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return cfg


def upgrade(engine: Engine, revision: str = "heads") -> None:
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def downgrade(engine: Engine, revision: str) -> None:
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        heads = MigrationContext.configure(conn).get_current_heads()
    return ",".join(sorted(heads)) or None


def head_revision(engine: Engine) -> str | None:
    heads = ScriptDirectory.from_config(alembic_config(engine)).get_heads()
    return ",".join(sorted(heads)) or None


def is_empty(engine: Engine) -> bool:
    return not inspect(engine).get_table_names()


def is_up_to_date(engine: Engine) -> bool:
    return current_revision(engine) == head_revision(engine)


def drift(engine: Engine) -> list[object]:
    """Differences between the SQLModel tables and the migrated database (empty = none)."""
    from api.tables import metadata

    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(ctx, metadata))


def ensure_ready(engine: Engine, *, migrate_empty: bool = True) -> bool:
    """Check that the database answers and is at the code's migration head.

    An empty database is migrated when ``migrate_empty`` (as ``scancar serve`` does); returns
    whether it was. Otherwise ``DatabaseNotReady`` with one line: unreachable (the driver's
    reason, password hidden), not migrated (run ``scancar db upgrade``), or migrated by a newer
    scancar than this one.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from api.dburl import DatabaseNotReady, describe_database_error

    try:
        if is_empty(engine):
            if not migrate_empty:
                raise DatabaseNotReady("database not migrated: run scancar db upgrade")
            upgrade(engine)
            return True
        current, head = current_revision(engine), head_revision(engine)
    except SQLAlchemyError as exc:
        raise DatabaseNotReady(describe_database_error(exc, engine.url)) from None
    if current == head:
        return False
    known = {rev.revision for rev in _scripts(engine).walk_revisions()}
    if current and not set(current.split(",")) <= known:
        raise DatabaseNotReady(
            f"the database is at migration {current}, which this scancar does not know "
            f"(its newest is {head}): a newer scancar migrated it; upgrade scancar"
        )
    raise DatabaseNotReady(
        f"database not migrated: run scancar db upgrade (it is at {current or 'none'}, "
        f"the code needs {head})"
    )


def _scripts(engine: Engine) -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config(engine))


def describe_drift(diffs: list[object]) -> list[str]:
    """Alembic's comparison results as one readable line each (not reprs of tables)."""
    return [_describe(diff) for diff in diffs]


def _describe(diff: object) -> str:
    if isinstance(diff, list):  # column modifications come as lists of tuples
        return "; ".join(_describe(d) for d in diff)
    if not isinstance(diff, tuple) or not diff:
        return str(diff)[:200]
    kind, *args = diff
    names = {
        "add_table": "table {0} is in the models but not in the database",
        "remove_table": "table {0} is in the database but not in the models",
        "add_index": "index {0} is missing in the database",
        "remove_index": "index {0} is in the database but not in the models",
        "add_constraint": "constraint {0} is missing in the database",
        "remove_constraint": "constraint {0} is in the database but not in the models",
        "add_fk": "foreign key on {0} is missing in the database",
        "remove_fk": "foreign key on {0} is in the database but not in the models",
    }
    if kind in names:
        return names[kind].format(_name(args[0]))
    if kind in ("add_column", "remove_column"):
        where = "missing in the database" if kind == "add_column" else "not in the models"
        return f"column {args[1]}.{getattr(args[2], 'name', args[2])} is {where}"
    if kind.startswith("modify_"):
        _schema, table, column, _existing, old, new = args
        what = kind.removeprefix("modify_")
        return f"column {table}.{column}: {what} is {old} in the database, {new} in the models"
    return f"{kind}: {', '.join(_name(a) for a in args)}"[:200]


def _name(obj: object) -> str:
    name = getattr(obj, "name", None)
    table = getattr(getattr(obj, "table", None), "name", None)
    if name and table:
        return f"{table}.{name}"
    return str(name or obj)[:100]
