"""``/healthz`` (process up) and ``/readyz`` (database answering, evidence disk writable and
not (nearly) full): what a load balancer or an orchestrator asks."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from api.deps import PUBLIC
from api.evidence.store import EvidenceStore

router = APIRouter(tags=["health"])
# /readyz answers within this long even when the database does not (the watchdog frees the
# waiting connection later)
READY_DB_WAIT_S = 3.0
MB = 1024 * 1024


@router.get("/healthz", dependencies=[PUBLIC])
def healthz() -> dict[str, str]:
    return {"status": "ok"}


def _ping(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


async def database_state(engine: Engine) -> str:
    try:
        await asyncio.wait_for(run_in_threadpool(_ping, engine), READY_DB_WAIT_S)
    except TimeoutError:
        return f"not answering (no answer within {READY_DB_WAIT_S:g} s)"
    except SQLAlchemyError as exc:
        return f"unreachable ({type(exc).__name__})"
    return "ok"


def evidence_disk_state(store: EvidenceStore, min_free_mb: float, max_image_bytes: int) -> str:
    """ "ok", or "full" (not even one more image fits) / "nearly full" (under the minimum)."""
    free = store.free_bytes()
    if free is not None and free < min_free_mb * MB:
        word = "full" if free < max_image_bytes else "nearly full"
        return f"{word} ({free / MB:.1f} MB free; at least {min_free_mb:g} MB wanted)"
    return "ok"


async def readiness(state: Any) -> dict[str, str]:
    """What the service needs, each "ok" or why not: the database, the data directory and
    room on the evidence disk (``state``: the app's state)."""
    store: EvidenceStore = state.evidence_store
    checks = {"database": await database_state(state.engine)}
    checks["data_dir"] = "ok" if await run_in_threadpool(store.is_writable) else "not writable"
    settings = state.settings
    checks["evidence_disk"] = await run_in_threadpool(
        evidence_disk_state, store, settings.evidence_min_free_mb, settings.max_image_bytes
    )
    return checks


@router.get("/readyz", dependencies=[PUBLIC])
async def readyz(request: Request) -> JSONResponse:
    checks = await readiness(request.app.state)
    ok = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ok" if ok else "unavailable", "checks": checks}, status_code=200 if ok else 503
    )
