"""``scancar serve`` warns when its workers could open more PostgreSQL connections than the
server accepts."""

from __future__ import annotations

import pytest

from api.db import budget_problem, connection_budget_problem


@pytest.mark.parametrize(
    ("workers", "pool_size", "check_pool_size", "fits"),
    [(1, 20, 8, True), (2, 20, 8, True), (2, 20, 9, False), (3, 12, 8, True), (3, 13, 8, False)],
)
def test_budget_against_postgresql_defaults(workers, pool_size, check_pool_size, fits):
    """PostgreSQL's defaults: max_connections 100, 3 reserved for superusers. The default
    settings (pool 20, rights-check pool 8) fit two workers."""
    problem = budget_problem(
        workers=workers,
        pool_size=pool_size,
        check_pool_size=check_pool_size,
        max_connections=100,
        reserved=3,
    )
    assert (problem is None) is fits
    if not fits:
        needed = workers * (2 * pool_size + check_pool_size)
        assert problem == (
            f"{workers} worker(s) may open up to {needed} PostgreSQL connections "
            f"({2 * pool_size + check_pool_size} each: {pool_size} pooled, {pool_size} more "
            f"in bursts, {check_pool_size} for the rights check), but the server accepts 97 "
            "(max_connections 100, 3 reserved): lower SCANCAR_DATABASE_POOL_SIZE / "
            "SCANCAR_RIGHTS_CHECK_POOL_SIZE or raise max_connections"
        )


def test_connection_budget_reads_the_servers_limits(engine, db_url, settings):
    assert settings.database_pool_size == 20  # the defaults the table above assumes
    assert settings.rights_check_pool_size == 8
    small = connection_budget_problem(engine, workers=1, pool_size=1, check_pool_size=1)
    huge = connection_budget_problem(engine, workers=100, pool_size=100, check_pool_size=8)
    assert small is None
    if db_url.startswith("sqlite"):
        assert huge is None  # no connection limit to break
        return
    with engine.connect() as conn:
        max_connections = conn.exec_driver_sql("SHOW max_connections").scalar_one()
    assert huge is not None
    assert f"(max_connections {max_connections}, " in huge
