"""A fine's evidence pack: one printable HTML page with the photos, time, position, zone, the
rights check, the BOA's decision and the calculation (what the citizen or a judge gets).

Photos are embedded as ``data:`` URIs, read through the evidence store (hash re-checked), so
the page is self-contained: it can be saved, printed to PDF by the browser, or sent on.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from api.errors import NotFound
from api.evidence.store import EvidenceMissing, EvidenceStore, EvidenceTampered
from api.fines import service
from api.fines.db import FineEventRow, FinePaymentRow, FineRow
from api.hits.db import EvidenceRow, HitRow


@dataclass(frozen=True, slots=True)
class PackPhoto:
    name: str
    kind: str
    sha256: str
    width: int
    height: int
    data_uri: str | None  # None when the file is missing or failed its hash check
    problem: str | None


@dataclass(frozen=True, slots=True)
class EvidencePack:
    fine: FineRow
    hit: HitRow
    calculation: dict[str, Any]
    evidence: dict[str, Any]
    photos: list[PackPhoto]
    payments: list[FinePaymentRow]
    history: list[FineEventRow]
    generated_at: datetime


def _photo(store: EvidenceStore, ev: EvidenceRow) -> PackPhoto:
    try:
        data = store.read(ev.sha256)
    except (EvidenceMissing, EvidenceTampered) as exc:
        return PackPhoto(ev.name, ev.kind, ev.sha256, ev.width, ev.height, None, str(exc))
    uri = f"data:{ev.content_type};base64,{base64.b64encode(data).decode('ascii')}"
    return PackPhoto(ev.name, ev.kind, ev.sha256, ev.width, ev.height, uri, None)


def build_pack(session: Session, store: EvidenceStore, fine_id: int, now: datetime) -> EvidencePack:
    fine = service.get_fine(session, fine_id)
    hit = session.get(HitRow, fine.hit_id)
    if hit is None:  # pragma: no cover - the foreign key keeps it
        raise NotFound(f"the hit of fine {fine_id} is gone")
    evidence = session.exec(
        select(EvidenceRow).where(EvidenceRow.hit_id == hit.id).order_by(col(EvidenceRow.id))
    ).all()
    return EvidencePack(
        fine=fine,
        hit=hit,
        calculation=json.loads(fine.calculation_json or "{}"),
        evidence=json.loads(fine.evidence_json or "{}"),
        photos=[_photo(store, e) for e in evidence],
        payments=service.payments(session, fine_id),
        history=service.history(session, fine_id),
        generated_at=now,
    )
