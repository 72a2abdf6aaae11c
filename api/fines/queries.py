"""Reading fines: the filtered list, payments, history, the avalanche alerts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from api.db import utcnow
from api.fines.db import (
    ExportBatchRow,
    FineEventRow,
    FineExportItemRow,
    FineExportPendingRow,
    FinePaymentRow,
    FineRow,
)
from api.fines.rules import (
    CLOSED_STATUSES,
    COUNTING_STATUSES,
    FineStatus,
)
from api.pagination import Count, bounded_count
from api.settings import BackendSettings


@dataclass(frozen=True, slots=True)
class FineFilter:
    status: str | None = None
    track: str | None = None
    hit_id: int | None = None
    plate: str | None = None
    needs_approval: bool | None = None
    export_batch_id: str | None = None


def list_fines(
    session: Session, flt: FineFilter, *, limit: int = 100, offset: int = 0
) -> tuple[list[FineRow], Count]:
    """A page of the fines that match, newest first, and how many match (exact up to
    ``COUNT_CAP``, else "more than")."""
    conds: list[Any] = []
    if flt.status:
        conds.append(FineRow.status == flt.status)
    if flt.track:
        conds.append(FineRow.track == flt.track)
    if flt.hit_id is not None:
        conds.append(FineRow.hit_id == flt.hit_id)
    if flt.export_batch_id:
        in_batch = select(FineExportItemRow.fine_id).where(
            FineExportItemRow.batch_id == flt.export_batch_id
        )
        conds.append(col(FineRow.id).in_(in_batch))
    if flt.plate:
        from permits.plates import normalise_plate

        conds.append(FineRow.plate == normalise_plate(flt.plate))
    if flt.needs_approval:
        conds += [
            col(FineRow.needs_second_approval).is_(True),
            col(FineRow.approved_by).is_(None),
            FineRow.status == FineStatus.DRAFT.value,
        ]
    total = bounded_count(session, select(FineRow.id).where(*conds))
    rows = session.exec(
        select(FineRow).where(*conds).order_by(col(FineRow.id).desc()).offset(offset).limit(limit)
    ).all()
    return list(rows), total


def fines_by_hit(session: Session, hit_ids: list[int]) -> dict[int, FineRow]:
    """The fine of each of ``hit_ids`` that has one (a hit has at most one)."""
    if not hit_ids:
        return {}
    rows = session.exec(select(FineRow).where(col(FineRow.hit_id).in_(hit_ids))).all()
    return {f.hit_id: f for f in rows}


def payments(session: Session, fine_id: int) -> list[FinePaymentRow]:
    stmt = select(FinePaymentRow).where(FinePaymentRow.fine_id == fine_id)
    return list(session.exec(stmt.order_by(col(FinePaymentRow.id))).all())


def history(session: Session, fine_id: int) -> list[FineEventRow]:
    """The fine's history in order, its export among it: read from the batch that holds the
    fine (an export before migration 0640 is a stored history row of its own)."""
    stmt = select(FineEventRow).where(FineEventRow.fine_id == fine_id)
    events = list(session.exec(stmt.order_by(col(FineEventRow.id))).all())
    if any(e.action == "export" for e in events):
        return events
    row = session.exec(
        select(FineExportItemRow, ExportBatchRow)
        .join(ExportBatchRow, col(ExportBatchRow.id) == FineExportItemRow.batch_id)
        .where(FineExportItemRow.fine_id == fine_id)
    ).first()
    if row is None:
        return events
    item, batch = row
    export = FineEventRow(
        fine_id=fine_id,
        at=batch.created_at,
        actor_type="user",
        actor_name=batch.created_by,
        action="export",
        from_status=item.status,
        to_status=item.status,
        detail=f"batch={batch.id}",
    )
    # stored events keep their order; the export goes before the first one after it
    at = next((i for i, e in enumerate(events) if _aware(e.at) > export.at), len(events))
    return [*events[:at], export, *events[at:]]


@dataclass(frozen=True, slots=True)
class ExportMark:
    """Where and when a fine was exported."""

    batch_id: str
    exported_at: datetime


def export_marks(session: Session, fine_ids: list[int]) -> dict[int, ExportMark]:
    """The export batch of each of ``fine_ids`` that has been exported."""
    if not fine_ids:
        return {}
    rows = session.execute(
        sa_select(
            col(FineExportItemRow.fine_id), col(ExportBatchRow.id), col(ExportBatchRow.created_at)
        )
        .join(ExportBatchRow, col(ExportBatchRow.id) == FineExportItemRow.batch_id)
        .where(col(FineExportItemRow.fine_id).in_(fine_ids))
    ).all()
    return {int(fid): ExportMark(str(bid), _aware(at)) for fid, bid, at in rows}


@dataclass(frozen=True, slots=True)
class Alert:
    """A plate with more than N fines in M days (the avalanche guard)."""

    plate: str
    fine_count: int
    first_at: datetime
    last_at: datetime
    awaiting_approval: tuple[int, ...]


def alerts(session: Session, settings: BackendSettings, now: datetime | None = None) -> list[Alert]:
    now = now or utcnow()
    since = now - timedelta(days=settings.avalanche_window_days)
    counting = [s.value for s in COUNTING_STATUSES]
    stmt = (
        select(
            FineRow.plate,
            func.count(),
            func.min(FineRow.offence_at),
            func.max(FineRow.offence_at),
        )
        .where(
            col(FineRow.offence_at) >= since,
            col(FineRow.status).in_(counting),
            col(FineRow.plate).is_not(None),
        )
        .group_by(FineRow.plate)
        .having(func.count() > settings.avalanche_max_fines)
        .order_by(func.count().desc())
    )
    out = []
    for plate, n, first, last in session.exec(stmt).all():
        waiting = session.exec(
            select(FineRow.id).where(
                FineRow.plate == plate,
                col(FineRow.needs_second_approval).is_(True),
                col(FineRow.approved_by).is_(None),
                FineRow.status == FineStatus.DRAFT.value,
            )
        ).all()
        out.append(
            Alert(
                plate or "",
                int(n),
                _aware(first),
                _aware(last),
                tuple(i for i in waiting if i is not None),
            )
        )
    return out


def _aware(t: datetime) -> datetime:
    from datetime import UTC

    return t if t.tzinfo else t.replace(tzinfo=UTC)


def is_closed(fine: FineRow) -> bool:
    return FineStatus(fine.status) in CLOSED_STATUSES


def export_batches(
    session: Session, track: str | None = None, *, limit: int = 50, offset: int = 0
) -> tuple[list[ExportBatchRow], Count]:
    """Earlier export batches, newest first, with their counts and totals."""
    conds: list[Any] = [ExportBatchRow.track == track] if track else []
    total = bounded_count(session, select(ExportBatchRow.id).where(*conds))
    rows = session.exec(
        select(ExportBatchRow)
        .where(*conds)
        .order_by(col(ExportBatchRow.created_at).desc(), col(ExportBatchRow.id))
        .offset(offset)
        .limit(limit)
    ).all()
    return list(rows), total


@dataclass(frozen=True, slots=True)
class Unexported:
    """Issued fines of a track that no export batch holds yet."""

    track: str
    fine_count: int
    total_cents: int
    first_issued_at: datetime | None
    last_issued_at: datetime | None


def unexported(session: Session) -> list[Unexported]:
    """Per track: the issued fines not yet exported (the export's waiting list, which holds no
    draft and no annulled fine)."""
    p = FineExportPendingRow
    stmt = sa_select(
        col(p.track),
        func.count(),
        func.coalesce(func.sum(col(p.amount_cents)), 0),
        func.min(col(p.issued_at)),
        func.max(col(p.issued_at)),
    ).group_by(col(p.track))
    return [
        Unexported(
            str(track),
            int(n),
            int(total),
            _aware(first) if first else None,
            _aware(last) if last else None,
        )
        for track, n, total, first, last in session.execute(stmt).all()
    ]
