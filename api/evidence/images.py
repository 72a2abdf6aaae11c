"""Checking uploaded images before anything is stored: type, size, memory, structure.

Nothing is decoded in full. The header gives the format, the dimensions, the channels and the
bit depth, so the memory a decode would take (pixels x channels x bytes per sample) is
refused over ``max_decoded_bytes`` before anything is allocated: a 310 KB PNG can declare a
320 MB canvas. Then the structure is checked:

- JPEG (every scan-car upload): every marker segment in order with a valid length, a frame
  header, at least one scan, entropy-coded data holding only stuffed bytes and restart
  markers, and the end-of-image marker (ten times cheaper than an entropy decode);
- PNG: every chunk's CRC, IHDR first and IEND last, the palette a palette image needs, and
  the compressed image data inflated as a stream (never held whole) to exactly the size the
  header promises.

Together with the sha256 the car sends for each image (checked before this), this refuses
truncated, spliced and non-image data; what it does not see is a sender who deliberately
encodes garbage pixels, which only shows as a noisy picture to the BOA who reviews it.

``ImageChecker`` runs at most ``max_concurrent`` checks at once per process (a decode-sized
buffer is never made, but inflating and walking still cost CPU and some memory).
"""

from __future__ import annotations

import io
import math
import struct
import threading
import warnings
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

ALLOWED_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png"}
MB = 1024 * 1024


class InvalidImage(ValueError):
    pass


class ImageChecksBusy(RuntimeError):
    """Every image-check slot stayed taken for the whole wait."""


@dataclass(frozen=True, slots=True)
class ImageInfo:
    content_type: str
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class ImageLimits:
    max_pixels: int
    max_decoded_bytes: int


class ImageChecker:
    """``inspect_image`` with the deployment's limits, at most ``max_concurrent`` at once
    (built once per process, in the composition root)."""

    def __init__(self, limits: ImageLimits, *, max_concurrent: int, wait_s: float = 30.0):
        self.limits = limits
        self.wait_s = wait_s
        self._slots = threading.BoundedSemaphore(max_concurrent)

    def inspect(self, data: bytes) -> ImageInfo:
        if not self._slots.acquire(timeout=self.wait_s):
            raise ImageChecksBusy(f"no image check came free within {self.wait_s:g} s")
        try:
            return inspect_image(data, self.limits)
        finally:
            self._slots.release()


