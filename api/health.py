"""``/healthz`` (process up) and ``/readyz`` (database reachable, data dir writable)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from api.deps import PUBLIC

router = APIRouter(tags=["health"])


@router.get("/healthz", dependencies=[PUBLIC])
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", dependencies=[PUBLIC])
def readyz(request: Request) -> JSONResponse:
    checks: dict[str, str] = {}
    try:
        with request.app.state.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except SQLAlchemyError as exc:
        checks["database"] = f"unreachable ({type(exc).__name__})"
    store = request.app.state.evidence_store
    checks["data_dir"] = "ok" if store.is_writable() else "not writable"
    ok = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ok" if ok else "unavailable", "checks": checks}, status_code=200 if ok else 503
    )
