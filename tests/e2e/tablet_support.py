"""Evidence that looks like a scan car's: a street frame with the plate (the project's own
seeded synthetic generator) and the plate crop cut from it at the car's resolution."""

from __future__ import annotations

from functools import lru_cache

import cv2

from fixtures.synth.frames import generate_frame
from fixtures.synth.model import FrameSpec, PlateRequest


@lru_cache(maxsize=16)
def street_evidence(plate: str, seed: int) -> dict[str, tuple[str, bytes]]:
    """``{"plate": ("plate", jpeg), "overview": ("overview", jpeg)}`` for ``observation()``."""
    spec = FrameSpec(size=(1280, 720), n_plates=1, plates=(PlateRequest(plate),), jpeg_quality=88)
    frame = generate_frame(spec, seed)
    x0, y0, x1, y1 = frame.truth.plates[0].bbox
    h, w = frame.image.shape[:2]
    crop = frame.image[max(0, y0 - 8) : min(h, y1 + 8), max(0, x0 - 12) : min(w, x1 + 12)]
    ok_crop, crop_jpeg = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, 92])
    ok_frame, frame_jpeg = cv2.imencode(".jpg", frame.image, [cv2.IMWRITE_JPEG_QUALITY, 88])
    assert ok_crop
    assert ok_frame
    return {
        "plate": ("plate", crop_jpeg.tobytes()),
        "overview": ("overview", frame_jpeg.tobytes()),
    }
