"""Prometheus metrics of the backend, in the text format (served by ``api.health.metrics_router``).

Built per app (``BackendMetrics(registry)``), never at import time. Under ``scancar serve
--workers N`` the server sets ``PROMETHEUS_MULTIPROC_DIR`` before the workers start, so every
worker writes its values to files there and a scrape of any worker sums all of them
(prometheus-client's multiprocess mode). Counts of hits and fines by status are read from the
database at scrape time, so every worker reports the same figures.

No label ever holds a plate, a position or an id: routes are the route templates
(``/api/v1/hits/{hit_id}``), outcomes are decision reasons, statuses are status names.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# request latencies: 5 ms .. 10 s (the rights check answers in about 1 ms, ingest in 20)
LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# review latency: from the end of the grace period to a BOA's decision, 1 min .. 2 days
REVIEW_BUCKETS = (60, 300, 900, 1800, 3600, 7200, 14400, 28800, 86400, 172800)
JOB_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300)


def is_multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))


class BackendMetrics:
    """The backend's metrics, registered on ``registry`` (one per app)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        reg = self.registry
        self.requests = Counter(
            "scancar_http_requests_total",
            "HTTP requests answered, by method, route template and status code",
            ["method", "route", "status"],
            registry=reg,
        )
        self.latency = Histogram(
            "scancar_http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=reg,
        )
        self.ingest = Counter(
            "scancar_ingest_observations_total",
            "Observations accepted from scan cars: created (a new hit) or repeat (sent again)",
            ["result"],
            registry=reg,
        )
        self.ingest_bytes = Counter(
            "scancar_ingest_evidence_bytes_total",
            "Bytes of evidence images in accepted new observations",
            registry=reg,
        )
        self.rights_checks = Counter(
            "scancar_rights_checks_total",
            "Rights checks answered (GET /rights/check), by outcome (the decision's reason)",
            ["outcome"],
            registry=reg,
        )
        self.review_latency = Histogram(
            "scancar_review_decision_seconds",
            "Time from the end of a hit's grace period to the BOA's decision",
            ["decision"],
            buckets=REVIEW_BUCKETS,
            registry=reg,
        )
        self.job_runs = Counter(
            "scancar_job_runs_total", "Background job runs, by job", ["job"], registry=reg
        )
        self.job_failures = Counter(
            "scancar_job_failures_total", "Background job runs that failed", ["job"], registry=reg
        )
        self.job_duration = Histogram(
            "scancar_job_duration_seconds",
            "Time a background job run took",
            ["job"],
            buckets=JOB_BUCKETS,
            registry=reg,
        )
        self.job_last_success = Gauge(
            "scancar_job_last_success_timestamp_seconds",
            "When a job last finished without error (Unix time)",
            ["job"],
            multiprocess_mode="max",
            registry=reg,
        )
        self.pool_in_use = Gauge(
            "scancar_db_pool_connections_in_use",
            "Database connections checked out of the server processes' pools",
            multiprocess_mode="livesum",
            registry=reg,
        )
        self.pool_size = Gauge(
            "scancar_db_pool_size",
            "Database connections the server processes keep (each may open as many again)",
            multiprocess_mode="livesum",
            registry=reg,
        )
        self._requests: dict[tuple[str, str, int], Any] = {}
        self._latency: dict[tuple[str, str], Any] = {}

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        child = self._requests.get(key)
        if child is None:
            child = self._requests[key] = self.requests.labels(method, route, str(status))
        child.inc()
        timing = self._latency.get(key[:2])
        if timing is None:
            timing = self._latency[key[:2]] = self.latency.labels(method, route)
        timing.observe(seconds)

    def observe_ingest(self, *, created: bool, evidence_bytes: int) -> None:
        self.ingest.labels("created" if created else "repeat").inc()
        if created:
            self.ingest_bytes.inc(evidence_bytes)

    def observe_review(self, decision: str, hit: Any) -> None:
        """A BOA's decision on ``hit`` (a hit row): the time since its grace period ended."""
        decided: datetime | None = getattr(hit, "decided_at", None)
        since: datetime | None = getattr(hit, "grace_until", None) or getattr(
            hit, "received_at", None
        )
        if decided is not None and since is not None:
            self.review_latency.labels(decision).observe(
                max(0.0, (decided - since).total_seconds())
            )

    @contextmanager
    def job(self, name: str) -> Iterator[None]:
        """Count a background job run, its failure (the exception goes on) and its time."""
        started = time.perf_counter()
        self.job_runs.labels(name).inc()
        try:
            yield
        except BaseException:
            self.job_failures.labels(name).inc()
            raise
        finally:
            self.job_duration.labels(name).observe(time.perf_counter() - started)
        self.job_last_success.labels(name).set(time.time())

    def watch_pool(self, engine: Engine, pool_size: int) -> None:
        """Count checked-out connections of ``engine``'s pool (PostgreSQL)."""
        if engine.dialect.name != "postgresql":
            return
        self.pool_size.inc(pool_size)
        event.listen(engine, "checkout", lambda *_: self.pool_in_use.inc())
        event.listen(engine, "checkin", lambda *_: self.pool_in_use.dec())

    def exposition(self, engine: Engine) -> bytes:
        """The text format: this process's metrics (or every worker's, in multiprocess mode)
        plus the counts read from the database now."""
        if is_multiprocess():
            registry = CollectorRegistry()
            MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        else:
            registry = self.registry
        body = generate_latest(registry)
        db = CollectorRegistry()
        db.register(DatabaseCounts(engine))
        return body + generate_latest(db)

    def close(self) -> None:
        """This process stops: its live gauges no longer count (multiprocess mode)."""
        if is_multiprocess():
            mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


