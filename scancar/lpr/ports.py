"""Ports of the plate-reading package: what the pipeline needs, not how it is done.

Adapters: :class:`scancar.frames.sources.ImageFolderSource` & co. (``FrameSource``),
:class:`scancar.lpr.finder.OpenCvPlateFinder` / :class:`scancar.lpr.detector.OnnxPlateDetector`
(``PlateFinder``), :class:`scancar.lpr.fastplate.FastPlateReader` (``PlateReader``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

from scancar.lpr.model import Candidate, Frame, Image, OcrText


class FrameSource(Protocol):
    """Frames of one camera in capture order. Bad frames are logged, counted and skipped."""

    camera: str

    @property
    def skipped(self) -> int:
        """Frames that could not be decoded so far."""
        ...

    def __iter__(self) -> Iterator[Frame]: ...


class PlateFinder(Protocol):
    """Boxes that may hold a plate, best first."""

    def find(self, image: Image) -> list[Candidate]: ...


class PlateReader(Protocol):
    """Reads plate crops (BGR), one :class:`OcrText` per crop, in order."""

    def read(self, crops: Sequence[Image]) -> list[OcrText]: ...
