"""Fines through the API (back office): list, detail, lifecycle actions, exports, the pack."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from pydantic import BaseModel, Field

from api.auth.principal import Principal, Role
from api.db import utcnow
from api.deps import (
    EngineDep,
    EvidenceStoreDep,
    SessionDep,
    SettingsDep,
    ZoneCatalogDep,
    allow,
)
from api.fines import pack, service, tariffs
from api.fines.db import FineRow
from api.fines.exportfile import Values, batch_chunks, csv_filename, csv_pieces, json_records
from api.limits import OFFSET_MAX, ROW_ID_MAX, Day, SaneTime
from zones import FineTrack

router = APIRouter(prefix="/api/v1/fines", tags=["fines"])
FineId = Annotated[int, Path(ge=1, le=ROW_ID_MAX)]
BackOffice = Annotated[Principal, allow(Role.BACKOFFICE)]


class FineOut(BaseModel):
    id: int
    hit_id: int
    track: str
    status: str
    number: str | None
    amount_cents: int
    paid_cents: int
    outstanding_cents: int
    plate: str | None
    zone_id: str | None
    offence_at: datetime
    offence_code: str | None
    calc_problem: str | None
    needs_second_approval: bool
    approved_by: int | None
    issued_at: datetime | None
    objection_deadline: datetime | None
    objection_received_at: datetime | None
    objection_late: bool
    objection_reason: str | None
    annul_reason: str | None
    closed_at: datetime | None
    export_batch_id: str | None
    anonymised_at: datetime | None


class PaymentOut(BaseModel):
    amount_cents: int
    received_at: datetime


class FineEventOut(BaseModel):
    at: datetime
    actor_name: str
    action: str
    from_status: str
    to_status: str
    detail: str


class FineDetail(FineOut):
    calculation: dict[str, Any]
    evidence: dict[str, Any]
    objection_text: str | None
    payments: list[PaymentOut]
    history: list[FineEventOut]


class FinesPage(BaseModel):
    data: list[FineOut]
    count: int = Field(description="matching fines; when count_exact is false, more than this")
    count_exact: bool = True


def fine_out(f: FineRow, mark: service.ExportMark | None) -> FineOut:
    data = f.model_dump(include=set(FineOut.model_fields) - {"outstanding_cents"})  # no export
    return FineOut(
        **data,
        outstanding_cents=f.amount_cents - f.paid_cents,
        export_batch_id=mark.batch_id if mark else None,
    )


def fines_out(session: SessionDep, rows: list[FineRow]) -> list[FineOut]:
    marks = service.export_marks(session, [f.id for f in rows if f.id is not None])
    return [fine_out(f, marks.get(f.id or 0)) for f in rows]


def one_out(session: SessionDep, f: FineRow) -> FineOut:
    return fines_out(session, [f])[0]


def fine_detail(session: SessionDep, f: FineRow) -> FineDetail:
    return FineDetail(
        **one_out(session, f).model_dump(),
        calculation=json.loads(f.calculation_json or "{}"),
        evidence=json.loads(f.evidence_json or "{}"),
        objection_text=f.objection_text,
        payments=[
            PaymentOut(amount_cents=p.amount_cents, received_at=p.received_at)
            for p in service.payments(session, f.id or 0)
        ],
        history=[
            FineEventOut.model_validate(e, from_attributes=True)
            for e in service.history(session, f.id or 0)
        ],
    )


class PaymentIn(BaseModel):
    amount_cents: int = Field(ge=1, le=10_000_000)
    received_at: SaneTime | None = None


class ObjectionIn(BaseModel):
    received_at: SaneTime
    text: str = Field(min_length=1, max_length=4000)


class DecisionIn(BaseModel):
    upheld: bool
    reason: str = Field(min_length=1, max_length=1000)


class AnnulIn(BaseModel):
    reason: str = Field(min_length=1, max_length=1000)


class AlertOut(BaseModel):
    plate: str
    fine_count: int
    first_at: datetime
    last_at: datetime
    awaiting_approval: list[int]


class ExportOut(BaseModel):
    batch_id: str | None
    track: str
    created: bool
    created_at: datetime | None
    fine_count: int
    total_cents: int
    fines: list[dict[str, Any]]


# --------------------------------------------------------------------------- reading
@router.get("", response_model=FinesPage)
def list_fines(
    session: SessionDep,
    _: BackOffice,
    status: Annotated[str | None, Query(max_length=24)] = None,
    track: FineTrack | None = None,
    hit_id: Annotated[int | None, Query(ge=1, le=ROW_ID_MAX)] = None,
    plate: Annotated[str | None, Query(max_length=16)] = None,
    needs_approval: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=OFFSET_MAX)] = 0,
) -> FinesPage:
    flt = service.FineFilter(
        status=status,
        track=track.value if track else None,
        hit_id=hit_id,
        plate=plate,
        needs_approval=needs_approval,
    )
    rows, total = service.list_fines(session, flt, limit=limit, offset=offset)
    return FinesPage(data=fines_out(session, rows), count=total.value, count_exact=total.exact)


@router.get("/alerts", response_model=list[AlertOut])
def list_alerts(session: SessionDep, settings: SettingsDep, _: BackOffice) -> list[AlertOut]:
    """Plates with more than N fines in M days (settings ``avalanche_*``)."""
    return [
        AlertOut(
            plate=a.plate,
            fine_count=a.fine_count,
            first_at=a.first_at,
            last_at=a.last_at,
            awaiting_approval=list(a.awaiting_approval),
        )
        for a in service.alerts(session, settings)
    ]


@router.get(
    "/export",
    response_model=None,
    responses={200: {"model": ExportOut, "content": {"text/csv": {}}}},
)
def export(
    session: SessionDep,
    engine: EngineDep,
    settings: SettingsDep,
    actor: BackOffice,
    track: FineTrack | None = None,
    from_: Annotated[SaneTime | None, Query(alias="from")] = None,
    to: SaneTime | None = None,
    format: Literal["json", "csv"] = "json",
    batch_id: Annotated[str | None, Query(max_length=36)] = None,
) -> Response:
    """Batch export for the tax system (tax) or the central fine collection agency (wahv).

    Exporting the same fines again returns the same batch; ``batch_id`` fetches an old batch.
    The fines are streamed, read from the database ``chunk_size`` at a time.
    """
    if batch_id:
        result = service.get_batch(session, batch_id)
    else:
        if track is None:
            from api.errors import Unprocessable

            raise Unprocessable("track is required: tax or wahv (or give batch_id)")
        result = service.export_batch(session, actor, track=track, period_from=from_, period_to=to)
    batch = result.batch
    bid = batch.id if batch else None
    chunks = batch_chunks(engine, bid, settings.chunk_size)
    if format == "csv":
        name = csv_filename(batch.track if batch else None, bid)
        return StreamingResponse(
            csv_pieces(bid, chunks),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="{name}"',
                "X-Batch-Id": bid or "",
            },
        )
    head = ExportOut(
        batch_id=bid,
        track=batch.track if batch else (track.value if track else ""),
        created=result.created,
        created_at=batch.created_at if batch else None,
        fine_count=batch.fine_count if batch else 0,
        total_cents=batch.total_cents if batch else 0,
        fines=[],
    )
    return StreamingResponse(_json_pieces(head, chunks), media_type="application/json")


def _json_pieces(head: ExportOut, chunks: Iterator[list[Values]]) -> Iterator[bytes]:
    """The export as JSON, one piece per chunk of records (each piece is a hop between the
    worker thread and the event loop)."""
    text = head.model_dump_json()
    yield text[: text.rindex("[") + 1].encode()  # '{..., "fines":['
    for piece in json_records(chunks):
        yield piece.encode()
    yield b"]}"


class CostOut(BaseModel):
    id: int
    amount_cents: int
    valid_from: date
    valid_to: date | None
    description: str


class OffenceOut(CostOut):
    code: str


class TariffsOut(BaseModel):
    costs: list[CostOut]
    offences: list[OffenceOut]


class CostIn(BaseModel):
    amount_cents: int = Field(ge=0, le=1_000_000)
    valid_from: Day
    valid_to: Day | None = None
    description: str = Field(default="", max_length=200)


class OffenceIn(CostIn):
    code: str = Field(min_length=1, max_length=32, pattern=r"^[a-z0-9_]+$")


@router.get("/tariffs", response_model=TariffsOut)
def get_tariffs(
    session: SessionDep, _: Annotated[Principal, allow(Role.BACKOFFICE, Role.ADMIN)]
) -> TariffsOut:
    return TariffsOut(
        costs=[
            CostOut.model_validate(r, from_attributes=True) for r in tariffs.list_costs(session)
        ],
        offences=[
            OffenceOut.model_validate(r, from_attributes=True)
            for r in tariffs.list_offences(session)
        ],
    )


@router.post("/tariffs/costs", response_model=CostOut, status_code=201)
def add_cost(
    body: CostIn, session: SessionDep, actor: Annotated[Principal, allow(Role.ADMIN)]
) -> CostOut:
    row = tariffs.add_cost(session, actor, **body.model_dump())
    session.commit()
    return CostOut.model_validate(row, from_attributes=True)


@router.post("/tariffs/offences", response_model=OffenceOut, status_code=201)
def add_offence(
    body: OffenceIn, session: SessionDep, actor: Annotated[Principal, allow(Role.ADMIN)]
) -> OffenceOut:
    row = tariffs.add_offence(session, actor, **body.model_dump())
    session.commit()
    return OffenceOut.model_validate(row, from_attributes=True)


@router.get("/{fine_id}", response_model=FineDetail)
def get_fine(fine_id: FineId, session: SessionDep, _: BackOffice) -> FineDetail:
    return fine_detail(session, service.get_fine(session, fine_id))


@router.get("/{fine_id}/pack", response_class=HTMLResponse)
def get_pack(
    fine_id: FineId,
    request: Request,
    session: SessionDep,
    store: EvidenceStoreDep,
    _: BackOffice,
) -> Response:
    """The evidence pack as one printable HTML page (photos embedded)."""
    from api.ui.templating import NO_STORE, templates

    p = pack.build_pack(session, store, fine_id, utcnow())
    return templates.TemplateResponse(
        request, "backoffice/pack.html", {"pack": p}, headers=NO_STORE
    )


# --------------------------------------------------------------------------- actions
@router.post("/{fine_id}/approve", response_model=FineOut)
def approve(fine_id: FineId, session: SessionDep, actor: BackOffice) -> FineOut:
    """The second approval for a plate with many fines (by someone else than the issuer)."""
    return one_out(session, service.approve(session, fine_id, actor))


@router.post("/{fine_id}/recalculate", response_model=FineOut)
def recalculate(
    fine_id: FineId,
    session: SessionDep,
    catalog: ZoneCatalogDep,
    settings: SettingsDep,
    actor: BackOffice,
) -> FineOut:
    return one_out(session, service.recalculate(session, fine_id, actor, catalog, settings))


@router.post("/{fine_id}/issue", response_model=FineOut)
def issue(
    fine_id: FineId, session: SessionDep, settings: SettingsDep, actor: BackOffice
) -> FineOut:
    return one_out(session, service.issue(session, fine_id, actor, settings))


@router.post("/{fine_id}/payments", response_model=FineOut)
def pay(fine_id: FineId, body: PaymentIn, session: SessionDep, actor: BackOffice) -> FineOut:
    """Register a (partial) payment; more than the outstanding amount is refused."""
    return one_out(
        session,
        service.register_payment(session, fine_id, actor, body.amount_cents, body.received_at),
    )


@router.post("/{fine_id}/objection", response_model=FineOut)
def objection(
    fine_id: FineId,
    body: ObjectionIn,
    session: SessionDep,
    settings: SettingsDep,
    actor: BackOffice,
) -> FineOut:
    """Register an objection (bezwaar); one received after the term is flagged late."""
    return one_out(
        session,
        service.register_objection(
            session, fine_id, actor, received_at=body.received_at, text=body.text, settings=settings
        ),
    )


@router.post("/{fine_id}/decide-objection", response_model=FineOut)
def decide_objection(
    fine_id: FineId, body: DecisionIn, session: SessionDep, actor: BackOffice
) -> FineOut:
    return one_out(
        session,
        service.decide_objection(session, fine_id, actor, upheld=body.upheld, reason=body.reason),
    )


@router.post("/{fine_id}/annul", response_model=FineOut)
def annul(fine_id: FineId, body: AnnulIn, session: SessionDep, actor: BackOffice) -> FineOut:
    return one_out(session, service.annul(session, fine_id, actor, reason=body.reason))


@router.post("/{fine_id}/send-to-collection", response_model=FineOut)
def send_to_collection(fine_id: FineId, session: SessionDep, actor: BackOffice) -> FineOut:
    return one_out(session, service.send_to_collection(session, fine_id, actor))
