"""``Uploader`` drains the outbox to ``POST /api/v1/observations``; ``HeartbeatSender`` posts
``/api/v1/devices/heartbeat``. Both use an injected ``httpx.Client`` (built in the composition
root), an injectable sleep/clock and a seeded RNG for the jitter.

Response classes (``classify``):

* 200, 201 (and any other 2xx) -> sent: the evidence is deleted from the car;
* 409 -> dead letter ``conflict`` (same observation id, different content);
* 413 -> dead letter ``too_large``; 422 and other 4xx -> dead letter ``rejected`` with the body's
  ``detail`` / ``code``;
* 401, 403 -> ``auth``: nothing is dead-lettered (a bad token is the device's problem, not the
  suspect's); draining stops, an alert is raised and it retries with backoff;
* 408, 429, 5xx, 3xx, network errors and timeouts -> retry with exponential backoff and full
  jitter, honouring ``Retry-After`` on 429/503.

Items are sent strictly in outbox order; a transient failure stops the drain and the whole
queue waits (the backend or the network is down, not one item).
"""

from __future__ import annotations

import enum
import hashlib
import json
import logging
import math
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx
from pydantic import ValidationError

from scancar.outbox.errors import OutboxConfigError
from scancar.outbox.model import OutboxItem
from scancar.outbox.ports import Outbox
from scancar.wire import Heartbeat, ObservationReceipt

log = logging.getLogger(__name__)

OBSERVATIONS_PATH = "/api/v1/observations"
HEARTBEAT_PATH = "/api/v1/devices/heartbeat"


class Outcome(enum.StrEnum):
    SENT = "sent"
    DEAD = "dead"
    RETRY = "retry"
    AUTH = "auth"


def classify(status: int) -> Outcome:
    """What to do with an HTTP status from the observations endpoint."""
    if 200 <= status < 300:
        return Outcome.SENT
    if status in (401, 403):
        return Outcome.AUTH
    if status in (408, 429) or status >= 500 or status < 400:
        return Outcome.RETRY
    return Outcome.DEAD


