"""Counts for paginated lists that stay cheap at any table size.

A list page says how many rows match its filter. Counting every match costs as much as
reading them (1.7 million audit rows for "target_type=hit"), so the count stops at
``COUNT_CAP``: below it the count is exact, above it the answer is "more than COUNT_CAP"
(``exact`` False), as the big list APIs do. Counting up to the cap reads at most that many
index entries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, literal, select
from sqlmodel import Session

COUNT_CAP = 10_000


@dataclass(frozen=True, slots=True)
class Count:
    value: int  # exact when ``exact``, else the cap (there are more)
    exact: bool

    def __str__(self) -> str:
        return f"{self.value:,}".replace(",", ".") + ("" if self.exact else "+")


def bounded_count(session: Session, stmt: Any, cap: int = COUNT_CAP) -> Count:
    """The number of rows ``stmt`` (a SELECT with its filters) returns, counted up to ``cap``."""
    ones = stmt.with_only_columns(literal(1), maintain_column_froms=True)
    sub = ones.order_by(None).limit(cap + 1).subquery()
    n = int(session.execute(select(func.count()).select_from(sub)).scalar_one())
    return Count(min(n, cap), n <= cap)
