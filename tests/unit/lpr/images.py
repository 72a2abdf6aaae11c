"""Plate crops as the OCR sees them (plate plus margin), with things in front of the plate."""

from __future__ import annotations

import cv2
import numpy as np

from fixtures.synth import render_plate

CAR_GREY = (70, 75, 80)


def plate_crop(text: str = "GZ123T", style: str = "nl", seed: int = 3) -> np.ndarray:
    """A 260 x 55 plate with the OCR margin (8% / 18% per side) of car body around it."""
    plate = render_plate(text, style, rng=np.random.default_rng(seed))
    small = cv2.resize(plate, (260, 55), interpolation=cv2.INTER_AREA)
    return cv2.copyMakeBorder(small, 10, 10, 21, 21, cv2.BORDER_CONSTANT, value=CAR_GREY)


def with_pole(crop: np.ndarray, x: int, width: int, grey: int = 105) -> np.ndarray:
    """A sign post in front of the plate, over the whole crop height."""
    out = crop.copy()
    cv2.rectangle(out, (x, 0), (x + width - 1, out.shape[0] - 1), (grey, grey, grey), -1)
    return out


def with_glare(crop: np.ndarray, cx: float, cy: float, peak: float) -> np.ndarray:
    """A bright reflection (the synthetic generator's shape) blended towards white."""
    h, w = crop.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r = ((xx - cx) / 28.0) ** 2 + ((yy - cy) / 26.0) ** 2
    alpha = np.clip(peak * np.exp(-(r**1.5)), 0.0, 1.0)[..., None]
    return (crop * (1.0 - alpha) + 255.0 * alpha).astype(np.uint8)
