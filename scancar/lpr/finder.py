"""Plate finders and the one place that builds the configured one.

* ``opencv``: :class:`OpenCvPlateFinder`, the colour and edge proposals of
  :mod:`scancar.lpr.candidates`;
* ``text``: :class:`~scancar.lpr.textfinder.TextPlateFinder` on the learned DB text detector;
* ``combined``: the union of both (:class:`~scancar.lpr.textfinder.CombinedPlateFinder`).

The composition roots (``scancar read``, the car) call :func:`build_plate_finder` with the
``SCANCAR_PLATE_FINDER`` / ``SCANCAR_TEXT_DETECTOR_MODEL`` settings; the default is the
configuration that measured best (docs/lpr.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, get_args

from scancar.lpr.candidates import FinderSettings, find_candidates
from scancar.lpr.errors import InvalidSettingError
from scancar.lpr.model import Candidate, Image
from scancar.lpr.ports import PlateFinder

FinderKind = Literal["opencv", "text", "combined"]
FINDER_KINDS: tuple[str, ...] = get_args(FinderKind)
DEFAULT_FINDER: FinderKind = "combined"


class OpenCvPlateFinder:
    def __init__(self, settings: FinderSettings | None = None) -> None:
        self.settings = settings or FinderSettings()

    def find(self, image: Image) -> list[Candidate]:
        return find_candidates(image, self.settings)


def build_plate_finder(
    kind: str = DEFAULT_FINDER,
    *,
    text_model: str | Path | None = None,
    settings: FinderSettings | None = None,
    threads: int = 1,
) -> PlateFinder:
    """The finder named ``kind`` (one of :data:`FINDER_KINDS`). ``text_model``: another DB text
    detector ``.onnx`` instead of the packaged default. Raises ``InvalidSettingError`` for an
    unknown kind and ``DetectorModelError`` when the detector model cannot be loaded."""
    if kind not in FINDER_KINDS:
        raise InvalidSettingError("plate finder", kind, ", ".join(FINDER_KINDS))
    finder_settings = settings or FinderSettings()
    opencv = OpenCvPlateFinder(finder_settings)
    if kind == "opencv":
        return opencv
    from scancar.lpr.textdetect import load_text_detector
    from scancar.lpr.textfinder import CombinedPlateFinder, TextFinderSettings, TextPlateFinder

    detector = load_text_detector(text_model, threads=threads)
    text = TextPlateFinder(detector, TextFinderSettings(finder=finder_settings))
    if kind == "text":
        return text
    return CombinedPlateFinder((opencv, text), finder_settings.max_candidates)
