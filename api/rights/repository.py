"""``SqlRightsRepository``: the SQL store of rights, implementing ``permits.ports.RightsRepository``
and ``RightsFeedSource`` like the reference ``permits.memory.InMemoryRightsRepository``.

Writes (``put_permit``, ``put_paid_session``, ``put_visitor_session``) keep ``RightRow`` equal to
what the permit or session now gives and append one ``RightChangeRow`` per actual change, in the
caller's transaction. Call ``lock_rights`` first thing in every transaction that writes rights:
it serialises writers so that the change-log sequence is also the commit order.

Cursors are ``<log id>.<seq>``: the log id is random per database (``rights_feed_lock``), so a
cursor from another deployment, or from before the log was rebuilt, is refused (410).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, func, insert, or_, select, update
from sqlmodel import Session

from api.rights.db import RightChangeRow, RightRow, RightsFeedLockRow
from permits.errors import FeedError
from permits.model import (
    ChangeBatch,
    ChangeOp,
    PaidSession,
    Permit,
    PermitType,
    Right,
    RightChange,
    RightKind,
    RightsSnapshotData,
    VisitorSession,
    right_from_paid_session,
    right_from_visitor_session,
    rights_from_permit,
)

AREA_SEPARATOR = ";"
_R = RightRow.__table__.c  # type: ignore[attr-defined]
_C = RightChangeRow.__table__.c  # type: ignore[attr-defined]
_L = RightsFeedLockRow.__table__.c  # type: ignore[attr-defined]
RIGHT_COLUMNS = (_R.id, _R.kind, _R.plate, _R.area_codes, _R.start, _R.end, _R.permit_type)


def join_areas(area_codes: Collection[str]) -> str:
    return AREA_SEPARATOR.join(sorted(area_codes))


def split_areas(text: str | None) -> frozenset[str]:
    return frozenset(code for code in (text or "").split(AREA_SEPARATOR) if code)


def right_from_values(
    right_id: str,
    kind: str,
    plate: str,
    area_codes: str | None,
    start: datetime,
    end: datetime | None,
    permit_type: str | None,
) -> Right:
    return Right(
        id=right_id,
        kind=RightKind(kind),
        plate_key=plate,
        area_codes=split_areas(area_codes),
        start=start,
        end=end,
        permit_type=PermitType(permit_type) if permit_type else None,
    )


def _values(right: Right, source: str) -> dict[str, Any]:
    return {
        "id": right.id,
        "kind": right.kind.value,
        "plate": right.plate_key,
        "area_codes": join_areas(right.area_codes),
        "start": right.start,
        "end": right.end,
        "permit_type": right.permit_type.value if right.permit_type else None,
        "source": source,
    }


def lock_rights(session: Session) -> str:
    """Take the rights write lock for this transaction (row lock on PostgreSQL, the write lock
    on SQLite) and return the change log's id. Call before reading what you will change."""
    bind = session.connection()
    if bind.execute(update(RightsFeedLockRow).where(_L.id == 1).values(id=1)).rowcount == 0:
        bind.execute(insert(RightsFeedLockRow).values(id=1, log_id=uuid.uuid4().hex[:12]))
    return str(bind.execute(select(_L.log_id).where(_L.id == 1)).scalar_one())


def _log_id(conn: Connection) -> str | None:
    value = conn.execute(select(_L.log_id).where(_L.id == 1)).scalar()
    return None if value is None else str(value)


@dataclass(frozen=True, slots=True)
class SnapshotHead:
    """The cursor and window of a snapshot read, before its rights are streamed."""

    cursor: str
    start: datetime
    end: datetime


def _overlap(start: datetime, end: datetime) -> Any:
    return and_(_R.start <= end, or_(_R.end.is_(None), _R.end >= start))


