"""``GET /api/v1/reports/summary``: management figures as JSON or CSV."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel

from api.auth.principal import Principal, Role
from api.db import utcnow
from api.deps import SessionDep, allow
from api.errors import Unprocessable
from api.limits import SaneTime
from api.reports import service

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])
Reader = Annotated[Principal, allow(Role.BACKOFFICE, Role.ADMIN)]
MAX_PERIOD = timedelta(days=400)


class ZoneOut(BaseModel):
    zone_id: str
    hits: int
    confirmed: int
    rejected: int
    fines: int
    amount_issued_cents: int


class DayOut(BaseModel):
    day: date
    scans: int
    suspects: int
    hits: int
    confirmed: int
    rejected: int
    confirmation_rate: float | None
    fines_issued: int
    amount_issued_cents: int
    amount_paid_cents: int


class SummaryOut(BaseModel):
    period_from: datetime
    period_to: datetime
    scans: int
    checks: int
    suspects: int
    hits_total: int
    hits_by_status: dict[str, int]
    confirmation_rate: float | None
    reject_reasons: dict[str, int]
    fines_by_track_status: dict[str, dict[str, int]]
    amount_issued_cents: int
    amount_paid_cents: int
    avg_scan_to_decision_s: float | None
    hits_per_hour: list[int]
    per_zone: list[ZoneOut]
    per_day: list[DayOut]


def period(period_from: datetime | None, period_to: datetime | None) -> tuple[datetime, datetime]:
    if period_from is None and period_to is None:
        return service.last_days(30, utcnow())
    to = period_to or utcnow()
    start = period_from or (to - timedelta(days=30))
    if to <= start:
        raise Unprocessable(f"'to' ({to.isoformat()}) must be after 'from' ({start.isoformat()})")
    if to - start > MAX_PERIOD:
        raise Unprocessable(f"the period is {(to - start).days} days; at most {MAX_PERIOD.days}")
    return start, to


def summary_out(s: service.Summary) -> SummaryOut:
    return SummaryOut(
        period_from=s.period_from,
        period_to=s.period_to,
        scans=s.scans,
        checks=s.checks,
        suspects=s.suspects,
        hits_total=s.hits_total,
        hits_by_status=s.hits_by_status,
        confirmation_rate=s.confirmation_rate,
        reject_reasons=s.reject_reasons,
        fines_by_track_status=s.fines_by_track_status,
        amount_issued_cents=s.amount_issued_cents,
        amount_paid_cents=s.amount_paid_cents,
        avg_scan_to_decision_s=s.avg_scan_to_decision_s,
        hits_per_hour=s.hits_per_hour,
        per_zone=[ZoneOut.model_validate(z, from_attributes=True) for z in s.per_zone],
        per_day=[DayOut(**{k: getattr(d, k) for k in DayOut.model_fields}) for d in s.per_day],
    )


@router.get("/summary", response_model=None)
def get_summary(
    session: SessionDep,
    _: Reader,
    from_: Annotated[SaneTime | None, Query(alias="from")] = None,
    to: SaneTime | None = None,
    format: Literal["json", "csv"] = "json",
) -> SummaryOut | Response:
    """Scans, suspects, hits by status, confirmation rate, reject reasons, fines by track and
    status, amounts issued and paid, average time from scan to decision; per zone and per day.

    Whole local (Europe/Amsterdam) days: the days ``from`` and ``to`` touch (the answer's
    ``period_from``/``period_to`` say which). One date basis: hits and fines count on the day
    of the capture (offence), with their state and amounts so far; scans and suspects on the
    day the cars counted them. Default: the last 30 days, today included."""
    start, end = period(from_, to)
    s = service.summary(session, start, end)
    if format == "csv":
        buf = io.StringIO()
        csv.writer(buf).writerows(service.csv_rows(s))
        name = f"rapport-{start.date().isoformat()}-{end.date().isoformat()}.csv"
        return Response(
            buf.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return summary_out(s)
