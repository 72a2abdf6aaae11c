"""The default plate finder: OpenCV candidates (see :mod:`scancar.lpr.candidates`)."""

from __future__ import annotations

from scancar.lpr.candidates import FinderSettings, find_candidates
from scancar.lpr.model import Candidate, Image


class OpenCvPlateFinder:
    def __init__(self, settings: FinderSettings | None = None) -> None:
        self.settings = settings or FinderSettings()

    def find(self, image: Image) -> list[Candidate]:
        return find_candidates(image, self.settings)
