"""PNG checks without a decode: the decoded-bytes limit, the structure, the memory bound, and
at most N checks at once."""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from api.evidence import images
from api.evidence.images import (
    ImageChecker,
    ImageChecksBusy,
    ImageLimits,
    InvalidImage,
    inspect_image,
)

MB = 1024 * 1024
LIMITS = ImageLimits(max_pixels=50_000_000, max_decoded_bytes=64 * MB)
ADAM7 = (
    (0, 0, 8, 8),
    (4, 0, 8, 8),
    (0, 4, 4, 8),
    (2, 0, 4, 4),
    (0, 2, 2, 4),
    (1, 0, 2, 2),
    (0, 1, 1, 2),
)


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def encode_png(pixels: np.ndarray, colour: int, depth: int, *, interlaced: bool = False) -> bytes:
    """A small PNG encoder (filter 0 rows), so the tests can make what PIL cannot write:
    interlaced and 16-bit images. PIL decodes its output (checked below)."""
    height, width = pixels.shape[:2]
    dtype = ">u2" if depth == 16 else "u1"

    def rows(sub: np.ndarray) -> bytes:
        out = b""
        for row in sub:
            if depth < 8:
                raw = np.packbits(np.unpackbits(row.astype("u1")[:, None], axis=1)[:, -depth:])
                out += b"\0" + raw.tobytes()
            else:
                out += b"\0" + row.astype(dtype).tobytes()
        return out

    passes = ADAM7 if interlaced else ((0, 0, 1, 1),)
    raw = b"".join(
        rows(pixels[y0::dy, x0::dx]) for x0, y0, dx, dy in passes if x0 < width and y0 < height
    )
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, int(interlaced))
    plte = _chunk(b"PLTE", bytes(range(256)) * 3) if colour == 3 else b""
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", ihdr)
        + plte
        + _chunk(b"IDAT", zlib.compress(raw))
        + _chunk(b"IEND", b"")
    )


CASES = [  # (colour type, bit depth, channels)
    (0, 1, 1),
    (0, 4, 1),
    (0, 8, 1),
    (0, 16, 1),
    (2, 8, 3),
    (2, 16, 3),
    (3, 8, 1),
    (3, 2, 1),
    (4, 8, 2),
    (6, 8, 4),
    (6, 16, 4),
]


@pytest.mark.parametrize("interlaced", [False, True])
@pytest.mark.parametrize(("colour", "depth", "channels"), CASES)
def test_png_valid_images_pass_and_pil_agrees(colour, depth, channels, interlaced):
    rng = np.random.default_rng(colour * 100 + depth)
    shape = (13, 29, channels) if channels > 1 else (13, 29)
    pixels = rng.integers(0, 2**depth, size=shape)
    data = encode_png(pixels, colour, depth, interlaced=interlaced)
    with Image.open(io.BytesIO(data)) as img:
        img.load()  # the encoder writes real PNGs
        assert img.size == (29, 13)
    info = inspect_image(data, LIMITS)
    assert (info.content_type, info.width, info.height) == ("image/png", 29, 13)


def test_png_pil_written_images_pass():
    for mode in ("L", "RGB", "RGBA", "P", "1", "I;16"):
        buf = io.BytesIO()
        Image.new(mode, (101, 57)).save(buf, format="PNG", optimize=True)
        assert inspect_image(buf.getvalue(), LIMITS).width == 101


def _valid() -> bytes:
    rng = np.random.default_rng(3)
    return encode_png(rng.integers(0, 255, size=(40, 60, 3)), 2, 8)


def test_png_every_truncation_is_refused():
    data = _valid()
    accepted = [cut for cut in range(8, len(data) - 1) if _accepts(data[:cut])]
    assert accepted == []


def _accepts(data: bytes) -> bool:
    try:
        inspect_image(data, LIMITS)
    except InvalidImage:
        return False
    return True


