"""The slow-body guard stops at the end of the body: a long answer that streams out while it
waits for the client's disconnect (an export) is not cut off as a slow request."""

from __future__ import annotations

import asyncio

from api.middleware import BodyLimitsMiddleware


def test_body_limits_leave_a_long_streaming_answer_alone():
    events: list[str] = []

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        body = await receive()
        events.append(f"body {body['body']!r}")
        await send({"type": "http.response.start", "status": 200, "headers": []})
        message = await receive()  # what StreamingResponse does while it streams
        events.append(message["type"])
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    messages = [
        {"type": "http.request", "body": b"q", "more_body": False},
        {"type": "http.disconnect"},
    ]

    async def receive():  # type: ignore[no-untyped-def]
        message = messages.pop(0)
        if message["type"] == "http.disconnect":
            await asyncio.sleep(0.2)  # the answer takes far longer than the read timeout
        return message

    sent: list[dict] = []

    async def send(message):  # type: ignore[no-untyped-def]
        sent.append(message)

    guard = BodyLimitsMiddleware(app, max_bytes=100, read_timeout_s=0.05)
    asyncio.run(guard({"type": "http", "headers": []}, receive, send))
    assert events == ["body b'q'", "http.disconnect"]
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]


def test_body_limits_still_cut_off_a_slow_body():
    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        while (await receive()).get("more_body"):
            pass

    async def receive():  # type: ignore[no-untyped-def]
        await asyncio.sleep(0.2)
        return {"type": "http.request", "body": b"x", "more_body": True}

    sent: list[dict] = []

    async def send(message):  # type: ignore[no-untyped-def]
        sent.append(message)

    guard = BodyLimitsMiddleware(app, max_bytes=100, read_timeout_s=0.05)
    asyncio.run(guard({"type": "http", "headers": []}, receive, send))
    assert sent[0]["status"] == 408