def inspect_image(data: bytes, limits: ImageLimits) -> ImageInfo:
    """Check ``data`` without decoding it; raise ``InvalidImage`` saying what is wrong."""
    if not data:
        raise InvalidImage("the image is empty (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:  # reads the header only
                fmt = img.format or "unknown"
                if fmt not in ALLOWED_FORMATS:
                    raise InvalidImage(f"image format {fmt} is not allowed; allowed: JPEG, PNG")
                width, height = img.size
                channels = len(img.getbands())
    except InvalidImage:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidImage("the image declares too many pixels (decompression bomb)") from None
    except UnidentifiedImageError:
        raise InvalidImage("the data is not a JPEG or PNG image") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise InvalidImage(f"the image is corrupt or truncated ({exc})") from None
    if width * height > limits.max_pixels:
        raise InvalidImage(
            f"image is {width}x{height} pixels; at most {limits.max_pixels} pixels allowed"
        )
    if fmt == "JPEG":
        bits = _jpeg_precision(data)
        _check_decoded_size(width, height, channels, bits, limits.max_decoded_bytes)
        check_jpeg_structure(data)
    else:
        header = read_png_header(data)
        _check_decoded_size(
            width, height, header.channels, header.bit_depth, limits.max_decoded_bytes
        )
        check_png_structure(data, header)
    return ImageInfo(ALLOWED_FORMATS[fmt], width, height)


def _check_decoded_size(width: int, height: int, channels: int, bits: int, limit: int) -> None:
    decoded = width * height * channels * math.ceil(bits / 8)
    if decoded > limit:
        raise InvalidImage(
            f"image is {width}x{height} pixels with {channels} channel(s) of {bits} bits: "
            f"{decoded / MB:.0f} MB decoded; at most {limit / MB:.0f} MB allowed"
        )


# --------------------------------------------------------------------------- PNG
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# colour type -> (channels, allowed bit depths)
_PNG_COLOURS = {
    0: (1, (1, 2, 4, 8, 16)),
    2: (3, (8, 16)),
    3: (1, (1, 2, 4, 8)),
    4: (2, (8, 16)),
    6: (4, (8, 16)),
}
_ADAM7 = (
    (0, 0, 8, 8),
    (4, 0, 8, 8),
    (0, 4, 4, 8),
    (2, 0, 4, 4),
    (0, 2, 2, 4),
    (1, 0, 2, 2),
    (0, 1, 1, 2),
)
_INFLATE_STEP = 256 * 1024


@dataclass(frozen=True, slots=True)
class PngHeader:
    width: int
    height: int
    bit_depth: int
    colour_type: int
    interlaced: bool

    @property
    def channels(self) -> int:
        return _PNG_COLOURS[self.colour_type][0]

    def raw_size(self) -> int:
        """The inflated image data's size: every row of every pass with its filter byte."""
        passes = _ADAM7 if self.interlaced else ((0, 0, 1, 1),)
        total = 0
        for x0, y0, dx, dy in passes:
            cols = max(0, math.ceil((self.width - x0) / dx))
            rows = max(0, math.ceil((self.height - y0) / dy))
            if cols and rows:
                total += rows * (1 + math.ceil(cols * self.channels * self.bit_depth / 8))
        return total


def read_png_header(data: bytes) -> PngHeader:
    if not data.startswith(_PNG_SIGNATURE) or data[12:16] != b"IHDR" or len(data) < 33:
        raise InvalidImage("the PNG does not start with its signature and header chunk")
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", data[16:29])
    allowed = _PNG_COLOURS.get(colour)
    if allowed is None or depth not in allowed[1] or interlace not in (0, 1):
        raise InvalidImage(
            f"the PNG header is invalid (colour type {colour}, bit depth {depth}, "
            f"interlace {interlace})"
        )
    return PngHeader(width, height, depth, colour, interlace == 1)


def _png_chunks(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    """(type, body) of every chunk after the signature up to IEND, CRCs checked."""
    pos = 8
    while True:
        if pos + 12 > len(data):
            raise InvalidImage("the PNG is truncated (it ends inside a chunk header)")
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        end = pos + 8 + length
        if end + 4 > len(data):
            raise InvalidImage(f"the PNG is truncated (chunk {kind!r} at byte {pos})")
        (crc,) = struct.unpack(">I", data[end : end + 4])
        if zlib.crc32(data[pos + 4 : end]) != crc:
            raise InvalidImage(f"the PNG is corrupt (chunk {kind!r} at byte {pos} fails its CRC)")
        if kind == b"IEND":
            return
        yield kind, data[pos + 8 : end]
        pos = end + 4


def check_png_structure(data: bytes, header: PngHeader) -> None:
    """Walk the chunks from IHDR to IEND and inflate the image data as a stream; raise
    ``InvalidImage`` naming the first fault."""
    inflater = zlib.decompressobj()
    expected = header.raw_size()
    inflated = 0
    kinds: list[bytes] = []
    for kind, body in _png_chunks(data):
        if kind == b"IDAT":
            if kinds and kinds[-1] != b"IDAT" and b"IDAT" in kinds:
                raise InvalidImage("the PNG is corrupt (its image data is split by other chunks)")
            inflated = _inflate(inflater, body, inflated, expected)
        kinds.append(kind)
    if b"IDAT" not in kinds:
        raise InvalidImage("the PNG has no image data")
    if header.colour_type == 3 and b"PLTE" not in kinds:
        raise InvalidImage("the PNG is a palette image without a palette")
    try:
        inflated += len(inflater.flush())
    except zlib.error as exc:
        raise InvalidImage(f"the PNG's image data is corrupt ({exc})") from None
    if not inflater.eof or inflated != expected:
        raise InvalidImage(
            f"the PNG's image data is truncated or padded ({inflated} of {expected} bytes)"
        )


def _inflate(inflater: zlib._Decompress, chunk: bytes, inflated: int, expected: int) -> int:
    """Feed one IDAT chunk to the stream, a bounded piece at a time; the running total."""
    try:
        while chunk:
            out = inflater.decompress(chunk, _INFLATE_STEP)
            inflated += len(out)
            if inflated > expected:
                raise InvalidImage("the PNG holds more image data than its header declares")
            chunk = inflater.unconsumed_tail
    except zlib.error as exc:
        raise InvalidImage(f"the PNG's image data is corrupt ({exc})") from None
    return inflated


# --------------------------------------------------------------------------- JPEG
def _jpeg_precision(data: bytes) -> int:
    """The sample precision (bits) in the JPEG's frame header; 8 when it cannot be found
    (the structural check then names the fault)."""
    pos = 2
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if marker in _SOF_MARKERS and pos + 4 < len(data):
            return int(data[pos + 4])
        if marker in (_SOS, _EOI) or length < 2:
            break
        pos += 2 + length
    return 8


_SOF_MARKERS = frozenset(
    {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
)
_SOS, _EOI = 0xDA, 0xD9


def check_jpeg_structure(data: bytes) -> None:
    """Walk a JPEG's markers from SOI to EOI; raise ``InvalidImage`` naming the first fault."""
    if not data.startswith(b"\xff\xd8"):
        raise InvalidImage("the JPEG does not start with a start-of-image marker")
    size = len(data)
    pos = 2
    has_frame = False
    scans = 0
    while True:
        marker, pos = _read_marker(data, pos)
        if marker == _EOI:
            break
        if 0xD0 <= marker <= 0xD7 or marker in (0x01, 0x00):
            raise InvalidImage(f"the JPEG is corrupt (marker 0x{marker:02X} out of place)")
        if pos + 2 > size:
            raise InvalidImage("the JPEG is truncated (it ends inside a segment header)")
        length = int.from_bytes(data[pos : pos + 2], "big")
        if length < 2 or pos + length > size:
            raise InvalidImage(f"the JPEG is corrupt or truncated (bad segment at byte {pos})")
        if marker in _SOF_MARKERS:
            has_frame = True
        pos += length
        if marker != _SOS:
            continue
        if not has_frame:
            raise InvalidImage("the JPEG is corrupt (a scan comes before the frame header)")
        scans += 1
        pos = _skip_entropy_data(data, pos)
    if not has_frame or scans == 0:
        raise InvalidImage("the JPEG has no frame header or no image data")


def _read_marker(data: bytes, pos: int) -> tuple[int, int]:
    """The marker code at ``pos`` (0xFF, fill bytes allowed, then the code) and what follows."""
    size = len(data)
    if pos >= size or data[pos] != 0xFF:
        raise InvalidImage(f"the JPEG is corrupt or truncated (no marker at byte {pos})")
    while pos < size and data[pos] == 0xFF:
        pos += 1
    if pos >= size:
        raise InvalidImage("the JPEG is truncated (it ends inside a marker)")
    return data[pos], pos + 1


def _skip_entropy_data(data: bytes, pos: int) -> int:
    """The position of the marker that ends a scan's entropy-coded data (0xFF then a code
    that is not a stuffed zero or a restart marker)."""
    while True:
        pos = data.find(b"\xff", pos)
        if pos < 0 or pos + 1 >= len(data):
            raise InvalidImage("the JPEG is truncated (the image data has no end marker)")
        following = data[pos + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7:
            pos += 2
        elif following == 0xFF:
            pos += 1
        else:
            return pos
