"""Recognise a stream of frames on two cores: decoding and candidate search run one frame
ahead in a background thread while the caller's thread runs the OCR, rules and tracking.

OpenCV and onnxruntime release the GIL in their heavy calls, so the two threads overlap.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator

from scancar.lpr.model import Candidate, Frame, PlateRead
from scancar.lpr.recognizer import PlateRecognizer

_DONE = object()


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def find_ahead(
    recognizer: PlateRecognizer, frames: Iterable[Frame], depth: int = 4
) -> Iterator[tuple[Frame, list[Candidate]]]:
    """``(frame, candidates)`` in order; iterating ``frames`` (decoding) and finding candidates
    happen in a background thread, at most ``depth`` frames ahead. An exception there is
    raised here; leaving the loop early stops the thread."""
    q: queue.Queue[object] = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
            except queue.Full:
                continue
            return True
        return False

    def work() -> None:
        try:
            for frame in frames:
                if not put((frame, recognizer.find(frame))):
                    return
        except BaseException as exc:  # handed to the consumer thread, raised there
            put(_Failure(exc))
            return
        put(_DONE)

    thread = threading.Thread(target=work, name="lpr-find-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.exc
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        thread.join(timeout=5.0)


def recognise_stream(
    recognizer: PlateRecognizer, frames: Iterable[Frame], depth: int = 4
) -> Iterator[tuple[Frame, list[PlateRead]]]:
    """``(frame, reads)`` for every frame, in order (see :func:`find_ahead`)."""
    for frame, candidates in find_ahead(recognizer, frames, depth):
        yield frame, recognizer.read(frame.image, candidates)
