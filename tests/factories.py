"""Builders for test data: images and observation posts."""

from __future__ import annotations

import hashlib
import io
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import numpy as np
from PIL import Image


def make_image(seed: int = 0, size: tuple[int, int] = (320, 240), fmt: str = "JPEG") -> bytes:
    rng = np.random.default_rng(seed)
    arr = rng.integers(0, 255, size=(size[1], size[0], 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format=fmt, quality=85) if fmt == "JPEG" else Image.fromarray(
        arr
    ).save(buf, format=fmt)
    return buf.getvalue()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


CAPTURED_AT = datetime(2026, 11, 26, 10, 15, tzinfo=UTC)


def observation(
    *,
    images: dict[str, tuple[str, bytes]] | None = None,
    observation_id: str | None = None,
    **overrides: Any,
) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Return (metadata dict, {part name: bytes}); ``images`` maps name -> (kind, bytes)."""
    if images is None:
        images = {
            "plate": ("plate", make_image(1, (160, 40))),
            "overview": ("overview", make_image(2)),
        }
    meta: dict[str, Any] = {
        "observation_id": observation_id or str(uuid.uuid4()),
        "captured_at": CAPTURED_AT.isoformat(),
        "plate": "GZ123T",
        "country": "NL",
        "plate_confidence": 0.97,
        "char_confidences": [0.99, 0.98, 0.97, 0.99, 0.96, 0.99],
        "lon": 4.3581,
        "lat": 52.0116,
        "position_accuracy_m": 3.5,
        "heading_deg": 90.0,
        "camera": "right",
        "zone_id": "centrum",
        "reason": "no_right",
        "rights_checked_at": datetime(2026, 11, 26, 10, 15, tzinfo=UTC).isoformat(),
        "rights_cache_version": "v1",
        "software_version": "test",
        "evidence": [{"name": n, "kind": k, "sha256": sha(b)} for n, (k, b) in images.items()],
    }
    meta.update(overrides)
    return meta, {n: b for n, (_, b) in images.items()}


def multipart(meta: dict[str, Any] | str, parts: dict[str, bytes]) -> list[tuple[str, Any]]:
    """httpx ``files=`` list for an observation post."""
    body = meta if isinstance(meta, str) else json.dumps(meta)
    files: list[tuple[str, Any]] = [("metadata", (None, body, "application/json"))]
    for name, data in parts.items():
        files.append((name, (f"{name}.jpg", data, "image/jpeg")))
    return files
