"""The export file is encoded a chunk at a time; it must be the file a record-at-a-time writer
makes (the CSV module's DictWriter, one ``json.dumps`` per record), byte for byte."""

from __future__ import annotations

import csv
import io
import json
import random
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from api.fines.exportfile import (
    EXPORT_FIELDS,
    csv_pieces,
    export_record,
    export_values,
    json_records,
)
from api.fines.rules import objection_deadline

AWKWARD = ["a,b", 'say "hi"', "line\nbreak", "", None, "é€ß", " lead", "trail ", "\r"]


def _fine(rng: random.Random, i: int) -> SimpleNamespace:
    t = datetime(2026, 3, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(60 * 24 * 30))
    issued = t + timedelta(days=1) if rng.random() < 0.8 else None
    return SimpleNamespace(
        id=i,
        number=f"2026-{i:07d}" if issued else None,
        track=rng.choice(["tax", "wahv"]),
        status=rng.choice(["issued", "paid", "objection"]),
        plate=rng.choice([*AWKWARD, "GZ123T"]),
        offence_at=t,
        zone_id=rng.choice([*AWKWARD, "centrum"]),
        offence_code=rng.choice([None, "blue_zone"]),
        amount_cents=rng.randrange(20_000),
        paid_cents=rng.randrange(20_000),
        issued_at=issued,
        objection_deadline=rng.choice([None, t + timedelta(weeks=6)]),
        hit_id=i + 10,
    )


def _chunks(fines: list[Any], size: int) -> list[list[tuple[Any, ...]]]:
    return [[export_values(f) for f in fines[i : i + size]] for i in range(0, len(fines), size)]


def test_exportfile_chunked_csv_and_json_equal_a_record_at_a_time():
    rng = random.Random(5)
    fines = [_fine(rng, i) for i in range(1, 1_200)]
    records = [export_record(f) for f in fines]

    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=["batch_id", *EXPORT_FIELDS])
    writer.writeheader()
    for r in records:
        writer.writerow({"batch_id": "b-1", **r})
    json_one_by_one = ",".join(json.dumps(r, separators=(",", ":")) for r in records)

    for size in (1, 7, 500, 5_000):
        assert "".join(csv_pieces("b-1", iter(_chunks(fines, size)))) == buf.getvalue()
        assert "".join(json_records(iter(_chunks(fines, size)))) == json_one_by_one
    back = list(csv.DictReader(io.StringIO(buf.getvalue())))
    assert [row["plate"] for row in back] == [f.plate or "" for f in fines]


def test_exportfile_empty_batch_is_a_header_and_no_records():
    assert "".join(csv_pieces(None, iter([]))) == "batch_id," + ",".join(EXPORT_FIELDS) + "\r\n"
    assert "".join(json_records(iter([[], []]))) == ""


def test_exportfile_record_fills_a_missing_objection_deadline_from_the_issue():
    fine = _fine(random.Random(1), 1)
    fine.issued_at = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
    fine.objection_deadline = None
    record = export_record(fine)
    assert record["objection_deadline"] == objection_deadline(fine.issued_at).isoformat()
    assert list(record) == list(EXPORT_FIELDS)
    fine.issued_at = None
    assert export_record(fine)["objection_deadline"] is None
