"""Export batches of issued fines (idempotent per period) and fetching a batch again."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from api.audit.service import record
from api.auth.principal import Principal
from api.db import utcnow
from api.errors import Conflict, NotFound
from api.fines.db import (
    ExportBatchRow,
    FineEventRow,
    FineRow,
)
from api.fines.rules import (
    FineStatus,
)
from zones import FineTrack

EXPORT_EXCLUDED = (FineStatus.DRAFT.value, FineStatus.ANNULLED.value)


@dataclass(frozen=True, slots=True)
class ExportResult:
    batch: ExportBatchRow | None
    fines: list[FineRow]
    created: bool


def _batch_fines(session: Session, batch_id: str) -> list[FineRow]:
    stmt = select(FineRow).where(FineRow.export_batch_id == batch_id).order_by(col(FineRow.id))
    return list(session.exec(stmt).all())


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
    conds: list[Any] = [
        FineRow.track == track.value,
        col(FineRow.number).is_not(None),
        col(FineRow.status).not_in(EXPORT_EXCLUDED),
    ]
    if period_from is not None:
        conds.append(col(FineRow.issued_at) >= period_from)
    if period_to is not None:
        conds.append(col(FineRow.issued_at) < period_to)
    new_ids = [
        i
        for i in session.exec(
            select(FineRow.id).where(*conds, col(FineRow.export_batch_id).is_(None))
        ).all()
        if i is not None
    ]
    if not new_ids:
        old = sorted(
            {
                b
                for b in session.exec(
                    select(FineRow.export_batch_id).where(
                        *conds, col(FineRow.export_batch_id).is_not(None)
                    )
                ).all()
                if b
            }
        )
        if not old:
            return ExportResult(None, [], False)
        if len(old) > 1:
            raise Conflict(
                f"the fines of this period were exported in {len(old)} batches "
                f"({', '.join(old)}); fetch each with ?batch_id=",
                code="several_batches",
            )
        batch = session.get(ExportBatchRow, old[0])
        return ExportResult(batch, _batch_fines(session, old[0]), False)
    batch_id = str(uuid.uuid4())
    batch = ExportBatchRow(
        id=batch_id,
        track=track.value,
        created_at=now,
        created_by=actor.name,
        period_from=period_from,
        period_to=period_to,
    )
    session.add(batch)
    session.flush()
    session.execute(
        update(FineRow)
        .where(col(FineRow.id).in_(new_ids), col(FineRow.export_batch_id).is_(None))
        .values(export_batch_id=batch_id, exported_at=now)
    )
    fines = _batch_fines(session, batch_id)
    if not fines:  # another process took them all meanwhile
        session.rollback()
        return export_batch(
            session, actor, track=track, period_from=period_from, period_to=period_to, now=now
        )
    batch.fine_count = len(fines)
    batch.total_cents = sum(f.amount_cents for f in fines)
    session.add(batch)
    for f in fines:
        session.add(
            FineEventRow(
                fine_id=f.id or 0,
                at=now,
                actor_type=actor.kind,
                actor_id=actor.id,
                actor_name=actor.name,
                action="export",
                from_status=f.status,
                to_status=f.status,
                detail=f"batch={batch_id}",
            )
        )
    record(
        session,
        actor,
        "fine.exported",
        "fine_export_batch",
        batch_id,
        f"track={track.value} fines={len(fines)} total_cents={batch.total_cents}",
    )
    session.commit()
    return ExportResult(batch, fines, True)


def get_batch(session: Session, batch_id: str) -> ExportResult:
    batch = session.get(ExportBatchRow, batch_id)
    if batch is None:
        raise NotFound(f"no export batch {batch_id}")
    return ExportResult(batch, _batch_fines(session, batch_id), False)
