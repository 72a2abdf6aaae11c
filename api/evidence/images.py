"""Checking uploaded images before anything is stored: type, size, dimensions, full decode."""

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
                    # decode the whole entropy-coded stream (so truncation and corruption are
                    # caught) but at 1/8 scale: the DCT scaling makes this ~5x cheaper
                    img.draft("L", (max(1, width // 8), max(1, height // 8)))
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
