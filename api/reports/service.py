"""Management figures for a period: scans, suspects, hits, decisions, fines, amounts.

Counting is done in SQL (GROUP BY per UTC hour, zone and status; works on SQLite and
PostgreSQL); the hour buckets are folded into local (Europe/Amsterdam) days and hours here.
Scan counts come from car heartbeats, whose counters are cumulative per car run.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from api.devices.db import HeartbeatRow
from api.fines.db import FinePaymentRow, FineRow
from api.hits.db import HitRow
from api.hits.model import HitStatus

LOCAL = ZoneInfo("Europe/Amsterdam")
NO_ZONE = "(geen zone)"


@dataclass
class ZoneFigures:
    zone_id: str
    hits: int = 0
    confirmed: int = 0
    rejected: int = 0
    fines: int = 0
    amount_issued_cents: int = 0


@dataclass
class DayFigures:
    day: date
    scans: int = 0
    suspects: int = 0
    hits: int = 0
    confirmed: int = 0
    rejected: int = 0
    fines_issued: int = 0
    amount_issued_cents: int = 0
    amount_paid_cents: int = 0

    @property
    def confirmation_rate(self) -> float | None:
        return rate(self.confirmed, self.rejected)


@dataclass
class Summary:
    period_from: datetime
    period_to: datetime
    scans: int = 0
    checks: int = 0
    suspects: int = 0
    hits_total: int = 0
    hits_by_status: dict[str, int] = field(default_factory=dict)
    reject_reasons: dict[str, int] = field(default_factory=dict)
    fines_by_track_status: dict[str, dict[str, int]] = field(default_factory=dict)
    amount_issued_cents: int = 0
    amount_paid_cents: int = 0
    avg_scan_to_decision_s: float | None = None
    hits_per_hour: list[int] = field(default_factory=lambda: [0] * 24)
    per_zone: list[ZoneFigures] = field(default_factory=list)
    per_day: list[DayFigures] = field(default_factory=list)

    @property
    def confirmed(self) -> int:
        return self.hits_by_status.get(HitStatus.CONFIRMED.value, 0)

    @property
    def rejected(self) -> int:
        return self.hits_by_status.get(HitStatus.REJECTED.value, 0)

    @property
    def confirmation_rate(self) -> float | None:
        return rate(self.confirmed, self.rejected)


def rate(confirmed: int, rejected: int) -> float | None:
    decided = confirmed + rejected
    return round(confirmed / decided, 4) if decided else None


def hour_bucket(session: Session, column: Any) -> ColumnElement[str]:
    """'YYYY-MM-DD HH' of a UTC time column, on either database."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD HH24")
    return func.strftime("%Y-%m-%d %H", column)


def _local(bucket: str) -> datetime:
    return datetime.strptime(bucket, "%Y-%m-%d %H").replace(tzinfo=UTC).astimezone(LOCAL)


def _seconds_between(session: Session, later: Any, earlier: Any) -> ColumnElement[float]:
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", later - earlier)  # type: ignore[return-value]
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def local_days(period_from: datetime, period_to: datetime) -> list[date]:
    first = period_from.astimezone(LOCAL).date()
    last = (period_to - timedelta(microseconds=1)).astimezone(LOCAL).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def summary(  # noqa: PLR0915 - one pass per source table, kept together on purpose
    session: Session, period_from: datetime, period_to: datetime
) -> Summary:
    out = Summary(period_from, period_to)
    days = {d: DayFigures(d) for d in local_days(period_from, period_to)}
    zones: dict[str, ZoneFigures] = {}

    def zone(z: str | None) -> ZoneFigures:
        key = z or NO_ZONE
        return zones.setdefault(key, ZoneFigures(key))

    def day(bucket: str) -> DayFigures:
        d = _local(bucket).date()
        return days.setdefault(d, DayFigures(d))

    # hits
    bucket = hour_bucket(session, HitRow.captured_at)
    rows = session.exec(
        select(  # type: ignore[call-overload]
            bucket, col(HitRow.zone_id), col(HitRow.status), col(HitRow.reject_reason), func.count()
        )
        .where(col(HitRow.captured_at) >= period_from, col(HitRow.captured_at) < period_to)
        .group_by(bucket, col(HitRow.zone_id), col(HitRow.status), col(HitRow.reject_reason))
    ).all()
    by_status: dict[str, int] = defaultdict(int)
    reasons: dict[str, int] = defaultdict(int)
    for b, zone_id, status, reason, count in rows:
        n = int(count)
        out.hits_total += n
        by_status[status] += n
        z, d = zone(zone_id), day(b)
        z.hits += n
        d.hits += n
        out.hits_per_hour[_local(b).hour] += n
        if status == HitStatus.CONFIRMED.value:
            z.confirmed += n
            d.confirmed += n
        elif status == HitStatus.REJECTED.value:
            z.rejected += n
            d.rejected += n
            reasons[reason or "unknown"] += n
    out.hits_by_status = dict(sorted(by_status.items()))
    out.reject_reasons = dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])))

    avg = session.exec(
        select(func.avg(_seconds_between(session, HitRow.decided_at, HitRow.captured_at))).where(
            col(HitRow.captured_at) >= period_from,
            col(HitRow.captured_at) < period_to,
            col(HitRow.decided_at).is_not(None),
        )
    ).one()
    out.avg_scan_to_decision_s = round(float(avg), 1) if avg is not None else None

    # fines by offence time
    fines: dict[str, dict[str, int]] = defaultdict(dict)
    for track, status, zone_id, n in session.exec(
        select(FineRow.track, FineRow.status, FineRow.zone_id, func.count())
        .where(col(FineRow.offence_at) >= period_from, col(FineRow.offence_at) < period_to)
        .group_by(col(FineRow.track), col(FineRow.status), col(FineRow.zone_id))
    ).all():
        fines[track][status] = fines[track].get(status, 0) + int(n)
        zone(zone_id).fines += int(n)
    out.fines_by_track_status = {t: dict(sorted(s.items())) for t, s in sorted(fines.items())}

    # amounts issued (by issue time) and paid (by payment time)
    ib = hour_bucket(session, FineRow.issued_at)
    for b, zone_id, n, total in session.exec(
        select(ib, FineRow.zone_id, func.count(), func.sum(FineRow.amount_cents))
        .where(col(FineRow.issued_at) >= period_from, col(FineRow.issued_at) < period_to)
        .group_by(ib, col(FineRow.zone_id))
    ).all():
        cents = int(total or 0)
        out.amount_issued_cents += cents
        zone(zone_id).amount_issued_cents += cents
        d = day(b)
        d.fines_issued += int(n)
        d.amount_issued_cents += cents
    pb = hour_bucket(session, FinePaymentRow.received_at)
    for b, cents in session.exec(
        select(pb, func.sum(FinePaymentRow.amount_cents))
        .where(
            col(FinePaymentRow.received_at) >= period_from,
            col(FinePaymentRow.received_at) < period_to,
        )
        .group_by(pb)
    ).all():
        out.amount_paid_cents += int(cents or 0)
        day(b).amount_paid_cents += int(cents or 0)

    # scans from heartbeats
    for key, per_day in scan_counts(session, period_from, period_to).items():
        for when, n in per_day.items():
            fig = days.setdefault(when, DayFigures(when))
            if key == "reads":
                fig.scans += n
                out.scans += n
            elif key == "checks":
                out.checks += n
            elif key == "suspects":
                fig.suspects += n
                out.suspects += n

    out.per_zone = sorted(zones.values(), key=lambda z: (-z.hits, z.zone_id))
    out.per_day = [days[d] for d in sorted(days)]
    return out


