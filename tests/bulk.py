"""Helpers for fixtures generated in SQL (tens of thousands of rows in a second)."""

from __future__ import annotations

from sqlalchemy.engine import Engine


def series(engine: Engine, n: int) -> tuple[str, str]:
    """(WITH prefix, FROM clause) that give integers ``i`` = 1..n on either database."""
    if engine.dialect.name == "postgresql":
        return "", f"generate_series(1, {n}) AS s(i)"
    return f"WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n}) ", "s"  # noqa: S608


def false(engine: Engine) -> str:
    return "FALSE" if engine.dialect.name == "postgresql" else "0"


def rnd(k: int) -> str:
    """A number in [0, 1) from ``i`` (stream ``k`` of three): the same on both databases."""
    a = (2_654_435_761, 2_246_822_519, 3_266_489_917)[k]
    return f"((i * {a} + {7_919 * (k + 1)}) % 1000003 * 1.0 / 1000003)"
