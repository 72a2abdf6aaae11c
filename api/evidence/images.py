"""Checking uploaded images before anything is stored: type, size, dimensions, structure.

PNG images are decoded in full. JPEG images (every scan-car upload) get a structural check
instead of an entropy decode, which costs ten times less: every marker segment in order with a
valid length, a frame header, at least one scan, entropy-coded data holding only stuffed bytes
and restart markers, and the end-of-image marker. Together with the sha256 the car sends for
each image (checked before this), this refuses truncated, spliced and non-JPEG data; what it
does not see is a car that deliberately encodes garbage coefficients, which only shows as a
noisy picture to the BOA who reviews it.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

ALLOWED_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png"}


class InvalidImage(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class ImageInfo:
    content_type: str
    width: int
    height: int


def inspect_image(data: bytes, *, max_pixels: int) -> ImageInfo:
    """Decode ``data`` fully; raise ``InvalidImage`` saying what is wrong.

    The declared dimensions are checked before decoding, so an image bomb (a small file that
    declares a huge canvas) is refused without allocating it.
    """
    if not data:
        raise InvalidImage("the image is empty (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                fmt = img.format or "unknown"
                if fmt not in ALLOWED_FORMATS:
                    raise InvalidImage(f"image format {fmt} is not allowed; allowed: JPEG, PNG")
                width, height = img.size
                if width * height > max_pixels:
                    raise InvalidImage(
                        f"image is {width}x{height} pixels; at most {max_pixels} pixels allowed"
                    )
                if fmt == "JPEG":
                    check_jpeg_structure(data)
                else:
                    img.load()
    except InvalidImage:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidImage("the image declares too many pixels (decompression bomb)") from None
    except UnidentifiedImageError:
        raise InvalidImage("the data is not a JPEG or PNG image") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise InvalidImage(f"the image is corrupt or truncated ({exc})") from None
    return ImageInfo(ALLOWED_FORMATS[fmt], width, height)


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
