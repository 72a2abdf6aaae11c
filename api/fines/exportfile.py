"""An export batch written out: the record of one fine, the CSV and JSON pieces, the batch's
records read in chunks from a session of their own (one piece per chunk: a 30,000-fine month is
encoded a chunk at a time, not a record at a time). The API's ``GET /api/v1/fines/export`` and the
back-office exports page (``/ui/exports``) both write batches through here, so a CSV
downloaded again from the page is the file the API gives."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Row
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.fines.db import FineRow
from api.fines.export import batch_fine_chunks
from api.fines.rules import objection_deadline

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


Values = tuple[Any, ...]  # one export record's values in ``EXPORT_FIELDS`` order
COMPACT: dict[str, Any] = {"separators": (",", ":")}  # the JSON records without spaces


def export_values(f: FineRow | Row[Any]) -> Values:
    """One fine's export record as values in ``EXPORT_FIELDS`` order (from a fine or a row of
    ``api.fines.export.EXPORT_COLUMNS``)."""
    issued = f.issued_at
    deadline = f.objection_deadline or (objection_deadline(issued) if issued else None)
    return (
        f.number,
        f.track,
        f.status,
        f.plate,
        f.offence_at.isoformat(),
        f.zone_id,
        f.offence_code,
        f.amount_cents,
        f.paid_cents,
        issued.isoformat() if issued else None,
        deadline.isoformat() if deadline else None,
        f.hit_id,
        f.id,
    )


def export_record(f: FineRow | Row[Any]) -> dict[str, Any]:
    """One fine's export record by field name."""
    return dict(zip(EXPORT_FIELDS, export_values(f), strict=True))


def batch_chunks(engine: Engine, batch_id: str | None, chunk: int) -> Iterator[list[Values]]:
    """The batch's export records, ``chunk`` at a time, from a session of their own (a
    response streams after the request's session is gone)."""
    if batch_id is None:
        return
    with Session(engine) as session:
        for rows in batch_fine_chunks(session, batch_id, chunk):
            yield [export_values(row) for row in rows]


def csv_pieces(batch_id: str | None, chunks: Iterator[list[Values]]) -> Iterator[str]:
    """The CSV file: a header, then one line per fine with the batch id on every line; one
    piece per chunk of records."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["batch_id", *EXPORT_FIELDS])
    for values in chunks:
        writer.writerows((batch_id, *v) for v in values)
        yield buf.getvalue()
        buf.seek(0)
        buf.truncate()
    yield buf.getvalue()


def json_records(chunks: Iterator[list[Values]]) -> Iterator[str]:
    """The records as the members of a JSON array (without the brackets), one piece per chunk:
    each chunk encoded in one call, not one call per record."""
    first = True
    for values in chunks:
        if not values:
            continue
        text = json.dumps([dict(zip(EXPORT_FIELDS, v, strict=True)) for v in values], **COMPACT)
        yield text[1:-1] if first else "," + text[1:-1]
        first = False


def csv_filename(track: str | None, batch_id: str | None) -> str:
    return f"fines-{track or 'none'}-{batch_id or 'empty'}.csv"
