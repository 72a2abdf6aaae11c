"""Run an app under a real uvicorn on a free loopback port, in a thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_answering(url: str, timeout_s: float = 60.0) -> None:
    """Wait until ``url`` answers 200 (a server starting up); ``AssertionError`` after
    ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"{url} did not answer 200 within {timeout_s:g} s")


@contextmanager
def serve(app: Any, port: int | None = None, **options: Any) -> Iterator[str]:
    """Serve ``app`` on ``port`` (a free one by default) until the block ends; ``options``
    go to ``uvicorn.Config`` (e.g. ``log_config=None`` to see uvicorn's log in ``caplog``)."""
    port = port or free_port()
    # as ``scancar serve``: X-Forwarded-* only through the app's trusted_proxies setting
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        **{"log_level": "warning", "lifespan": "on", "proxy_headers": False, **options},
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    wait_until_answering(f"{base}/healthz", timeout_s=15)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)
