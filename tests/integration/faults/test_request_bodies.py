"""Request bodies under a real server: a made-up device token is refused before the body,
uploads cut short leave no traceback, a slow body is cut off with 408.

Raw sockets on loopback: the client sends exactly the bytes the test says, and no more.
"""

from __future__ import annotations

import logging
import socket
import time

import httpx
import pytest

from tests.e2e.server import serve
from tests.factories import multipart, observation

pytestmark = [pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]
FAKE_DEVICE_TOKEN = "scd_" + "A" * 43


def _connect(base: str) -> socket.socket:
    host, port = base.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    return sock


def _head(path: str, token: str, length: int, ctype: str = "application/json") -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: scancar\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: {ctype}\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


def _answer(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (10 s at most)."""
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            return data + b"<no close>"
        if not chunk:
            return data
        data += chunk


def _upload_bytes(accounts_token: str) -> bytes:
    meta, parts = observation()
    request = httpx.Request(
        "POST",
        "http://scancar/api/v1/observations",
        files=multipart(meta, parts),
        headers={"Authorization": f"Bearer {accounts_token}"},
    )
    return request.read(), request.headers["content-type"]


def _no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    tracebacks = [r for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]
    assert tracebacks == [], [r.getMessage() for r in tracebacks]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize(
    ("path", "ctype"),
    [
        ("/api/v1/observations", "multipart/form-data; boundary=x"),
        ("/api/v1/devices/heartbeat", "application/json"),
    ],
)
def test_fake_device_token_is_refused_before_the_body(app, path, ctype, caplog):
    with serve(app, log_config=None) as base, caplog.at_level(logging.INFO):
        sock = _connect(base)
        # headers announcing 20 MB, and not one byte of the body
        sock.sendall(_head(path, FAKE_DEVICE_TOKEN, 20_000_000, ctype))
        answer = _answer(sock)
        sock.close()
    assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
    assert b'"code":"not_authenticated"' in answer.replace(b" ", b"")
    assert b"www-authenticate: Bearer" in answer.lower().replace(b"bearer", b"Bearer")
    _no_traceback(caplog)


def test_uploads_cut_short_leave_no_traceback(app, accounts, caplog):
    real = accounts.device("car-cut")
    body, ctype = _upload_bytes(real)
    with serve(app, log_config=None) as base, caplog.at_level(logging.DEBUG):
        for token in (FAKE_DEVICE_TOKEN, real, "not-a-token"):
            sock = _connect(base)
            sock.sendall(_head("/api/v1/observations", token, len(body), ctype))
            sock.sendall(body[: len(body) // 3])
            sock.close()  # gone in the middle of the body
        time.sleep(0.5)  # let the server notice
        ok = httpx.post(
            f"{base}/api/v1/observations",
            content=body,
            headers={"Authorization": f"Bearer {real}", "Content-Type": ctype},
        )
        assert ok.status_code == 201, ok.text
    _no_traceback(caplog)


def test_slow_body_is_cut_off_with_408(settings, engine, accounts, caplog):
    from api.main import create_app

    settings.body_read_timeout_s = 1.0
    settings.body_min_bytes_per_s = 1024
    app = create_app(settings, engine=engine)
    token = accounts.device("car-slow")
    with serve(app, log_config=None) as base, caplog.at_level(logging.INFO):
        # 1: stops sending after a few bytes
        stalled = _connect(base)
        stalled.sendall(_head("/api/v1/devices/heartbeat", token, 5000) + b'{"sent_at"')
        answer = _answer(stalled)
        stalled.close()
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        assert b"request_timeout" in answer
        # 2: a byte every 0.2 s never waits a whole timeout, but is far under the rate
        trickle = _connect(base)
        trickle.sendall(_head("/api/v1/devices/heartbeat", token, 5000))
        trickle.settimeout(0.2)
        answer = b""
        for _ in range(100):  # 20 s at most
            try:
                trickle.sendall(b" ")
                answer += trickle.recv(65536)
            except TimeoutError:
                continue
            except OSError:  # closed by the server
                break
            if answer:
                break
        trickle.close()
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        # a normal client is not affected
        r = httpx.post(
            f"{base}/api/v1/devices/heartbeat",
            json={"sent_at": "2026-11-26T10:00:00+00:00"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert r.status_code == 204
    _no_traceback(caplog)
