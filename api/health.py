"""``/healthz`` (process up), ``/readyz`` (database answering, evidence disk writable and not
(nearly) full) and ``/metrics``: what a load balancer, an orchestrator or Prometheus asks."""

from __future__ import annotations

import asyncio
import hmac

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from api.backend import Backend
from api.deps import PUBLIC, BackendDep
from api.errors import Forbidden
from api.evidence.store import EvidenceStore
from api.metrics import CONTENT_TYPE
from api.netaddr import is_allowed_address

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


async def readiness(backend: Backend) -> dict[str, str]:
    """What the service needs, each "ok" or why not: the database, the data directory and
    room on the evidence disk."""
    store = backend.evidence_store
    checks = {"database": await database_state(backend.engine)}
    checks["data_dir"] = "ok" if await run_in_threadpool(store.is_writable) else "not writable"
    settings = backend.settings
    checks["evidence_disk"] = await run_in_threadpool(
        evidence_disk_state, store, settings.evidence_min_free_mb, settings.max_image_bytes
    )
    return checks


@router.get("/readyz", dependencies=[PUBLIC])
async def readyz(backend: BackendDep) -> JSONResponse:
    checks = await readiness(backend)
    ok = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ok" if ok else "unavailable", "checks": checks}, status_code=200 if ok else 503
    )


def metrics_router() -> APIRouter:
    """``GET /metrics``: for the addresses in ``SCANCAR_METRICS_ALLOW_FROM`` or a bearer of
    ``SCANCAR_METRICS_TOKEN``; 403 with the usual error body otherwise."""
    router = APIRouter(tags=["health"])

    @router.get("/metrics", dependencies=[PUBLIC], include_in_schema=False)
    async def metrics(request: Request, backend: BackendDep) -> Response:
        settings = backend.settings
        token = settings.metrics_token
        sent = request.headers.get("authorization", "")
        by_token = bool(token) and hmac.compare_digest(sent.encode(), f"Bearer {token}".encode())
        client = request.client.host if request.client else None
        if not (by_token or is_allowed_address(client, settings.metrics_networks)):
            raise Forbidden(
                "metrics are served to the addresses in SCANCAR_METRICS_ALLOW_FROM or with "
                "the bearer token SCANCAR_METRICS_TOKEN",
                code="metrics_forbidden",
            )
        body = await run_in_threadpool(backend.metrics.exposition, backend.engine)
        return Response(body, media_type=CONTENT_TYPE)

    return router
