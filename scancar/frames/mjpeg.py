"""``MjpegHttpSource``: an IP camera's MJPEG stream over HTTP (``multipart/x-mixed-replace``).

Each part is one JPEG. A frame is stamped with the UTC clock when the first bytes of its part
arrived (before the JPEG is decoded), which is as close to the capture as a camera without
its own time stamps allows. A part that does not decode is logged, counted in ``skipped`` and
skipped. Connection problems raise ``FrameSourceError`` naming the URL and the reason; the
end of the stream simply ends the iteration (the car's camera supervisor reconnects).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import cv2
import httpx
import numpy as np

from scancar.lpr.errors import FrameSourceError
from scancar.lpr.model import Frame

log = logging.getLogger(__name__)

MAX_PART_BYTES = 16 * 1024 * 1024
_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)
_LENGTH = re.compile(rb"content-length:\s*(\d+)", re.IGNORECASE)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class MjpegHttpSource:
    """Frames of one MJPEG-over-HTTP stream; iterate once per connection."""

    def __init__(
        self,
        url: str,
        camera: str = "cam0",
        *,
        connect_timeout_s: float = 5.0,
        read_timeout_s: float = 5.0,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.url = url
        self.camera = camera
        self.timeout = httpx.Timeout(read_timeout_s, connect=connect_timeout_s)
        self._clock = clock
        self._skipped = 0
        self._client: httpx.Client | None = None

    @property
    def skipped(self) -> int:
        return self._skipped

    def close(self) -> None:
        client = self._client
        if client is not None:
            client.close()

    def __iter__(self) -> Iterator[Frame]:
        self._client = httpx.Client(timeout=self.timeout)
        try:
            with self._client.stream("GET", self.url) as response:
                boundary = self._check(response)
                yield from self._parts(response.iter_bytes(), boundary)
        except httpx.TimeoutException as exc:
            raise FrameSourceError(self.url, f"no data ({type(exc).__name__})") from None
        except httpx.HTTPError as exc:
            raise FrameSourceError(self.url, f"{type(exc).__name__}: {exc}") from None
        finally:
            self._client.close()

    def _check(self, response: httpx.Response) -> bytes:
        if response.status_code != 200:
            raise FrameSourceError(self.url, f"the camera answered HTTP {response.status_code}")
        ctype = response.headers.get("content-type", "")
        match = _BOUNDARY.search(ctype)
        if not ctype.lower().startswith("multipart/") or match is None:
            raise FrameSourceError(
                self.url, f"not an MJPEG stream (Content-Type {ctype or 'missing'!r})"
            )
        return b"--" + match.group(1).removeprefix("--").encode("latin-1")

    def _parts(self, chunks: Iterator[bytes], boundary: bytes) -> Iterator[Frame]:
        buffer = b""
        index = 0
        started: datetime | None = None
        for chunk in chunks:
            if started is None:
                started = self._clock()
            buffer += chunk
            while True:
                part, buffer, complete = _take_part(buffer, boundary)
                if not complete:
                    break
                if part is not None:
                    frame = self._decode(part, started or self._clock(), index)
                    index += 1
                    if frame is not None:
                        yield frame
                started = self._clock() if buffer else None
            if len(buffer) > MAX_PART_BYTES:
                raise FrameSourceError(self.url, f"a part larger than {MAX_PART_BYTES} bytes")

    def _decode(self, data: bytes, captured_at: datetime, index: int) -> Frame | None:
        image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
        if image is None:
            self._skipped += 1
            log.warning("camera %s: part %d is not a decodable JPEG; skipped", self.camera, index)
            return None
        return Frame(np.asarray(image, dtype=np.uint8), captured_at, self.camera, index, self.url)


def _take_part(buffer: bytes, boundary: bytes) -> tuple[bytes | None, bytes, bool]:
    """``(jpeg bytes or None, rest, complete)``: one part off the front of ``buffer``.

    ``complete`` is False when more bytes are needed. Parts with a Content-Length header are
    cut by it; others end at the next boundary.
    """
    start = buffer.find(boundary)
    if start < 0:
        return None, buffer[-len(boundary) :], False  # keep a possible partial boundary
    head_end = buffer.find(b"\r\n\r\n", start)
    if head_end < 0:
        return None, buffer[start:], False
    headers = buffer[start + len(boundary) : head_end]
    body_start = head_end + 4
    length = _LENGTH.search(headers)
    if length is not None:
        end = body_start + int(length.group(1))
        if len(buffer) < end:
            return None, buffer[start:], False
        return buffer[body_start:end], buffer[end:], True
    following = buffer.find(boundary, body_start)
    if following < 0:
        return None, buffer[start:], False
    return buffer[body_start:following].rstrip(b"\r\n"), buffer[following:], True
