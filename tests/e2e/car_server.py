"""The backend for the car's e2e tests: a real uvicorn on a chosen loopback port, zones loaded."""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.server import serve

REPO = Path(__file__).resolve().parents[2]
TOWN = REPO / "fixtures" / "zones" / "town.geojson"


def load_town_zones(engine: Any) -> None:
    from api.db import session_scope
    from api.zones.service import import_zones

    with session_scope(engine) as session:
        import_zones(
            session,
            json.loads(TOWN.read_text(encoding="utf-8")),
            None,
            crs=None,
            fix=False,
            actor_name="test",
        )


def serve_on(app: Any, port: int) -> AbstractContextManager[str]:
    """The app under a real uvicorn on ``port`` (the car test stops and restarts it there)."""
    return serve(app, port)


def hits(base: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    r = httpx.get(f"{base}/api/v1/hits", params={"limit": 500}, headers=headers, timeout=10)
    r.raise_for_status()
    return list(r.json()["data"])
