"""Running candidate search one frame ahead in a background thread."""

from __future__ import annotations

import threading

import pytest

from scancar.lpr.model import BBox, Candidate, Image
from scancar.lpr.recognizer import PlateRecognizer
from scancar.lpr.stream import find_ahead, recognise_stream
from tests.unit.lpr.fakes import FakePlateReader, frame, ocr


class CountingFinder:
    def __init__(self) -> None:
        self.threads: set[str] = set()

    def find(self, image: Image) -> list[Candidate]:
        self.threads.add(threading.current_thread().name)
        return [Candidate(BBox(10, 10, 100, 30), 1.0, "edge")]


def test_recognise_stream_keeps_frame_order_and_finds_in_the_background():
    finder = CountingFinder()
    reader = FakePlateReader([ocr(t) for t in ("GZ123T", "XK52GV", "5TXB21")])
    rec = PlateRecognizer(reader, finder)
    out = [
        (f.index, [r.plate for r in reads])
        for f, reads in recognise_stream(rec, (frame(i) for i in range(3)))
    ]
    assert out == [(0, ["GZ123T"]), (1, ["XK52GV"]), (2, ["5TXB21"])]
    assert finder.threads == {"lpr-find-ahead"}


def test_find_ahead_raises_a_source_error_in_the_caller():
    def frames():
        yield frame(0)
        raise OSError("camera unplugged")

    rec = PlateRecognizer(FakePlateReader([]), CountingFinder())
    gen = find_ahead(rec, frames())
    assert next(gen)[0].index == 0
    with pytest.raises(OSError, match="camera unplugged"):
        next(gen)


def test_find_ahead_stops_its_thread_when_the_caller_stops_early():
    rec = PlateRecognizer(FakePlateReader([]), CountingFinder())
    gen = find_ahead(rec, (frame(i) for i in range(1000)), depth=2)
    assert next(gen)[0].index == 0
    gen.close()
    assert not any(t.name == "lpr-find-ahead" for t in threading.enumerate())