class SqlRightsRepository:
    """Rights in SQL, for one session (one transaction)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # --- writes -------------------------------------------------------------------------
    def upsert_right(self, right: Right, source: str) -> bool:
        """Add or replace a right; returns False (and logs nothing) when nothing changed."""
        conn = self.session.connection()
        row = conn.execute(select(*RIGHT_COLUMNS).where(_R.id == right.id)).first()
        if row is not None and right_from_values(*row) == right:
            return False
        values = _values(right, source)
        if row is None:
            conn.execute(insert(RightRow).values(**values))
        else:
            conn.execute(update(RightRow).where(_R.id == right.id).values(**values))
        conn.execute(
            insert(RightChangeRow).values(
                op=ChangeOp.UPSERT.value,
                right_id=right.id,
                **{k: v for k, v in values.items() if k not in ("id", "source")},
            )
        )
        return True

    def remove_right(self, right_id: str) -> bool:
        conn = self.session.connection()
        if conn.execute(delete(RightRow).where(_R.id == right_id)).rowcount == 0:
            return False
        conn.execute(insert(RightChangeRow).values(op=ChangeOp.REMOVE.value, right_id=right_id))
        return True

    def _put_source(self, source: str, rights: Sequence[Right]) -> None:
        conn = self.session.connection()
        existing = set(conn.execute(select(_R.id).where(_R.source == source)).scalars())
        wanted = {r.id for r in rights}
        for right_id in sorted(existing - wanted):
            self.remove_right(right_id)
        for right in rights:
            self.upsert_right(right, source)

    def put_permit(self, permit: Permit) -> None:
        """Make the stored rights of ``permit`` equal to what its current state gives."""
        self._put_source(f"permit:{permit.id}", rights_from_permit(permit))

    def put_paid_session(self, session: PaidSession) -> None:
        self._put_source(session.right_id, (right_from_paid_session(session),))

    def put_visitor_session(self, session: VisitorSession) -> None:
        self._put_source(session.right_id, (right_from_visitor_session(session),))

    # --- RightsRepository ---------------------------------------------------------------
    def rights_for_plates(
        self, plate_keys: Collection[str], area_code: str, start: datetime, end: datetime
    ) -> Sequence[Right]:
        """Rights of the plates overlapping ``[start, end]``; the area is filtered in Python."""
        rights = fetch_rights(self.session.connection(), list(plate_keys), start, end)
        return [r for r in rights if r.covers_area(area_code)]

    # --- RightsFeedSource ---------------------------------------------------------------
    def snapshot(self, start: datetime, end: datetime) -> RightsSnapshotData:
        """Every right valid in ``[start, end]`` and its cursor (all in memory: use
        ``stream_snapshot`` for big stores)."""
        head, chunks = stream_snapshot(self.session.connection(), start, end, chunk_size=10_000)
        rights = tuple(r for chunk in chunks for r in chunk)
        return RightsSnapshotData(rights=rights, cursor=head.cursor, start=start, end=end)

    def changes_since(self, cursor: str, limit: int) -> ChangeBatch:
        if limit < 1:
            raise FeedError(f"limit must be 1 or more; got {limit}")
        conn = self.session.connection()
        log_id = _log_id(conn) or "empty"
        since = parse_cursor(cursor, log_id)
        last = _max_seq(conn)
        if since > last:
            raise FeedError(
                f"unknown cursor {cursor!r}: this feed is at {log_id}.{last}; take a new snapshot"
            )
        rows = conn.execute(
            select(
                _C.seq,
                _C.op,
                _C.right_id,
                _C.kind,
                _C.plate,
                _C.area_codes,
                _C.start,
                _C.end,
                _C.permit_type,
            )
            .where(_C.seq > since)
            .order_by(_C.seq)
            .limit(limit + 1)
        ).all()
        has_more = len(rows) > limit
        rows = rows[:limit]
        changes = []
        for seq, op, right_id, kind, plate, areas, start, end, permit_type in rows:
            del seq
            if op == ChangeOp.REMOVE.value:
                changes.append(RightChange(ChangeOp.REMOVE, right_id))
            else:
                right = right_from_values(right_id, kind, plate, areas, start, end, permit_type)
                changes.append(RightChange(ChangeOp.UPSERT, right_id, right))
        new_seq = rows[-1][0] if rows else since
        return ChangeBatch(tuple(changes), f"{log_id}.{new_seq}", has_more)


_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"  # how ``UTCDateTime`` stores times on SQLite


def sqlite_time(value: datetime) -> str:
    """A time as ``UTCDateTime`` stores it on SQLite (for driver SQL)."""
    return value.astimezone(UTC).strftime(_SQLITE_TIME)


def _from_sqlite(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value).replace(tzinfo=UTC)


def _from_pg(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


# the columns ``rights_from_rows`` reads, in its order
RIGHT_SELECT = ("id", "kind", "plate", "area_codes", "start", '"end"', "permit_type")


def rights_condition(
    dialect_name: str, plates: Sequence[str], start: datetime, end: datetime, *, table: str
) -> tuple[str, tuple[Any, ...]]:
    """Driver SQL condition and parameters: rows of ``table`` (a name or alias of ``rights``)
    for ``plates`` overlapping ``[start, end]`` (``?`` for SQLite, ``%s`` for psycopg; values
    are bound, never formatted in). The plate index makes it one index scan per plate."""
    sqlite = dialect_name == "sqlite"
    mark = "?" if sqlite else "%s"
    placeholders = ", ".join([mark] * len(plates))
    sql = (
        f"{table}.plate IN ({placeholders}) AND {table}.start <= {mark} "
        f'AND ({table}."end" IS NULL OR {table}."end" >= {mark})'
    )
    if sqlite:
        return sql, (*plates, sqlite_time(end), sqlite_time(start))
    return sql, (*plates, end, start)


def rights_statement(
    dialect_name: str, plates: Sequence[str], start: datetime, end: datetime
) -> tuple[str, tuple[Any, ...]]:
    """Driver SQL and parameters for the rights of ``plates`` overlapping ``[start, end]``,
    columns as ``rights_from_rows`` reads them."""
    condition, params = rights_condition(dialect_name, plates, start, end, table="rights")
    return f"SELECT {', '.join(RIGHT_SELECT)} FROM rights WHERE {condition}", params  # noqa: S608


def rights_from_rows(dialect_name: str, rows: Iterable[Sequence[Any]]) -> list[Right]:
    """``Right``s from rows of ``rights_statement``, times converted as ``UTCDateTime`` does."""
    convert = _from_sqlite if dialect_name == "sqlite" else _from_pg
    return [
        right_from_values(i, k, p, a, convert(s), convert(e), t)  # type: ignore[arg-type]
        for i, k, p, a, s, e, t in rows
    ]


def fetch_rights(
    conn: Connection, plates: Sequence[str], start: datetime, end: datetime
) -> list[Right]:
    """Rights of ``plates`` overlapping ``[start, end]`` through a SQLAlchemy connection
    (plain driver SQL: no statement compilation per call)."""
    if not plates:
        return []
    name = conn.dialect.name
    sql, params = rights_statement(name, plates, start, end)
    return rights_from_rows(name, conn.exec_driver_sql(sql, params).all())


def _max_seq(conn: Connection) -> int:
    return int(conn.execute(select(func.coalesce(func.max(_C.seq), 0))).scalar_one())


def parse_cursor(cursor: str, log_id: str) -> int:
    """The sequence number of ``cursor``; ``FeedError`` for a cursor of another log."""
    found_log, _, seq_text = cursor.rpartition(".")
    if found_log != log_id or not seq_text.isdigit():
        raise FeedError(
            f"unknown cursor {cursor!r}; allowed: a cursor this feed returned "
            f"(<{log_id}>.<n>); take a new snapshot"
        )
    return int(seq_text)


def begin_consistent_read(conn: Connection) -> None:
    """Make the following reads on ``conn`` one consistent view (REPEATABLE READ on
    PostgreSQL, one read transaction on SQLite). Call on a fresh connection."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN")
    else:
        conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")


def stream_snapshot(
    conn: Connection, start: datetime, end: datetime, *, chunk_size: int
) -> tuple[SnapshotHead, Iterator[list[Right]]]:
    """The snapshot's cursor, and its rights (ordered by id) in chunks, from one consistent read.

    The caller runs this inside one transaction (see ``begin_consistent_read``); the rights are
    fetched with a server-side cursor so they never all sit in memory.
    """
    log_id = _log_id(conn) or "empty"
    head = SnapshotHead(cursor=f"{log_id}.{_max_seq(conn)}", start=start, end=end)

    def chunks() -> Iterator[list[Right]]:
        result = conn.execute(
            select(*RIGHT_COLUMNS)
            .where(_overlap(start, end))
            .order_by(_R.id)
            .execution_options(stream_results=True, yield_per=chunk_size)
        )
        for part in result.partitions(chunk_size):
            yield [right_from_values(*row) for row in part]

    return head, chunks()
