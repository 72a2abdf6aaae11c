"""Deterministic suspects for the outbox tests (same index -> byte-identical suspect)."""

from __future__ import annotations

import hashlib
import random
import uuid
from datetime import UTC, datetime, timedelta

from scancar.wire import EvidenceRef, ObservationMetadata, SuspectReason

NAMESPACE = uuid.UUID("6f1c1c52-4d0e-4b5e-9d7a-8f7f1f3f2a10")
T0 = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)


def observation_id(index: int, run: str = "test") -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"{run}-{index}")


def fake_jpeg(seed: str, size: int) -> bytes:
    rng = random.Random(seed)
    return b"\xff\xd8\xff\xe0" + rng.randbytes(size) + b"\xff\xd9"


def make_suspect(
    index: int, run: str = "test", image_bytes: int = 2000
) -> tuple[ObservationMetadata, dict[str, bytes]]:
    oid = observation_id(index, run)
    evidence = {
        "plate.jpg": fake_jpeg(f"{oid}-plate", image_bytes),
        "overview.jpg": fake_jpeg(f"{oid}-overview", image_bytes * 2),
    }
    metadata = ObservationMetadata(
        observation_id=oid,
        captured_at=T0 + timedelta(seconds=index),
        plate=f"AB{index % 1000:03d}C",
        country="NL",
        plate_confidence=0.93,
        char_confidences=[0.9, 0.95, 0.99, 0.97, 0.96, 0.94],
        lon=4.3571 + index * 1e-5,
        lat=52.0116,
        position_accuracy_m=3.5,
        heading_deg=90.0,
        camera="right-front",
        zone_id="DELFT-A",
        reason=SuspectReason.NO_RIGHT,
        software_version="0.1.0",
        evidence=[
            EvidenceRef(
                name=name,
                kind="plate" if name.startswith("plate") else "overview",
                sha256=hashlib.sha256(data).hexdigest(),
            )
            for name, data in evidence.items()
        ],
    )
    return metadata, evidence