COUNTERS = ("reads", "checks", "suspects")


def scan_counts(
    session: Session, period_from: datetime, period_to: datetime
) -> dict[str, dict[date, int]]:
    """Increments of the cars' cumulative counters, per local day of the heartbeat.

    Counters are cumulative per run (``run_id``); the first heartbeat of a run counts in full,
    a drop (restart without a new run id) starts again from zero.
    """
    in_range = session.exec(
        select(HeartbeatRow)
        .where(col(HeartbeatRow.sent_at) >= period_from, col(HeartbeatRow.sent_at) < period_to)
        .order_by(col(HeartbeatRow.sent_at), col(HeartbeatRow.id))
    ).all()
    if not in_range:
        return {k: {} for k in COUNTERS}
    runs = {(h.device_id, h.run_id) for h in in_range}
    before = session.exec(
        select(HeartbeatRow)
        .where(
            col(HeartbeatRow.sent_at) < period_from,
            col(HeartbeatRow.device_id).in_({d for d, _ in runs}),
        )
        .order_by(col(HeartbeatRow.sent_at), col(HeartbeatRow.id))
    ).all()
    last: dict[tuple[int, str | None], dict[str, int]] = {}
    for h in before:
        last[(h.device_id, h.run_id)] = dict(h.counts or {})
    out: dict[str, dict[date, int]] = {k: defaultdict(int) for k in COUNTERS}
    for h in in_range:
        key = (h.device_id, h.run_id)
        prev = last.get(key, {})
        counts = dict(h.counts or {})
        d = h.sent_at.astimezone(LOCAL).date()
        for k in COUNTERS:
            now_v, prev_v = int(counts.get(k, 0)), int(prev.get(k, 0))
            out[k][d] += now_v - prev_v if now_v >= prev_v else now_v
        last[key] = counts
    return {k: dict(v) for k, v in out.items()}


def csv_rows(s: Summary) -> Iterable[list[Any]]:
    """The summary in long form: section, zone, day, metric, value."""
    yield ["section", "zone_id", "day", "metric", "value"]
    total = {
        "scans": s.scans,
        "checks": s.checks,
        "suspects": s.suspects,
        "hits": s.hits_total,
        "confirmation_rate": s.confirmation_rate,
        "amount_issued_cents": s.amount_issued_cents,
        "amount_paid_cents": s.amount_paid_cents,
        "avg_scan_to_decision_s": s.avg_scan_to_decision_s,
    }
    for k, v in total.items():
        yield ["total", "", "", k, "" if v is None else v]
    for k, v in s.hits_by_status.items():
        yield ["hits_by_status", "", "", k, v]
    for k, v in s.reject_reasons.items():
        yield ["reject_reasons", "", "", k, v]
    for track, statuses in s.fines_by_track_status.items():
        for status, v in statuses.items():
            yield ["fines", "", "", f"{track}:{status}", v]
    for h, v in enumerate(s.hits_per_hour):
        yield ["hits_per_hour", "", "", f"{h:02d}", v]
    for z in s.per_zone:
        for k in ("hits", "confirmed", "rejected", "fines", "amount_issued_cents"):
            yield ["zone", z.zone_id, "", k, getattr(z, k)]
    for d in s.per_day:
        for k in (
            "scans",
            "suspects",
            "hits",
            "confirmed",
            "rejected",
            "fines_issued",
            "amount_issued_cents",
            "amount_paid_cents",
        ):
            yield ["day", "", d.day.isoformat(), k, getattr(d, k)]
