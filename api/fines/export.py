"""Export batches of issued fines (idempotent per period) and reading a batch back.

Making a batch is set-based SQL in one transaction: one conditional ``UPDATE`` marks the
period's unexported fines with the batch (no id list, whatever the count), the batch's totals
and one history row per fine come from ``SELECT``/``INSERT ... SELECT`` over the batch. Reading
a batch goes in chunks (keyset on the id), so a batch of any size is written out in bounded
memory.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, insert, literal, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from api.audit.service import record
from api.auth.principal import Principal
from api.db import UTCDateTime, utcnow
from api.errors import Conflict, NotFound
from api.fines.db import ExportBatchRow, FineEventRow, FineRow
from api.fines.rules import FineStatus
from zones import FineTrack

EXPORT_EXCLUDED = (FineStatus.DRAFT.value, FineStatus.ANNULLED.value)
MAX_BATCHES_NAMED = 10


@dataclass(frozen=True, slots=True)
class ExportResult:
    """A batch (None: the period holds no exportable fines) and whether this call made it.
    Its fines: ``batch_fines``."""

    batch: ExportBatchRow | None
    created: bool


def _period(
    track: FineTrack, period_from: datetime | None, period_to: datetime | None
) -> list[Any]:
    conds: list[Any] = [
        FineRow.track == track.value,
        col(FineRow.number).is_not(None),
        col(FineRow.status).not_in(EXPORT_EXCLUDED),
    ]
    if period_from is not None:
        conds.append(col(FineRow.issued_at) >= period_from)
    if period_to is not None:
        conds.append(col(FineRow.issued_at) < period_to)
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
    conds = _period(track, period_from, period_to)
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
    marked = session.execute(
        update(FineRow)
        .execution_options(synchronize_session=False)
        .where(*conds, col(FineRow.export_batch_id).is_(None))
        .values(export_batch_id=batch.id, exported_at=now)
    )
    if not marked.rowcount:  # type: ignore[attr-defined]
        session.rollback()  # nothing new (or another process took it all meanwhile)
        return _earlier_batch(session, conds)
    in_batch = FineRow.export_batch_id == batch.id
    count, total = session.execute(
        select(func.count(), func.coalesce(func.sum(FineRow.amount_cents), 0)).where(in_batch)
    ).one()
    batch.fine_count, batch.total_cents = int(count), int(total)
    session.add(batch)
    _history(session, actor, batch.id, now)
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


def _history(session: Session, actor: Principal, batch_id: str, now: datetime) -> None:
    """One 'export' history row per fine of the batch, in one INSERT ... SELECT."""
    session.execute(
        insert(FineEventRow).from_select(
            [
                "fine_id",
                "at",
                "actor_type",
                "actor_id",
                "actor_name",
                "action",
                "from_status",
                "to_status",
                "detail",
            ],
            select(
                FineRow.id,
                literal(now, UTCDateTime()),
                literal(actor.kind),
                literal(actor.id),
                literal(actor.name),
                literal("export"),
                FineRow.status,
                FineRow.status,
                literal(f"batch={batch_id}"),
            ).where(FineRow.export_batch_id == batch_id),
        )
    )


def _earlier_batch(session: Session, conds: list[Any]) -> ExportResult:
    old = sorted(
        b
        for b in session.exec(
            select(FineRow.export_batch_id)
            .where(*conds, col(FineRow.export_batch_id).is_not(None))
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
EXPORT_COLUMNS = (
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


def batch_fines(session: Session, batch_id: str, chunk: int) -> Iterator[Row[Any]]:
    """The fines of a batch in id order (``EXPORT_COLUMNS``, by attribute as on a fine), read
    ``chunk`` at a time (keyset on the id, the index (export_batch_id, id))."""
    after = 0
    while True:
        rows = session.execute(
            sa_select(*EXPORT_COLUMNS)
            .where(FineRow.export_batch_id == batch_id, col(FineRow.id) > after)
            .order_by(col(FineRow.id))
            .limit(chunk)
        ).all()
        if not rows:
            return
        after = rows[-1].id
        yield from rows
