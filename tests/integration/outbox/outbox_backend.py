"""A tiny real HTTP backend for the uploader tests (stdlib ``http.server`` in a thread).

It implements the observations contract (201 new, 200 same content again, 409 same id with other
content, 422 invalid, 401 bad token) with idempotency on ``observation_id``, counts every
receipt, and can be scripted to answer the next requests with failures:

``"500"``, ``"503:<retry-after>"``, ``"429:<retry-after>"``, ``"408"``, ``"413"``, ``"422"``,
``"401"``, ``"hang:<seconds>"`` (wait, then process normally: the client times out but the
observation is stored, so the retry must get 200), ``"drop"`` (close the connection without an
answer).
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import json
import threading
import time
from collections import Counter, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from pydantic import ValidationError

from scancar.wire import Heartbeat, ObservationMetadata

TOKEN = "device-token-for-tests"


@dataclass
class BackendState:
    token: str = TOKEN
    script: deque[str] = field(default_factory=deque)
    stored: dict[str, str] = field(default_factory=dict)  # observation id -> content hash
    hit_ids: dict[str, int] = field(default_factory=dict)
    receipts: Counter[str] = field(default_factory=Counter)  # 200/201 answers per id
    posts: Counter[str] = field(default_factory=Counter)  # every observation POST per id
    statuses: list[int] = field(default_factory=list)
    conflicts: int = 0
    heartbeats: list[Heartbeat] = field(default_factory=list)
    idempotency_keys_ok: bool = True
    lock: threading.Lock = field(default_factory=threading.Lock)


def content_hash(metadata_json: bytes, evidence: dict[str, bytes]) -> str:
    """What the backend treats as "the same content" of an observation."""
    digest = hashlib.sha256(metadata_json)
    for name in sorted(evidence):
        digest.update(name.encode() + hashlib.sha256(evidence[name]).digest())
    return digest.hexdigest()


def _parse_multipart(content_type: str, body: bytes) -> dict[str, bytes]:
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
    )
    parts: dict[str, bytes] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):
            parts[name] = payload
    return parts


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        return

    def _answer(self, status: int, body: dict[str, object] | None = None, **headers: str) -> None:
        payload = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key.replace("_", "-"), value)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_POST(self) -> None:
        state = self.server.state
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        if self.path == "/api/v1/devices/heartbeat":
            if self.headers.get("Authorization") != f"Bearer {state.token}":
                self._answer(401, {"detail": "bad token", "code": "unauthorized"})
                return
            with state.lock:
                state.heartbeats.append(Heartbeat.model_validate_json(body))
            self._answer(204)
            return
        if self.path != "/api/v1/observations":
            self._answer(404, {"detail": "not found", "code": "not_found"})
            return
        with state.lock:
            command = state.script.popleft() if state.script else ""
        kind, _, arg = command.partition(":")
        if kind == "drop":
            self.close_connection = True
            self.connection.close()
            return
        if kind == "hang":
            time.sleep(float(arg))
        elif kind in ("500", "408", "413", "422", "401"):
            status = int(kind)
            state.statuses.append(status)
            self._answer(status, {"detail": f"scripted {kind}", "code": f"scripted_{kind}"})
            return
        elif kind in ("503", "429"):
            state.statuses.append(int(kind))
            self._answer(int(kind), {"detail": "busy", "code": "busy"}, Retry_After=arg or "1")
            return
        status, answer = self._observation(body)
        state.statuses.append(status)
        self._answer(status, answer)

    def _observation(self, body: bytes) -> tuple[int, dict[str, object]]:
        state = self.server.state
        if self.headers.get("Authorization") != f"Bearer {state.token}":
            return 401, {"detail": "bad token", "code": "unauthorized"}
        parts = _parse_multipart(self.headers.get("Content-Type", ""), body)
        if "metadata" not in parts:
            return 422, {"detail": "metadata part missing", "code": "invalid"}
        try:
            metadata = ObservationMetadata.model_validate_json(parts["metadata"])
        except ValidationError as exc:
            return 422, {"detail": str(exc)[:300], "code": "invalid"}
        for ref in metadata.evidence:
            data = parts.get(ref.name)
            if data is None or hashlib.sha256(data).hexdigest() != ref.sha256:
                return 422, {"detail": f"evidence {ref.name} missing or wrong", "code": "invalid"}
        oid = str(metadata.observation_id)
        content = content_hash(
            parts["metadata"], {r.name: parts[r.name] for r in metadata.evidence}
        )
        with state.lock:
            state.posts[oid] += 1
            if self.headers.get("Idempotency-Key") != oid:
                state.idempotency_keys_ok = False
            previous = state.stored.get(oid)
            if previous is not None and previous != content:
                state.conflicts += 1
                return 409, {"detail": "same id, different content", "code": "conflict"}
            status = 200 if previous is not None else 201
            if previous is None:
                state.stored[oid] = content
                state.hit_ids[oid] = len(state.hit_ids) + 1
            state.receipts[oid] += 1
            return status, {"id": state.hit_ids[oid], "observation_id": oid, "status": "new"}


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that timed out and closed its socket is expected here; stay quiet."""

    def __init__(self, state: BackendState) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state


@contextmanager
def running_backend(state: BackendState | None = None) -> Iterator[tuple[str, BackendState]]:
    """Serve on a free loopback port; yields ``(base_url, state)``."""
    state = state or BackendState()
    server = _Server(state)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
