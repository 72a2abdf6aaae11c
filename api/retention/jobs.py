"""The background work of a server process: the grace step, the permit expiry, the purge, the
removal of ended sessions and spent login counters and of stale BOA positions, every
``background_interval_s``. Safe with several processes: the steps use row locks (the expiry
step the rights write lock) and conditional updates, so running them twice at once changes
nothing twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from api.auth.sessions import purge_auth_state
from api.controlroom.jobs import run_position_expiry
from api.permits.jobs import ExpiryReport, run_expiry_step
from api.retention.service import PurgeReport, run_purge
from api.review.service import GraceReport, run_grace_step

if TYPE_CHECKING:
    from api.backend import Backend

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TickReport:
    grace: GraceReport | None
    expiry: ExpiryReport | None
    purge: PurgeReport | None


def tick(backend: Backend, *, now: datetime | None = None) -> TickReport:
    """One run of the grace step, the permit expiry and the purge with the backend's parts
    (the server's, or a command's). A step that fails is logged and reported as None; the
    others still run. The purge stops after ``purge_max_seconds`` and looks at a sixteenth
    of the evidence folder for orphan files (all of it every 16 minutes); the next run goes
    on."""
    grace: GraceReport | None = None
    expiry: ExpiryReport | None = None
    purge: PurgeReport | None = None
    job = backend.metrics.job
    try:
        with job("grace"):
            grace = run_grace_step(
                backend.engine,
                backend.evidence_store,
                backend.rights_checker,
                backend.zone_rules,
                backend.settings,
                now=now,
            )
    except Exception:
        log.exception("background job: grace step failed")
    try:
        with job("permit_expiry"):
            expiry = run_expiry_step(backend.engine, now=now)
    except Exception:
        log.exception("background job: permit expiry failed")
    try:
        with job("purge"):
            purge = run_purge(
                backend.engine,
                backend.evidence_store,
                backend.settings,
                now=now,
                max_seconds=backend.settings.purge_max_seconds,
                orphans="slice",
            )
    except Exception:
        log.exception("background job: purge failed")
    try:
        purge_auth_state(backend.engine, backend.settings, now)
    except Exception:
        log.exception("background job: session and login-counter purge failed")
    try:
        run_position_expiry(backend.engine, backend.settings, now=now)
    except Exception:
        log.exception("background job: clearing stale BOA positions failed")
    return TickReport(grace, expiry, purge)


async def _loop(backend: Backend, interval_s: float, stop: asyncio.Event) -> None:
    while not stop.is_set():
        await asyncio.to_thread(tick, backend)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval_s)


@asynccontextmanager
async def background_jobs(backend: Backend) -> AsyncIterator[None]:
    """Run the job loop while the app lives (only when ``settings.run_background_jobs``).

    On shutdown the loop finishes the run in progress (its thread holds a database session)
    before the app disposes of the engine.
    """
    settings = backend.settings
    if not settings.run_background_jobs:
        yield
        return
    stop = asyncio.Event()
    task = asyncio.create_task(_loop(backend, settings.background_interval_s, stop))
    try:
        yield
    finally:
        stop.set()
        await task
