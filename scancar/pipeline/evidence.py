"""Evidence for a suspect: the plate crop, the overview frame with every *other* plate blurred,
and a context frame (also with other plates blurred). JPEG bytes with their SHA-256."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

import cv2
import numpy as np

from scancar.lpr.model import BBox, Image, VehiclePass
from scancar.wire import EvidenceKind, EvidenceRef


class EvidenceEncodingError(RuntimeError):
    """OpenCV could not encode an evidence image."""


@dataclass(frozen=True, slots=True)
class ContextFrame:
    """A frame near the overview, with the boxes of plates that are not the suspect's."""

    image: Image
    blur_boxes: tuple[BBox, ...]


@dataclass(frozen=True, slots=True)
class Evidence:
    files: dict[str, bytes]
    refs: tuple[EvidenceRef, ...]


def blur_boxes(image: Image, boxes: Iterable[BBox], margin: float = 0.25) -> Image:
    """A copy of ``image`` with each box (grown by ``margin`` of its size) made unreadable:
    averaged down to 6 x 2 cells (less than one cell per character) and smoothed back up."""
    out = image.copy()
    height, width = out.shape[:2]
    for box in boxes:
        dx = int(box.width * margin) + 2
        dy = int(box.height * margin) + 2
        x1, y1 = max(0, box.x1 - dx), max(0, box.y1 - dy)
        x2, y2 = min(width, box.x2 + dx), min(height, box.y2 + dy)
        if x2 <= x1 or y2 <= y1:
            continue
        region = out[y1:y2, x1:x2]
        small = cv2.resize(region, (6, 2), interpolation=cv2.INTER_AREA)
        out[y1:y2, x1:x2] = cv2.resize(small, (x2 - x1, y2 - y1), interpolation=cv2.INTER_LINEAR)
    return np.ascontiguousarray(out)


def encode_jpeg(image: Image, quality: int) -> bytes:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise EvidenceEncodingError(f"cannot encode a {image.shape} image as JPEG")
    return bytes(buf.tobytes())


def compose_evidence(
    vehicle_pass: VehiclePass, context: ContextFrame | None, *, quality: int = 90
) -> Evidence:
    """``plate.jpg`` (best crop), ``overview.jpg`` (other plates blurred) and, when given,
    ``context.jpg``."""
    images: list[tuple[str, EvidenceKind, Image]] = [
        ("plate.jpg", "plate", vehicle_pass.best_crop),
        (
            "overview.jpg",
            "overview",
            blur_boxes(vehicle_pass.overview_image, vehicle_pass.other_bboxes),
        ),
    ]
    if context is not None:
        images.append(("context.jpg", "context", blur_boxes(context.image, context.blur_boxes)))
    files: dict[str, bytes] = {}
    refs: list[EvidenceRef] = []
    for name, kind, image in images:
        data = encode_jpeg(image, quality)
        files[name] = data
        refs.append(EvidenceRef(name=name, kind=kind, sha256=hashlib.sha256(data).hexdigest()))
    return Evidence(files, tuple(refs))
