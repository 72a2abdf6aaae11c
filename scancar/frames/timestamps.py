"""Capture times of image files: sidecar JSON, file name, EXIF, in that order.

Times without an offset (in a file name or EXIF) are taken as UTC: set the cameras to UTC.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from PIL import Image as PilImage

_NAME_TIME = re.compile(
    r"(?P<y>\d{4})-?(?P<mo>\d{2})-?(?P<d>\d{2})[T_ -]?(?P<h>\d{2})[-:]?(?P<mi>\d{2})[-:]?"
    r"(?P<s>\d{2})(?:[.,_](?P<f>\d{1,6}))?(?P<tz>Z|[+-]\d{2}:?\d{2})?"
)
_EXIF_IFD = 0x8769
_DATETIME_ORIGINAL = 0x9003
_OFFSET_ORIGINAL = 0x9011
_SUBSEC_ORIGINAL = 0x9291


def _tz(text: str | None) -> timezone:
    if not text or text == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:4])))


def time_from_name(name: str) -> datetime | None:
    """``cam1_20240131T120501.250Z.jpg`` -> 2024-01-31 12:05:01.25 UTC; ``None`` when absent."""
    m = _NAME_TIME.search(name)
    if m is None:
        return None
    try:
        frac = (m["f"] or "0").ljust(6, "0")
        t = datetime(
            int(m["y"]),
            int(m["mo"]),
            int(m["d"]),
            int(m["h"]),
            int(m["mi"]),
            int(m["s"]),
            int(frac),
            tzinfo=_tz(m["tz"]),
        )
    except ValueError:
        return None
    return t.astimezone(UTC)


def time_from_sidecar(path: Path) -> datetime | None:
    """``captured_at`` (ISO 8601 with offset) from ``<file>.json`` or ``<stem>.json``."""
    for sidecar in (path.with_name(path.name + ".json"), path.with_suffix(".json")):
        if not sidecar.is_file():
            continue
        try:
            raw = json.loads(sidecar.read_text(encoding="utf-8")).get("captured_at")
            t = datetime.fromisoformat(str(raw))
        except (OSError, ValueError, AttributeError):
            return None
        return t.astimezone(UTC) if t.tzinfo else t.replace(tzinfo=UTC)
    return None


def time_from_exif(path: Path) -> datetime | None:
    """EXIF DateTimeOriginal (+ OffsetTimeOriginal, SubSecTimeOriginal) of an image file."""
    try:
        with PilImage.open(path) as im:
            exif = im.getexif().get_ifd(_EXIF_IFD)
    except (OSError, ValueError):
        return None
    raw = exif.get(_DATETIME_ORIGINAL)
    if not raw:
        return None
    try:
        t = datetime.strptime(str(raw).strip(), "%Y:%m:%d %H:%M:%S")  # noqa: DTZ007 - tz below
    except ValueError:
        return None
    sub = str(exif.get(_SUBSEC_ORIGINAL, "") or "").strip()
    if sub.isdigit():
        t = t.replace(microsecond=int(sub.ljust(6, "0")[:6]))
    try:
        tz = _tz(str(exif.get(_OFFSET_ORIGINAL) or "") or None)
    except ValueError:
        tz = UTC
    return t.replace(tzinfo=tz).astimezone(UTC)


def capture_time_with_source(path: Path) -> tuple[datetime, str] | None:
    """The capture time and where it came from: ``sidecar``, ``file name`` or ``EXIF``."""
    for source, read in (
        ("sidecar", time_from_sidecar),
        ("file name", lambda p: time_from_name(p.name)),
        ("EXIF", time_from_exif),
    ):
        t = read(path)
        if t is not None:
            return t, source
    return None


def capture_time(path: Path) -> datetime | None:
    found = capture_time_with_source(path)
    return None if found is None else found[0]
