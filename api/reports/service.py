"""Management figures for a period: scans, suspects, hits, decisions, fines, amounts.

The figures come from the report aggregates (``api.reports.db``: per local day, kept current
by database triggers), so a year reads a few thousand rows on either database. A period is
whole local (Europe/Amsterdam) days: the days its start and end touch. Scan counts are the
increments of the cars' heartbeat counters (cumulative per car run).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from api.hits.model import HitStatus
from api.reports.db import FineDayRow, HitDayRow, HitHourRow, ScanDayRow

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

    @property
    def has_data(self) -> bool:
        """Anything at all in the period (else the pages say so)."""
        return bool(self.hits_total or self.scans or self.checks or self.fines_by_track_status)


def rate(confirmed: int, rejected: int) -> float | None:
    decided = confirmed + rejected
    return round(confirmed / decided, 4) if decided else None


def local_midnight(day: date) -> datetime:
    """The start of a local calendar day, in UTC."""
    return datetime.combine(day, time.min, LOCAL).astimezone(UTC)


def snap_period(period_from: datetime, period_to: datetime) -> tuple[date, date]:
    """The local days a period touches: (first, last), both included."""
    first = period_from.astimezone(LOCAL).date()
    last = (period_to - timedelta(microseconds=1)).astimezone(LOCAL).date()
    return first, max(first, last)


def last_days(days: int, now: datetime) -> tuple[datetime, datetime]:
    """The period of the last ``days`` local days, today included."""
    today = now.astimezone(LOCAL).date()
    return local_midnight(today - timedelta(days=days - 1)), local_midnight(
        today + timedelta(days=1)
    )


def local_days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


class _Figures:
    """Folds the aggregate rows into a ``Summary``."""

    def __init__(self, first: date, last: date) -> None:
        self.out = Summary(local_midnight(first), local_midnight(last + timedelta(days=1)))
        self.days = {d: DayFigures(d) for d in local_days(first, last)}
        self.zones: dict[str, ZoneFigures] = {}

    def zone(self, zone_id: str) -> ZoneFigures:
        key = zone_id or NO_ZONE
        return self.zones.setdefault(key, ZoneFigures(key))

    def day(self, d: date) -> DayFigures:
        return self.days.setdefault(d, DayFigures(d))

    def hits(self, rows: Iterable[Any]) -> None:
        by_status: dict[str, int] = defaultdict(int)
        reasons: dict[str, int] = defaultdict(int)
        decided, seconds = 0, 0.0
        for zone_id, status, reason, count, n_decided, secs in rows:
            n = int(count or 0)
            decided, seconds = decided + int(n_decided or 0), seconds + float(secs or 0)
            if not n:
                continue
            self.out.hits_total += n
            by_status[status] += n
            z = self.zone(zone_id)
            z.hits += n
            if status == HitStatus.CONFIRMED.value:
                z.confirmed += n
            elif status == HitStatus.REJECTED.value:
                z.rejected += n
                reasons[reason or "unknown"] += n
        self.out.hits_by_status = dict(sorted(by_status.items()))
        self.out.reject_reasons = dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])))
        self.out.avg_scan_to_decision_s = round(seconds / decided, 1) if decided else None

    def hits_per_day(self, rows: Iterable[Any]) -> None:
        for d, status, n in rows:
            fig = self.day(_as_date(d))
            fig.hits += int(n or 0)
            if status == HitStatus.CONFIRMED.value:
                fig.confirmed += int(n or 0)
            elif status == HitStatus.REJECTED.value:
                fig.rejected += int(n or 0)

    def fines(self, rows: Iterable[Any]) -> None:
        fines: dict[str, dict[str, int]] = defaultdict(dict)
        for zone_id, track, status, n, issued_cents, paid_cents in rows:
            self.out.amount_issued_cents += int(issued_cents or 0)
            self.out.amount_paid_cents += int(paid_cents or 0)
            z = self.zone(zone_id)
            z.amount_issued_cents += int(issued_cents or 0)
            if int(n or 0):
                fines[track][status] = fines[track].get(status, 0) + int(n)
                z.fines += int(n)
        self.out.fines_by_track_status = {
            t: dict(sorted(s.items())) for t, s in sorted(fines.items())
        }

    def fines_per_day(self, rows: Iterable[Any]) -> None:
        for d, issued, issued_cents, paid_cents in rows:
            fig = self.day(_as_date(d))
            fig.fines_issued += int(issued or 0)
            fig.amount_issued_cents += int(issued_cents or 0)
            fig.amount_paid_cents += int(paid_cents or 0)

    def scans_per_day(self, rows: Iterable[Any]) -> None:
        for d, reads, checks, suspects in rows:
            fig = self.day(_as_date(d))
            fig.scans += int(reads or 0)
            fig.suspects += int(suspects or 0)
            self.out.scans += int(reads or 0)
            self.out.checks += int(checks or 0)
            self.out.suspects += int(suspects or 0)

    def done(self) -> Summary:
        zones = (z for z in self.zones.values() if z.hits or z.fines or z.amount_issued_cents)
        self.out.per_zone = sorted(zones, key=lambda z: (-z.hits, z.zone_id))
        self.out.per_day = [self.days[d] for d in sorted(self.days)]
        return self.out


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def summary(session: Session, period_from: datetime, period_to: datetime) -> Summary:
    """The figures of the local days the period touches, from the report aggregates.

    One date basis for everything: hits and fines count on the local day the car saw the
    vehicle (capture = offence time), with what became of them since (status, issue, amounts
    issued and paid so far); scans and suspects on the local day the car counted them (the
    increments its heartbeats report). Each query reads one small table over a day range.
    """
    first, last = snap_period(period_from, period_to)
    f = _Figures(first, last)
    hd, hh, fd, sd = HitDayRow, HitHourRow, FineDayRow, ScanDayRow

    def days(column: Any) -> tuple[Any, Any]:
        return column >= first, column <= last

    f.hits(
        session.exec(
            select(  # type: ignore[call-overload]
                hd.zone_id,
                hd.status,
                hd.reject_reason,
                func.sum(hd.hits),
                func.sum(hd.decided),
                func.sum(hd.decision_seconds),
            )
            .where(*days(hd.day))
            .group_by(hd.zone_id, hd.status, hd.reject_reason)
        ).all()
    )
    f.hits_per_day(
        session.exec(
            select(col(hd.day), col(hd.status), func.sum(hd.hits))
            .where(*days(hd.day))
            .group_by(col(hd.day), col(hd.status))
        ).all()
    )
    for hour, n in session.exec(
        select(col(hh.hour), func.sum(hh.hits)).where(*days(hh.day)).group_by(col(hh.hour))
    ).all():
        f.out.hits_per_hour[int(hour)] += int(n or 0)
    f.fines(
        session.exec(
            select(  # type: ignore[call-overload]
                fd.zone_id,
                fd.track,
                fd.status,
                func.sum(fd.fines),
                func.sum(fd.amount_issued_cents),
                func.sum(fd.paid_cents),
            )
            .where(*days(fd.day))
            .group_by(fd.zone_id, fd.track, fd.status)
        ).all()
    )
    f.fines_per_day(
        session.exec(
            select(  # type: ignore[call-overload]
                fd.day,
                func.sum(fd.issued),
                func.sum(fd.amount_issued_cents),
                func.sum(fd.paid_cents),
            )
            .where(*days(fd.day))
            .group_by(fd.day)
        ).all()
    )
    f.scans_per_day(
        session.exec(
            select(  # type: ignore[call-overload]
                sd.day, func.sum(sd.reads), func.sum(sd.checks), func.sum(sd.suspects)
            )
            .where(*days(sd.day))
            .group_by(sd.day)
        ).all()
    )
    return f.done()


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
