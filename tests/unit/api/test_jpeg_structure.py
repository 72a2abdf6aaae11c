"""The structural JPEG check that replaces a full decode on the ingest path."""

from __future__ import annotations

import io
import os
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from api.evidence.images import ImageLimits, InvalidImage, check_jpeg_structure, inspect_image

DEV_FRAMES = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "plates-nl-dev"
LIMITS = ImageLimits(max_pixels=50_000_000, max_decoded_bytes=256 * 1024 * 1024)


def _noise(seed: int, w: int = 160, h: int = 120) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, size=(h, w, 3), dtype=np.uint8)


def _cv2_jpeg(seed: int, **params: int) -> bytes:
    flags = [int(k) for kv in params.items() for k in (getattr(cv2, kv[0]), kv[1])]
    ok, buf = cv2.imencode(".jpg", _noise(seed), flags)
    assert ok
    return buf.tobytes()


def _pil_jpeg(seed: int, *, gray: bool = False, **options: object) -> bytes:
    pixels = _noise(seed)[:, :, 0] if gray else _noise(seed)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="JPEG", **options)
    return out.getvalue()


VALID = {
    "opencv": _cv2_jpeg(1),
    "opencv-restart-markers": _cv2_jpeg(2, IMWRITE_JPEG_RST_INTERVAL=4),
    "opencv-progressive": _cv2_jpeg(3, IMWRITE_JPEG_PROGRESSIVE=1),
    "pil-progressive": _pil_jpeg(4, progressive=True, quality=80),
    "pil-optimized-exif": _pil_jpeg(5, optimize=True, exif=Image.Exif()),
    "pil-grayscale": _pil_jpeg(6, gray=True),
}


@pytest.mark.parametrize("name", sorted(VALID))
def test_jpeg_structure_accepts_valid_encodings(name):
    data = VALID[name]
    check_jpeg_structure(data)
    info = inspect_image(data, LIMITS)
    assert (info.content_type, info.width, info.height) == ("image/jpeg", 160, 120)


@pytest.mark.parametrize("name", ["opencv", "opencv-restart-markers", "pil-progressive"])
def test_jpeg_structure_refuses_every_truncation(name):
    data = VALID[name]
    accepted = []
    for cut in range(0, len(data) - 1, max(1, len(data) // 300)):
        try:
            check_jpeg_structure(data[:cut])
        except InvalidImage:
            continue
        accepted.append(cut)
    assert accepted == []


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "start-of-image"),
        (b"<html><script>alert(1)</script></html>", "start-of-image"),
        (b"\xff\xd8\xff\xd9", "no frame header"),
        (b"\xff\xd8\xff\xe0\x00\x01", "bad segment"),
        (VALID["opencv"][:-2], "truncated"),
        (VALID["opencv"][:-2] + b"\x00\x00", "truncated"),
    ],
    ids=["empty", "html", "no-frame", "bad-length", "no-eoi", "eoi-overwritten"],
)
def test_jpeg_structure_names_the_fault(data, words):
    with pytest.raises(InvalidImage, match=words):
        check_jpeg_structure(data)


def test_jpeg_structure_refuses_a_second_image_spliced_into_the_scan():
    first, second = VALID["opencv"], VALID["pil-progressive"]
    sos = first.index(b"\xff\xda")
    spliced = first[: sos + 200] + second[2:60] + first[sos + 200 :]
    with pytest.raises(InvalidImage):
        check_jpeg_structure(spliced)


def test_jpeg_structure_accepts_bytes_after_the_end_marker():
    """Some cameras pad after EOI; the image itself is complete."""
    check_jpeg_structure(VALID["opencv"] + b"\x00" * 16)


def test_jpeg_structure_accepts_real_camera_frames():
    if not DEV_FRAMES.exists():
        if os.environ.get("CI"):
            pytest.fail(f"CI needs {DEV_FRAMES}")
        pytest.skip(f"{DEV_FRAMES} not present")
    frames = sorted(p for p in DEV_FRAMES.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg"))
    assert len(frames) >= 20
    for path in frames:
        data = path.read_bytes()
        check_jpeg_structure(data)
        with pytest.raises(InvalidImage):
            check_jpeg_structure(data[: len(data) // 2])
