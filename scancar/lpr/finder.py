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


DEFAULT_DETECTOR_SIZE = 512  # the text detector's input, longer side (docs/lpr.md: speed)
DEFAULT_DETECTOR_ROI_TOP = 0.3  # the top 30 % of a frame (sky, upper façades) is not searched
DEFAULT_DETECTOR_EVERY = 1  # camera frames: the text detector runs on every n-th frame


def build_plate_finder(
    kind: str = DEFAULT_FINDER,
    *,
    text_model: str | Path | None = None,
    detector_size: int = DEFAULT_DETECTOR_SIZE,
    roi_top: float = DEFAULT_DETECTOR_ROI_TOP,
    detector_every: int = DEFAULT_DETECTOR_EVERY,
    settings: FinderSettings | None = None,
    threads: int = 1,
) -> PlateFinder:
    """The finder named ``kind`` (one of :data:`FINDER_KINDS`). ``text_model``: another DB text
    detector ``.onnx`` instead of the packaged default; ``detector_size`` / ``roi_top``: its
    input size and the band of the frame it searches (:class:`TextDetectorSettings`);
    ``detector_every``: on camera frames, the detector runs on every n-th frame only. Raises
    ``InvalidSettingError`` for an unknown kind or a bad value and ``DetectorModelError`` when
    the detector model cannot be loaded."""
    if kind not in FINDER_KINDS:
        raise InvalidSettingError("plate finder", kind, ", ".join(FINDER_KINDS))
    finder_settings = settings or FinderSettings()
    opencv = OpenCvPlateFinder(finder_settings)
    if kind == "opencv":
        return opencv
    from scancar.lpr.textdetect import TextDetectorSettings, load_text_detector
    from scancar.lpr.textfinder import CombinedPlateFinder, TextFinderSettings, TextPlateFinder

    detector_settings = TextDetectorSettings(max_side=detector_size, roi_top=roi_top)
    detector = load_text_detector(text_model, threads=threads, settings=detector_settings)
    text = TextPlateFinder(detector, TextFinderSettings(finder=finder_settings))
    if kind == "text":
        return text
    return CombinedPlateFinder(
        (opencv, text), 2 * finder_settings.max_candidates, later_every=detector_every
    )
