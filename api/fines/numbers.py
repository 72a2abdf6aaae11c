"""Gapless fine numbers per year, taken in the caller's transaction."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlmodel import Session, col, select

from api.errors import Conflict
from api.fines.db import (
    FineNumberSequenceRow,
)


def next_fine_number(session: Session, year: int) -> int:
    """Take the next number of ``year`` in the caller's transaction (gapless: a rollback gives
    the number back). PostgreSQL: a row lock; SQLite: a conditional UPDATE (one writer)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            pg_insert(FineNumberSequenceRow)
            .values(year=year, last_number=0)
            .on_conflict_do_nothing(index_elements=["year"])
        )
        last = session.execute(
            select(FineNumberSequenceRow.last_number)
            .where(FineNumberSequenceRow.year == year)
            .with_for_update()
        ).scalar_one()
        session.execute(
            update(FineNumberSequenceRow)
            .where(col(FineNumberSequenceRow.year) == year)
            .values(last_number=last + 1)
        )
        return int(last) + 1
    for _ in range(100):
        last = session.execute(
            select(FineNumberSequenceRow.last_number).where(FineNumberSequenceRow.year == year)
        ).scalar_one_or_none()
        if last is None:
            session.add(FineNumberSequenceRow(year=year, last_number=0))
            session.flush()
            continue
        result = session.execute(
            update(FineNumberSequenceRow)
            .where(
                col(FineNumberSequenceRow.year) == year,
                col(FineNumberSequenceRow.last_number) == last,
            )
            .values(last_number=last + 1)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            return int(last) + 1
    raise Conflict("could not take a fine number; retry", code="number_busy")
