# ruff: noqa: S608 - statements built from this module's constants only, no outside input
"""Recompute the report aggregates (``api.reports.db``) from hits, fines and heartbeats.

The triggers of migration 0460 keep the aggregates current; ``rebuild`` is for a database
loaded with triggers off (the bench's bulk load), restored from parts, or changed by hand.
It replaces the four tables in one transaction and, on PostgreSQL, holds off writers to the
source tables meanwhile (``LOCK ... IN SHARE MODE``), so no increment is lost or counted twice.

Local days need the Europe/Amsterdam offset in SQL: PostgreSQL has ``AT TIME ZONE``; SQLite has
no time-zone data, so ``local_time_sql`` applies the EU summer-time rule (from 01:00 UTC on the
last Sunday of March to 01:00 UTC on the last Sunday of October, +2 h, else +1 h), the rule
Europe/Amsterdam follows since 1996 (a test checks it against zoneinfo hour by hour).
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

LOCAL_ZONE = "Europe/Amsterdam"
COUNTERS = ("reads", "checks", "suspects")
TABLES = ("report_hits_daily", "report_hits_hourly", "report_fines_daily", "report_scans_daily")


def local_time_sql(dialect: str, column: str) -> str:
    """The local (Europe/Amsterdam) wall-clock time of a UTC time column, as SQL."""
    if dialect == "postgresql":
        return f"({column} AT TIME ZONE '{LOCAL_ZONE}')"
    s = f"substr({column}, 1, 19)"  # seconds only: date() would round .9995 s up
    summer = (
        f"{s} >= date(substr({s}, 1, 4) || '-03-25', 'weekday 0') || ' 01:00:00' AND "
        f"{s} < date(substr({s}, 1, 4) || '-10-25', 'weekday 0') || ' 01:00:00'"
    )
    return f"datetime({s}, CASE WHEN {summer} THEN '+2 hours' ELSE '+1 hours' END)"


def local_day_sql(dialect: str, column: str) -> str:
    if dialect == "postgresql":
        return f"CAST({local_time_sql(dialect, column)} AS DATE)"
    return f"date({local_time_sql(dialect, column)})"


def local_hour_sql(dialect: str, column: str) -> str:
    if dialect == "postgresql":
        return f"CAST(EXTRACT(HOUR FROM {local_time_sql(dialect, column)}) AS INTEGER)"
    return f"CAST(strftime('%H', {local_time_sql(dialect, column)}) AS INTEGER)"


def seconds_sql(dialect: str, later: str, earlier: str) -> str:
    if dialect == "postgresql":
        return f"EXTRACT(EPOCH FROM {later} - {earlier})"
    return f"((julianday({later}) - julianday({earlier})) * 86400.0)"


def counter_sql(dialect: str, column: str, key: str) -> str:
    """One counter of a heartbeat's JSON ``counts`` as an integer (0 when absent)."""
    if dialect == "postgresql":
        return f"COALESCE(CAST({column} ->> '{key}' AS BIGINT), 0)"
    return f"COALESCE(CAST(json_extract({column}, '$.{key}') AS INTEGER), 0)"


def rebuild_statements(dialect: str) -> list[str]:
    """DELETE and INSERT ... SELECT statements that recompute every aggregate (built from
    this module's constants only)."""
    d = dialect

    def day(column: str) -> str:
        return local_day_sql(d, column)

    increments = ", ".join(
        f"SUM(CASE WHEN p_{k} IS NULL OR c_{k} < p_{k} THEN c_{k} ELSE c_{k} - p_{k} END)"
        for k in COUNTERS
    )
    current = ", ".join(f"{counter_sql(d, 'counts', k)} AS c_{k}" for k in COUNTERS)
    previous = ", ".join(f"LAG(c_{k}) OVER w AS p_{k}" for k in COUNTERS)
    return [
        *(f"DELETE FROM {t}" for t in TABLES),
        "INSERT INTO report_hits_daily (day, zone_id, status, reject_reason, hits, decided, "
        "decision_seconds) SELECT day, zone_id, status, reason, COUNT(*), COUNT(decided_at), "
        "COALESCE(SUM(secs), 0) FROM ("
        f"SELECT {day('captured_at')} AS day, COALESCE(zone_id, '') AS zone_id, status, "
        "COALESCE(reject_reason, '') AS reason, decided_at, "
        f"CASE WHEN decided_at IS NOT NULL THEN {seconds_sql(d, 'decided_at', 'captured_at')} "
        "END AS secs FROM hits) AS h GROUP BY day, zone_id, status, reason",
        "INSERT INTO report_hits_hourly (day, hour, hits) SELECT day, hour, COUNT(*) FROM ("
        f"SELECT {day('captured_at')} AS day, {local_hour_sql(d, 'captured_at')} AS hour "
        "FROM hits) AS h GROUP BY day, hour",
        "INSERT INTO report_fines_daily (day, zone_id, track, status, fines, issued, "
        "amount_issued_cents, paid_cents) SELECT day, zone_id, track, status, COUNT(*), "
        "COUNT(issued_at), COALESCE(SUM(CASE WHEN issued_at IS NOT NULL THEN amount_cents END), "
        "0), COALESCE(SUM(paid_cents), 0) FROM ("
        f"SELECT {day('offence_at')} AS day, COALESCE(zone_id, '') AS zone_id, track, status, "
        "issued_at, amount_cents, paid_cents FROM fines) AS f "
        "GROUP BY day, zone_id, track, status",
        "INSERT INTO report_scans_daily (day, device_id, reads, checks, suspects) "
        f"SELECT day, device_id, {increments} FROM ("
        f"SELECT day, device_id, {', '.join(f'c_{k}' for k in COUNTERS)}, {previous} FROM ("
        f"SELECT id, device_id, run_id, {day('sent_at')} AS day, {current} FROM heartbeats"
        ") AS h WINDOW w AS (PARTITION BY device_id, run_id ORDER BY id)) AS i "
        "GROUP BY day, device_id",
    ]


def rebuild_on(conn: Connection) -> None:
    """``rebuild`` in the caller's transaction."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        conn.execute(text("LOCK TABLE hits, fines, heartbeats IN SHARE MODE"))
    for statement in rebuild_statements(dialect):
        conn.execute(text(statement))


def rebuild(engine: Engine) -> None:
    """Recompute every report aggregate from the source tables (one transaction), then give the
    planner statistics of the new contents (until autovacuum's next analyze it would plan the
    year's 60,000 rows of a large city as a few dozen: an on-disk sort instead of a hash)."""
    with engine.begin() as conn:
        rebuild_on(conn)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in TABLES:
            conn.execute(text(f"ANALYZE {table}"))