class DatabaseCounts(Collector):
    """Hits and fines by status, read from the database at scrape time."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily(
            "scancar_database_up", "1 when the database answered the scrape's queries"
        )
        hits = GaugeMetricFamily("scancar_hits", "Hits by status", labels=["status"])
        fines = GaugeMetricFamily("scancar_fines", "Fines by status", labels=["status"])
        cars = _car_families()
        try:
            with self.engine.connect() as conn:
                for status, count in conn.execute(_HITS_BY_STATUS):
                    hits.add_metric([str(status)], float(count))
                for status, count in conn.execute(_FINES_BY_STATUS):
                    fines.add_metric([str(status)], float(count))
                for name, seen, backlog, cache_age in conn.execute(_CARS):
                    _add_car(cars, str(name), seen, backlog, cache_age)
        except Exception:  # the scrape still answers; the alert fires on scancar_database_up
            up.add_metric([], 0.0)
            yield up
            return
        up.add_metric([], 1.0)
        yield up
        yield hits
        yield fines
        yield from cars.values()


_HITS_BY_STATUS = text("SELECT status, COUNT(*) FROM hits GROUP BY status")
_FINES_BY_STATUS = text("SELECT status, COUNT(*) FROM fines GROUP BY status")
# every car that is not revoked, with what its last heartbeat said (names are the operator's
# own labels such as "auto-3"; no position)
_CARS = text(
    "SELECT d.name, h.received_at, h.outbox_backlog, h.rights_cache_age_s FROM devices d "
    "LEFT JOIN heartbeats h ON h.id = (SELECT h2.id FROM heartbeats h2 "
    "WHERE h2.device_id = d.id ORDER BY h2.sent_at DESC LIMIT 1) "
    "WHERE d.revoked_at IS NULL"
)


def _car_families() -> dict[str, GaugeMetricFamily]:
    return {
        "seen": GaugeMetricFamily(
            "scancar_car_last_heartbeat_timestamp_seconds",
            "When the backend last received a car's heartbeat (Unix time; 0: never)",
            labels=["device"],
        ),
        "backlog": GaugeMetricFamily(
            "scancar_car_reported_outbox_backlog",
            "Suspects waiting in a car's outbox, as its last heartbeat said",
            labels=["device"],
        ),
        "cache": GaugeMetricFamily(
            "scancar_car_reported_rights_cache_age_seconds",
            "Age of a car's rights cache, as its last heartbeat said",
            labels=["device"],
        ),
    }


def _add_car(
    families: dict[str, GaugeMetricFamily],
    name: str,
    seen: Any,
    backlog: Any,
    cache_age: Any,
) -> None:
    if isinstance(seen, str):  # SQLite hands back text through a plain text() query
        seen = datetime.fromisoformat(seen)
    if isinstance(seen, datetime) and seen.tzinfo is None:
        seen = seen.replace(tzinfo=UTC)
    families["seen"].add_metric([name], seen.timestamp() if seen else 0.0)
    if backlog is not None:
        families["backlog"].add_metric([name], float(backlog))
    if cache_age is not None:
        families["cache"].add_metric([name], float(cache_age))


class MetricsMiddleware:
    """Counts every HTTP request by method, route template and status, with its latency."""

    def __init__(self, app: ASGIApp, metrics: BackendMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.observe_request(
                scope.get("method", ""), template, status, time.perf_counter() - started
            )