def dead_reason(status: int) -> str:
    return {409: "conflict", 413: "too_large"}.get(status, "rejected")


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff with full jitter: ``uniform(0, min(max_s, base_s * factor**n))``."""

    base_s: float = 1.0
    factor: float = 2.0
    max_s: float = 300.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.base_s) and self.base_s > 0):
            raise OutboxConfigError("base_s", self.base_s, "a positive number of seconds")
        if not (math.isfinite(self.factor) and self.factor >= 1):
            raise OutboxConfigError("factor", self.factor, "1 or more")
        if not (math.isfinite(self.max_s) and self.max_s >= self.base_s):
            raise OutboxConfigError("max_s", self.max_s, f"at least base_s ({self.base_s})")

    def delay(self, failures: int, rng: random.Random) -> float:
        ceiling = min(self.max_s, self.base_s * self.factor ** max(0, failures - 1))
        return rng.uniform(0.0, ceiling)


def retry_after_s(value: str | None, now: datetime) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


@dataclass(slots=True)
class DrainReport:
    """What one ``drain_once`` did."""

    sent: int = 0
    dead: int = 0
    outcome: Outcome | None = None  # why it stopped early (RETRY / AUTH), None when empty
    retry_after_s: float | None = None
    errors: list[str] = field(default_factory=list)


def _mime(data: bytes) -> str:
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    return "application/octet-stream"


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:500]
    if isinstance(body, dict):
        return json.dumps({k: body.get(k) for k in ("detail", "code") if k in body})[:2000]
    return json.dumps(body)[:2000]


class Uploader:
    """Sends pending suspects in order; see the module docstring for the rules."""

    def __init__(
        self,
        outbox: Outbox,
        client: httpx.Client,
        base_url: str,
        token: str,
        *,
        backoff: Backoff | None = None,
        batch_size: int = 10,
        idle_poll_s: float = 2.0,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        rng: random.Random | None = None,
        on_alert: Callable[[str], None] | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise OutboxConfigError("base_url", base_url, "an http:// or https:// URL")
        if not token:
            raise OutboxConfigError("token", "", "a non-empty device token")
        if batch_size < 1:
            raise OutboxConfigError("batch_size", batch_size, "1 or more")
        self.outbox = outbox
        self.client = client
        self.url = base_url.rstrip("/") + OBSERVATIONS_PATH
        self._token = token
        self.backoff = backoff or Backoff()
        self.batch_size = batch_size
        self.idle_poll_s = idle_poll_s
        self._now = now
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not security
        self._on_alert = on_alert
        self.failures = 0  # consecutive transient failures

    def _send(self, item: OutboxItem) -> httpx.Response | str:
        """POST one item; a string explains an unreadable evidence file."""
        files: list[tuple[str, tuple[str | None, bytes, str]]] = [
            ("metadata", (None, item.metadata_json, "application/json"))
        ]
        for evidence in item.evidence:
            try:
                data = evidence.path.read_bytes()
            except OSError as exc:
                return f"evidence {evidence.name!r} unreadable: {exc}"
            if hashlib.sha256(data).hexdigest() != evidence.sha256:
                return f"evidence {evidence.name!r} does not match its sha256 (corrupted on disk)"
            files.append((evidence.name, (evidence.name, data, _mime(data))))
        headers = {
            "Authorization": f"Bearer {self._token}",
            "Idempotency-Key": str(item.observation_id),
        }
        return self.client.post(self.url, files=files, headers=headers)

    def drain_once(self) -> DrainReport:
        """Send pending items until the outbox is empty or a transient failure stops it."""
        report = DrainReport()
        while True:
            batch = self.outbox.next_batch(self.batch_size)
            if not batch:
                self.failures = 0
                return report
            for item in batch:
                if not self._handle(item, report):
                    return report

    def _handle(self, item: OutboxItem, report: DrainReport) -> bool:
        """Process one item; False stops the drain."""
        oid = item.observation_id
        try:
            response = self._send(item)
        except httpx.HTTPError as exc:  # connect errors, timeouts, protocol errors
            message = f"{type(exc).__name__}: {exc}"
            self.outbox.record_attempt(oid, message)
            report.errors.append(message)
            report.outcome = Outcome.RETRY
            self.failures += 1
            return False
        if isinstance(response, str):
            self.outbox.dead_letter(oid, None, "evidence_unreadable", response)
            report.dead += 1
            return True
        outcome = classify(response.status_code)
        if outcome is Outcome.SENT:
            self.outbox.mark_sent(oid, self._receipt(response, item))
            report.sent += 1
            self.failures = 0
            return True
        if outcome is Outcome.DEAD:
            status = response.status_code
            self.outbox.dead_letter(oid, status, dead_reason(status), _detail(response))
            report.dead += 1
            return True
        message = f"HTTP {response.status_code}: {_detail(response)}"
        self.outbox.record_attempt(oid, message)
        report.errors.append(message)
        report.outcome = outcome
        self.failures += 1
        if outcome is Outcome.AUTH:
            self._alert(f"backend refused the device token ({message}); suspects stay queued")
        if response.status_code in (429, 503):
            report.retry_after_s = retry_after_s(response.headers.get("Retry-After"), self._now())
        return False

    @staticmethod
    def _receipt(response: httpx.Response, item: OutboxItem) -> ObservationReceipt | None:
        try:
            receipt = ObservationReceipt.model_validate_json(response.content)
        except ValidationError:
            log.warning(
                "observation %s: %s without a receipt body",
                item.observation_id,
                response.status_code,
            )
            return None
        if receipt.observation_id != item.observation_id:
            log.warning(
                "observation %s: receipt names %s", item.observation_id, receipt.observation_id
            )
        return receipt

    def _alert(self, message: str) -> None:
        log.error("uploader alert: %s", message)
        if self._on_alert is not None:
            self._on_alert(message)

    def next_delay(self, report: DrainReport) -> float:
        """How long to wait after a drain: backoff (or Retry-After) on failure, else idle poll."""
        if report.outcome is None:
            return self.idle_poll_s
        delay = self.backoff.delay(self.failures, self._rng)
        if report.retry_after_s is not None:
            delay = max(delay, min(report.retry_after_s, self.backoff.max_s))
        return delay

    def run(self, stop: threading.Event) -> None:
        """Drain until ``stop`` is set; never raises on a failed upload."""
        while not stop.is_set():
            try:
                report = self.drain_once()
            except Exception as exc:  # e.g. disk or database trouble: keep the thread alive
                log.exception("uploader: drain failed")
                self.failures += 1
                report = DrainReport(outcome=Outcome.RETRY, errors=[f"{type(exc).__name__}: {exc}"])
            if report.sent or report.dead or report.errors:
                log.info(
                    "uploader: sent %d, dead %d, %s",
                    report.sent,
                    report.dead,
                    report.errors[-1] if report.errors else "queue empty",
                )
            if stop.wait(self.next_delay(report)):
                return


class HeartbeatSender:
    """Posts a ``Heartbeat`` every ``interval_s``; ``snapshot`` gathers the current values."""

    def __init__(
        self,
        client: httpx.Client,
        base_url: str,
        token: str,
        snapshot: Callable[[], Heartbeat],
        *,
        interval_s: float = 60.0,
    ) -> None:
        if not (math.isfinite(interval_s) and interval_s > 0):
            raise OutboxConfigError("interval_s", interval_s, "a positive number of seconds")
        if not base_url.startswith(("http://", "https://")):
            raise OutboxConfigError("base_url", base_url, "an http:// or https:// URL")
        self.client = client
        self.url = base_url.rstrip("/") + HEARTBEAT_PATH
        self._token = token
        self.snapshot = snapshot
        self.interval_s = interval_s
        self.sent = 0
        self.failed = 0
        self.failed_in_a_row = 0

    def _failed(self, message: str) -> None:
        """The first failure of a run of failures is a warning, the rest debug lines."""
        self.failed += 1
        self.failed_in_a_row += 1
        log.log(logging.WARNING if self.failed_in_a_row == 1 else logging.DEBUG, message)

    def send_once(self) -> bool:
        """One heartbeat; True when the backend answered 200/204. Failures are logged only
        (the first of a run as a warning, the recovery once)."""
        heartbeat = self.snapshot()
        try:
            response = self.client.post(
                self.url,
                content=heartbeat.model_dump_json().encode(),
                headers={
                    "Authorization": f"Bearer {self._token}",
                    "Content-Type": "application/json",
                },
            )
        except httpx.HTTPError as exc:
            self._failed(f"heartbeat failed: {type(exc).__name__}: {exc}")
            return False
        if response.status_code in (200, 204):
            if self.failed_in_a_row:
                log.info("heartbeat delivered again after %d failures", self.failed_in_a_row)
            self.sent += 1
            self.failed_in_a_row = 0
            return True
        self._failed(f"heartbeat refused: HTTP {response.status_code} {_detail(response)}")
        return False

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.send_once()
            except Exception:  # a failing snapshot must not stop the heartbeat for good
                self.failed += 1
                self.failed_in_a_row += 1
                log.exception("heartbeat: snapshot or send failed")
            if stop.wait(self.interval_s):
                return
