"""The backend for the car's e2e tests: a real uvicorn on a chosen loopback port, zones loaded."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn

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


@contextmanager
def serve_on(app: Any, port: int) -> Iterator[str]:
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.05)
    else:
        raise RuntimeError("uvicorn did not start")
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def hits(base: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    r = httpx.get(f"{base}/api/v1/hits", params={"limit": 500}, headers=headers, timeout=10)
    r.raise_for_status()
    return list(r.json()["data"])
