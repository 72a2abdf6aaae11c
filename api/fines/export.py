"""Export batches of issued fines (idempotent per period) and reading a batch back.

Making a batch is set-based SQL in one transaction: one ``INSERT ... SELECT`` puts the
period's fines waiting for an export (``fine_export_pending``) into the batch
(``fine_export_items``: fine, batch and the status at export; no id list, whatever the count;
the fines' wide rows are not touched), one ``DELETE`` takes them off the waiting list, the
batch's totals come from one ``SELECT`` over it. A fine's history shows its export from that row
(``api.fines.queries.history``). Reading a batch goes in chunks (keyset on the fine id), so a
batch of any size is written out in bounded memory.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, func, insert, literal
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from api.audit.service import record
from api.auth.principal import Principal
from api.db import utcnow
from api.errors import Conflict, NotFound
from api.fines.db import ExportBatchRow, FineExportItemRow, FineExportPendingRow, FineRow
from api.fines.rules import FineStatus
from zones import FineTrack

EXPORT_EXCLUDED = (FineStatus.DRAFT.value, FineStatus.ANNULLED.value)
MAX_BATCHES_NAMED = 10


@dataclass(frozen=True, slots=True)
class ExportResult:
    """A batch (None: the period holds no exportable fines) and whether this call made it.
    Its fines: ``batch_fine_chunks``."""

    batch: ExportBatchRow | None
    created: bool


def _period(
    on: type[FineRow] | type[FineExportPendingRow],
    track: FineTrack,
    period_from: datetime | None,
    period_to: datetime | None,
) -> list[Any]:
    """The exportable fines of ``track`` issued in [from, to), the period on the columns of
    ``on``: the fines, or the export's waiting list (its index (track, issued_at); it holds
    only numbered fines). For the waiting list nothing is put on the fines' columns but their
    status, so each fine is found by its key: with the period on both, PostgreSQL without
    statistics joined the two period scans in a loop (66,000 x 66,000)."""
    conds: list[Any] = [
        col(on.track) == track.value,
        col(FineRow.status).not_in(EXPORT_EXCLUDED),
    ]
    if on is FineRow:
        conds.append(col(FineRow.number).is_not(None))
    if period_from is not None:
        conds.append(col(on.issued_at) >= period_from)
    if period_to is not None:
        conds.append(col(on.issued_at) < period_to)
    return conds


def export_batch(
    session: Session,
    actor: Principal,
    *,
    track: FineTrack,
    period_from: datetime | None,
    period_to: datetime | None,
    now: datetime | None = None,
) -> ExportResult:
    """Export the issued fines of ``track`` (issued in [from, to)) that no batch holds yet.

    Idempotent: when every fine of the period is already in one batch, that batch is returned
    again; new fines go into a new batch; a period spanning several old batches is refused
    (fetch those by ``batch_id``).
    """
    now = now or utcnow()
    conds = _period(FineRow, track, period_from, period_to)
    batch = ExportBatchRow(
        id=str(uuid.uuid4()),
        track=track.value,
        created_at=now,
        created_by=actor.name,
        period_from=period_from,
        period_to=period_to,
    )
    session.add(batch)
    session.flush()
    _mark(session, batch.id, _period(FineExportPendingRow, track, period_from, period_to))
    count, total = session.execute(
        select(func.count(), func.coalesce(func.sum(FineRow.amount_cents), 0))
        .select_from(FineExportItemRow)
        .join(FineRow, col(FineRow.id) == FineExportItemRow.fine_id)
        .where(FineExportItemRow.batch_id == batch.id)
    ).one()
    if not count:
        session.rollback()  # nothing new (or another process took it all meanwhile)
        return _earlier_batch(session, conds)
    batch.fine_count, batch.total_cents = int(count), int(total)
    session.add(batch)
    record(
        session,
        actor,
        "fine.exported",
        "fine_export_batch",
        batch.id,
        f"track={track.value} fines={batch.fine_count} total_cents={batch.total_cents}",
    )
    session.commit()
    return ExportResult(batch, True)


def _mark(session: Session, batch_id: str, conds: list[Any]) -> None:
    """Put the period's fines waiting for an export (``fine_export_pending``) into ``batch_id``
    and take them off the waiting list: one ``INSERT ... SELECT`` of narrow rows and one
    ``DELETE``, no id list, whatever the count. A fine another export took meanwhile is skipped
    (its key is taken), so two exports at once never share a fine."""
    dialect = session.get_bind().dialect.name
    new_items = (
        select(FineRow.id, literal(batch_id), FineRow.status)
        .select_from(FineExportPendingRow)
        .join(FineRow, col(FineExportPendingRow.fine_id) == col(FineRow.id))
        .where(*conds)
    )
    columns = ["fine_id", "batch_id", "status"]
    stmt: Any
    if dialect == "postgresql":
        stmt = pg_insert(FineExportItemRow).from_select(columns, new_items)
        stmt = stmt.on_conflict_do_nothing(index_elements=["fine_id"])
    elif dialect == "sqlite":
        stmt = sqlite_insert(FineExportItemRow).from_select(columns, new_items)
        stmt = stmt.on_conflict_do_nothing(index_elements=["fine_id"])
    else:
        stmt = insert(FineExportItemRow).from_select(columns, new_items)
    session.execute(stmt)
    in_batch = select(FineExportItemRow.fine_id).where(FineExportItemRow.batch_id == batch_id)
    session.execute(
        delete(FineExportPendingRow).where(col(FineExportPendingRow.fine_id).in_(in_batch))
    )


def _earlier_batch(session: Session, conds: list[Any]) -> ExportResult:
    old = sorted(
        b
        for b in session.exec(
            select(FineExportItemRow.batch_id)
            .join(FineRow, col(FineRow.id) == FineExportItemRow.fine_id)
            .where(*conds)
            .distinct()
            .limit(MAX_BATCHES_NAMED + 1)
        ).all()
        if b
    )
    if not old:
        return ExportResult(None, False)
    if len(old) > 1:
        more = len(old) > MAX_BATCHES_NAMED
        shown = ", ".join(old[:MAX_BATCHES_NAMED]) + (", ..." if more else "")
        many = f"more than {MAX_BATCHES_NAMED}" if more else str(len(old))
        raise Conflict(
            f"the fines of this period were exported in {many} batches ({shown}); "
            "fetch each with ?batch_id=",
            code="several_batches",
        )
    return ExportResult(session.get(ExportBatchRow, old[0]), False)


def get_batch(session: Session, batch_id: str) -> ExportResult:
    batch = session.get(ExportBatchRow, batch_id)
    if batch is None:
        raise NotFound(f"no export batch {batch_id}")
    return ExportResult(batch, False)


# what an export record holds (``api.fines.exportfile.export_record``): read as plain rows, not
# as ORM objects with every column (the fine's calculation and evidence JSON among them)
EXPORT_COLUMNS: tuple[Any, ...] = (
    FineRow.id,
    FineRow.number,
    FineRow.track,
    FineRow.status,
    FineRow.plate,
    FineRow.offence_at,
    FineRow.zone_id,
    FineRow.offence_code,
    FineRow.amount_cents,
    FineRow.paid_cents,
    FineRow.issued_at,
    FineRow.objection_deadline,
    FineRow.hit_id,
)


def batch_fine_chunks(session: Session, batch_id: str, chunk: int) -> Iterator[list[Row[Any]]]:
    """The fines of a batch in id order (``EXPORT_COLUMNS``, by attribute as on a fine), read
    ``chunk`` at a time (keyset on the fine id over the index of ``fine_export_items``
    (batch_id, fine_id)), one list per chunk."""
    after = 0
    while True:
        # the chunk's ids first (LIMIT in a subquery), then their fines by key: a join with the
        # keyset on it let PostgreSQL walk every fine from the start for each chunk
        ids = (
            select(FineExportItemRow.fine_id)
            .where(FineExportItemRow.batch_id == batch_id, FineExportItemRow.fine_id > after)
            .order_by(col(FineExportItemRow.fine_id))
            .limit(chunk)
        )
        rows = session.execute(
            sa_select(*EXPORT_COLUMNS).where(col(FineRow.id).in_(ids)).order_by(col(FineRow.id))
        ).all()
        if not rows:
            return
        after = rows[-1].id
        yield list(rows)
