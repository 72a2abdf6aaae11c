"""Ingest of observations from scan cars: validation of evidence, dedupe, storage.

One observation becomes one hit. The same ``observation_id`` posted again with identical content
is acknowledged again (nothing stored twice); with different content it is a conflict.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from api.audit.service import record
from api.auth.principal import Principal
from api.errors import Conflict, InsufficientStorage, PayloadTooLarge, Unprocessable
from api.evidence.images import InvalidImage, inspect_image
from api.evidence.store import EvidenceDiskFull, EvidenceStore, sha256_hex
from api.hits.db import EvidenceRow, HitRow
from api.hits.model import HitStatus
from scancar.wire import ObservationMetadata

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class IngestResult:
    hit: HitRow
    created: bool


def fingerprint(metadata: ObservationMetadata) -> str:
    """A stable hash of the observation's content (evidence is covered by its sha256s)."""
    canonical = json.dumps(metadata.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class CheckedImage:
    name: str
    kind: str
    data: bytes
    content_type: str
    width: int
    height: int


def check_evidence(
    metadata: ObservationMetadata,
    parts: dict[str, bytes],
    *,
    max_image_bytes: int,
    max_pixels: int,
) -> list[CheckedImage]:
    """Match the image parts to the declared evidence; every problem names the part."""
    declared = {e.name for e in metadata.evidence}
    unexpected = sorted(set(parts) - declared)
    if unexpected:
        raise Unprocessable(
            f"unexpected part(s) {', '.join(map(repr, unexpected))}: only 'metadata' and the "
            f"evidence names declared in it ({', '.join(sorted(declared))}) are allowed",
            code="unexpected_part",
        )
    checked = []
    for ref in metadata.evidence:
        data = parts.get(ref.name)
        if data is None:
            raise Unprocessable(
                f"evidence part {ref.name!r} is declared in metadata but missing",
                code="missing_part",
            )
        if len(data) > max_image_bytes:
            raise PayloadTooLarge(
                f"evidence part {ref.name!r} is {len(data)} bytes; at most {max_image_bytes} "
                "bytes per image",
            )
        if sha256_hex(data) != ref.sha256:
            raise Unprocessable(
                f"evidence part {ref.name!r} does not match its declared sha256",
                code="sha256_mismatch",
            )
        try:
            info = inspect_image(data, max_pixels=max_pixels)
        except InvalidImage as exc:
            raise Unprocessable(
                f"evidence part {ref.name!r}: {exc}", code="invalid_image"
            ) from None
        checked.append(
            CheckedImage(ref.name, ref.kind, data, info.content_type, info.width, info.height)
        )
    return checked


def _existing(session: Session, observation_id: str) -> HitRow | None:
    return session.exec(select(HitRow).where(HitRow.observation_id == observation_id)).first()


def _same_or_conflict(hit: HitRow, fp: str) -> IngestResult:
    if hit.content_sha256 != fp:
        raise Conflict(
            f"observation {hit.observation_id} was already received with different content",
            code="observation_conflict",
        )
    return IngestResult(hit, created=False)


def ingest(
    session: Session,
    store: EvidenceStore,
    device: Principal,
    metadata: ObservationMetadata,
    images: list[CheckedImage],
    *,
    grace_minutes: int,
) -> IngestResult:
    obs_id = str(metadata.observation_id)
    fp = fingerprint(metadata)
    existing = _existing(session, obs_id)
    if existing is not None:
        return _same_or_conflict(existing, fp)

    created_files: list[str] = []
    try:
        for img in images:
            digest, created = store.put(img.data)
            if created:
                created_files.append(digest)
    except EvidenceDiskFull:
        for digest in created_files:
            store.delete(digest)
        raise InsufficientStorage(
            "the evidence store is full; the observation was not stored, retry later",
            code="evidence_disk_full",
            headers={"Retry-After": "60"},
        ) from None

    hit = HitRow(
        observation_id=obs_id,
        device_id=device.id,
        content_sha256=fp,
        metadata_json=metadata.model_dump_json(),
        status=HitStatus.PENDING_GRACE.value,
        plate=metadata.plate,
        country=metadata.country,
        plate_confidence=metadata.plate_confidence,
        captured_at=metadata.captured_at,
        first_seen_at=metadata.first_seen_at,
        lon=metadata.lon,
        lat=metadata.lat,
        position_accuracy_m=metadata.position_accuracy_m,
        heading_deg=metadata.heading_deg,
        camera=metadata.camera,
        zone_id=metadata.zone_id,
        reason=metadata.reason.value,
        rights_checked_at=metadata.rights_checked_at,
        rights_cache_version=metadata.rights_cache_version,
        software_version=metadata.software_version,
        grace_until=metadata.captured_at + timedelta(minutes=grace_minutes),
    )
    try:
        session.add(hit)
        session.flush()
        for img in images:
            session.add(
                EvidenceRow(
                    hit_id=hit.id or 0,
                    name=img.name,
                    kind=img.kind,
                    sha256=sha256_hex(img.data),
                    size_bytes=len(img.data),
                    content_type=img.content_type,
                    width=img.width,
                    height=img.height,
                )
            )
        record(session, device, "observation.received", "hit", hit.id, f"reason={hit.reason}")
        session.commit()
    except IntegrityError:
        # Another request stored the same observation id a moment ago.
        session.rollback()
        existing = _existing(session, obs_id)
        if existing is None:
            raise
        return _same_or_conflict(existing, fp)
    except BaseException:
        session.rollback()
        for digest in created_files:
            if not session.exec(select(EvidenceRow.id).where(EvidenceRow.sha256 == digest)).first():
                store.delete(digest)
        raise
    session.refresh(hit)
    log.info("observation stored as hit %s", hit.id)
    return IngestResult(hit, created=True)
