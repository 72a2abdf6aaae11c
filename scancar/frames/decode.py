"""Decode one image file into an OpenCV BGR array, refusing bad input with a clear reason."""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
from PIL import Image as PilImage

from scancar.lpr.errors import BadFrameError
from scancar.lpr.model import Image

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"})
DEFAULT_MAX_PIXELS = 40_000_000  # a 40 MP frame is far beyond any scan-car camera


def _image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from the header only (no decoding), ``None`` when unknown."""
    try:
        with PilImage.open(io.BytesIO(data)) as im:
            w, h = im.size
            return int(w), int(h)
    except (OSError, ValueError, PilImage.DecompressionBombError):
        return None


def decode_image(data: bytes, source: str, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image:
    """Decode image bytes; raise :class:`BadFrameError` naming ``source`` and the reason.

    Refused: empty data, data no decoder understands, images above ``max_pixels`` (checked on
    the header, before decoding) and JPEGs cut short (no end-of-image marker).
    """
    if not data:
        raise BadFrameError(source, "the file is empty (0 bytes)")
    size = _image_size(data)
    if size is not None and size[0] * size[1] > max_pixels:
        raise BadFrameError(
            source,
            f"image is {size[0]}x{size[1]} = {size[0] * size[1]:,} pixels; at most "
            f"{max_pixels:,} are allowed",
        )
    if data[:2] == b"\xff\xd8" and not data.rstrip(b"\x00\r\n").endswith(b"\xff\xd9"):
        raise BadFrameError(source, "JPEG is truncated (no end-of-image marker)")
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None or image.size == 0:
        raise BadFrameError(source, "not a decodable image (allowed: JPEG, PNG, BMP, TIFF, WebP)")
    h, w = image.shape[:2]
    if w * h > max_pixels:
        raise BadFrameError(source, f"image is {w}x{h} pixels; at most {max_pixels:,} are allowed")
    return np.asarray(image, dtype=np.uint8)


def read_image(path: Path, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image:
    """Read and decode an image file (see :func:`decode_image`)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BadFrameError(str(path), f"cannot read the file ({exc.strerror or exc})") from exc
    return decode_image(data, str(path), max_pixels)
