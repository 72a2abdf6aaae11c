"""An export batch written out: the record of one fine, the CSV lines, the batch's records
read in chunks from a session of their own. The API's ``GET /api/v1/fines/export`` and the
back-office exports page (``/ui/exports``) both write batches through here, so a CSV
downloaded again from the page is the file the API gives."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Row
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.fines.db import FineRow
from api.fines.export import batch_fines
from api.fines.rules import objection_deadline

STREAM_ROWS = 500  # export records per streamed piece

EXPORT_FIELDS = (
    "number",
    "track",
    "status",
    "plate",
    "offence_at",
    "zone_id",
    "offence_code",
    "amount_cents",
    "paid_cents",
    "issued_at",
    "objection_deadline",
    "hit_id",
    "fine_id",
)


def export_record(f: FineRow | Row[Any]) -> dict[str, Any]:
    """One fine's export record (from a fine or a row of ``api.fines.export.EXPORT_COLUMNS``)."""
    return {
        "number": f.number,
        "track": f.track,
        "status": f.status,
        "plate": f.plate,
        "offence_at": f.offence_at.isoformat(),
        "zone_id": f.zone_id,
        "offence_code": f.offence_code,
        "amount_cents": f.amount_cents,
        "paid_cents": f.paid_cents,
        "issued_at": f.issued_at.isoformat() if f.issued_at else None,
        "objection_deadline": (
            f.objection_deadline.isoformat()
            if f.objection_deadline
            else (objection_deadline(f.issued_at).isoformat() if f.issued_at else None)
        ),
        "hit_id": f.hit_id,
        "fine_id": f.id,
    }


def batch_records(engine: Engine, batch_id: str | None, chunk: int) -> Iterator[dict[str, Any]]:
    """The batch's export records, from a session of their own (a response streams after
    the request's session is gone)."""
    if batch_id is None:
        return
    with Session(engine) as session:
        for fine in batch_fines(session, batch_id, chunk):
            yield export_record(fine)


def csv_lines(batch_id: str | None, records: Iterator[dict[str, Any]]) -> Iterator[str]:
    """The CSV file: a header, then one line per fine with the batch id on every line."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=["batch_id", *EXPORT_FIELDS])
    writer.writeheader()
    for i, record in enumerate(records, start=1):
        writer.writerow({"batch_id": batch_id, **record})
        if i % STREAM_ROWS == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


def csv_filename(track: str | None, batch_id: str | None) -> str:
    return f"fines-{track or 'none'}-{batch_id or 'empty'}.csv"