def test_png_corruptions_are_refused_with_a_reason():
    data = _valid()
    idat = data.index(b"IDAT")
    flipped = bytearray(data)
    flipped[idat + 20] ^= 0xFF  # inside the image data: its CRC fails
    with pytest.raises(InvalidImage, match="CRC"):
        inspect_image(bytes(flipped), LIMITS)
    rng = np.random.default_rng(3)
    raw = b"".join(b"\0" + row.astype("u1").tobytes() for row in rng.integers(0, 255, (40, 60, 3)))
    short = data[: idat - 4] + _chunk(b"IDAT", zlib.compress(raw[:-60])) + _chunk(b"IEND", b"")
    with pytest.raises(InvalidImage, match="truncated or padded"):
        inspect_image(short, LIMITS)
    long = (
        data[: idat - 4] + _chunk(b"IDAT", zlib.compress(raw + b"\0" * 500)) + _chunk(b"IEND", b"")
    )
    with pytest.raises(InvalidImage, match="more image data"):
        inspect_image(long, LIMITS)
    garbage = data[: idat - 4] + _chunk(b"IDAT", b"not zlib at all") + _chunk(b"IEND", b"")
    with pytest.raises(InvalidImage, match="corrupt"):
        inspect_image(garbage, LIMITS)
    no_palette = encode_png(np.zeros((4, 4)), 3, 8).replace(
        _chunk(b"PLTE", bytes(range(256)) * 3), b""
    )
    with pytest.raises(InvalidImage, match="palette"):
        inspect_image(no_palette, LIMITS)


def _canvas_png(side: int, path: Path) -> bytes:
    """A 16-bit RGBA PNG of side x side, all zeros: a few hundred KB compressed."""
    row = b"\0" + bytes(side * 8)
    z = zlib.compressobj(9)
    body = b"".join(z.compress(row) for _ in range(side)) + z.flush()
    data = (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 16, 6, 0, 0, 0))
        + _chunk(b"IDAT", body)
        + _chunk(b"IEND", b"")
    )
    path.write_bytes(data)
    return data


def test_png_decoded_bytes_limit_refuses_a_small_file_with_a_huge_canvas(tmp_path):
    data = _canvas_png(6320, tmp_path / "canvas.png")
    assert len(data) < 1 * MB
    started = time.perf_counter()
    with pytest.raises(
        InvalidImage, match=r"6320x6320 pixels with 4 channel\(s\) of 16 bits: 305 MB"
    ):
        inspect_image(data, LIMITS)
    print(f"refused in {1000 * (time.perf_counter() - started):.1f} ms")


MEASURE = """
import io, json, sys
from api.evidence.images import ImageLimits, inspect_image

def high_water_kb():  # this process's peak RSS (ru_maxrss would include the parent's)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])

data = open(sys.argv[1], "rb").read()
before = high_water_kb()
if sys.argv[2] == "check":
    inspect_image(data, ImageLimits(max_pixels=10**9, max_decoded_bytes=10**10))
else:
    from PIL import Image
    Image.MAX_IMAGE_PIXELS = None
    Image.open(io.BytesIO(data)).load()
print(json.dumps({"kb": high_water_kb() - before}))
"""


def _peak_kb(path: Path, how: str) -> int:
    out = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path), how],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[3],
    )
    return int(json.loads(out.stdout)["kb"])


@pytest.mark.slow
def test_png_check_memory_stays_small_for_a_huge_valid_image(tmp_path):
    """Even allowed (limits raised), a 16-bit RGBA canvas of 4500 x 4500 (162 MB of image
    data) is checked in a few MB: the data is inflated as a stream, never held decoded. A
    full decode, measured the same way, takes about 80 MB."""
    path = tmp_path / "canvas.png"
    _canvas_png(4500, path)
    checked = _peak_kb(path, "check")
    decoded = _peak_kb(path, "decode")
    print(f"peak memory: structural check {checked / 1024:.1f} MB, decode {decoded / 1024:.1f} MB")
    assert checked < 24 * 1024
    assert decoded > 60 * 1024


def test_image_checker_runs_at_most_n_checks_at_once(monkeypatch):
    running = 0
    most = 0
    lock = threading.Lock()
    entered = threading.Event()

    def slow_inspect(data, limits):  # type: ignore[no-untyped-def]
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        entered.set()
        time.sleep(0.05)
        with lock:
            running -= 1
        return images.ImageInfo("image/png", 1, 1)

    monkeypatch.setattr(images, "inspect_image", slow_inspect)
    checker = ImageChecker(LIMITS, max_concurrent=2)
    threads = [threading.Thread(target=checker.inspect, args=(b"x",)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most == 2
    busy = ImageChecker(LIMITS, max_concurrent=1, wait_s=0.01)
    entered.clear()
    blocker = threading.Thread(target=busy.inspect, args=(b"x",))
    blocker.start()
    assert entered.wait(5)
    with pytest.raises(ImageChecksBusy):
        busy.inspect(b"x")
    blocker.join()
