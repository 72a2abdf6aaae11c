"""Test doubles for the plate-reading ports."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np

from scancar.lpr.model import BBox, Frame, Image, OcrText, PlateRead

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class FakePlateReader:
    """Returns the queued texts in order, one per crop; records the crops it was given."""

    def __init__(self, texts: Sequence[OcrText]) -> None:
        self.texts = list(texts)
        self.crops: list[Image] = []

    def read(self, crops: Sequence[Image]) -> list[OcrText]:
        self.crops.extend(crops)
        out, self.texts = self.texts[: len(crops)], self.texts[len(crops) :]
        return out


def ocr(
    text: str,
    conf: float | Sequence[float] = 0.99,
    region: str | None = "Netherlands",
    region_conf: float | None = 0.95,
    length_conf: float = 0.99,
) -> OcrText:
    confs = tuple(conf) if isinstance(conf, Sequence) else (conf,) * len(text)
    return OcrText(text, tuple(float(c) for c in confs), length_conf, region, region_conf)


def frame(index: int, camera: str = "cam0", seconds_per_frame: float = 0.1) -> Frame:
    image = np.full((72, 128, 3), index % 256, dtype=np.uint8)
    return Frame(image, T0 + timedelta(seconds=index * seconds_per_frame), camera, index, "fake")


def plate_read(
    plate: str,
    box: tuple[int, int, int, int] = (10, 10, 60, 22),
    conf: float | Sequence[float] = 0.99,
    *,
    valid: bool = True,
    colour: str = "yellow",
    obstructed: bool = False,
    region: str = "Netherlands",
    two_line: bool = False,
) -> PlateRead:
    confs = tuple(conf) if isinstance(conf, Sequence) else (conf,) * len(plate)
    return PlateRead(
        plate=plate,
        display=plate,
        raw_text=plate,
        country="NL",
        is_foreign=False,
        valid=valid,
        sidecode=None,
        low_confidence=min(confs) < 0.95 or obstructed,
        corrected=False,
        confidence=min(confs),
        char_confidences=tuple(float(c) for c in confs),
        bbox=BBox(*box),
        crop=np.zeros((12, 50, 3), dtype=np.uint8),
        region=region,
        region_confidence=0.95,
        colour=colour,  # type: ignore[arg-type]
        obstruction=0.4 if obstructed else 0.0,
        obstructed=obstructed,
        two_line=two_line,
    )
