"""Migrations on both databases: up, drift against the models, down and up again; UTC times."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from api import migrate
from api.audit.db import AuditRow


def test_migrations_models_and_schema_agree(engine):
    assert migrate.is_up_to_date(engine)
    assert migrate.drift(engine) == []


def test_migrations_down_to_base_and_up_again(engine):
    migrate.downgrade(engine, "base")
    assert migrate.current_revision(engine) is None
    assert migrate.is_empty(engine) or set(
        __import__("sqlalchemy").inspect(engine).get_table_names()
    ) <= {"alembic_version"}
    migrate.upgrade(engine)
    assert migrate.is_up_to_date(engine)
    assert migrate.drift(engine) == []


def test_migrations_drift_is_detected(engine):
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE users ADD COLUMN nickname VARCHAR(20)"))
    diffs = migrate.drift(engine)
    assert any("nickname" in str(d) for d in diffs)


def test_time_columns_come_back_aware_utc(engine):
    amsterdam = timezone(timedelta(hours=1))
    t = datetime(2026, 3, 29, 2, 30, tzinfo=amsterdam)
    with Session(engine) as s:
        s.add(
            AuditRow(
                at=t,
                actor_type="system",
                actor_name="t",
                action="x",
                target_type="t",
                target_id="1",
            )
        )
        s.commit()
    with Session(engine) as s:
        row = s.exec(select(AuditRow)).one()
        assert row.at.utcoffset() == timedelta(0)
        assert row.at == t
        assert row.at.hour == 1


def test_naive_time_is_refused(engine):
    with Session(engine) as s:
        s.add(
            AuditRow(
                at=datetime(2026, 1, 1, 12, 0),  # noqa: DTZ001
                actor_type="system",
                actor_name="t",
                action="x",
                target_type="t",
                target_id="1",
            )
        )
        with pytest.raises(Exception, match="naive datetime"):
            s.commit()


def test_audit_log_is_append_only(engine):
    from datetime import UTC

    with Session(engine) as s:
        s.add(
            AuditRow(
                at=datetime.now(UTC),
                actor_type="system",
                actor_name="t",
                action="x",
                target_type="t",
                target_id="1",
            )
        )
        s.commit()
    for stmt in ("UPDATE audit_log SET detail = 'changed'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(stmt))
    with Session(engine) as s:
        assert s.exec(select(AuditRow.detail)).all() == [""]
