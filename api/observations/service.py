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

from sqlalchemy import Connection, bindparam, insert, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from api.audit.service import append
from api.auth.principal import Principal
from api.db import utcnow
from api.errors import Conflict, InsufficientStorage, PayloadTooLarge, Unprocessable
from api.evidence.images import ImageChecker, InvalidImage
from api.evidence.store import EvidenceDiskFull, EvidenceStore, sha256_hex
from api.hits.db import EvidenceRow, HitRow
from api.hits.model import HitStatus
from scancar.wire import ObservationMetadata

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class IngestResult:
    hit_id: int
    status: str
    created: bool


def fingerprint(metadata: ObservationMetadata) -> str:
    """A stable hash of the observation's content (evidence is covered by its sha256s)."""
    canonical = json.dumps(metadata.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class CheckedImage:
    name: str
    kind: str
    sha256: str
    data: bytes
    content_type: str
    width: int
    height: int


def check_evidence(
    metadata: ObservationMetadata,
    parts: dict[str, bytes],
    *,
    max_image_bytes: int,
    images: ImageChecker,
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
        digest = sha256_hex(data)
        if digest != ref.sha256:
            raise Unprocessable(
                f"evidence part {ref.name!r} does not match its declared sha256",
                code="sha256_mismatch",
            )
        try:
            info = images.inspect(data)
        except InvalidImage as exc:
            raise Unprocessable(
                f"evidence part {ref.name!r}: {exc}", code="invalid_image"
            ) from None
        checked.append(
            CheckedImage(
                ref.name, ref.kind, digest, data, info.content_type, info.width, info.height
            )
        )
    return checked


_hits = HitRow.__table__  # type: ignore[attr-defined]
_evidence = EvidenceRow.__table__  # type: ignore[attr-defined]
# Built once: the ingest path is the busiest write path (Core statements, no ORM objects).
_EXISTING = select(_hits.c.id, _hits.c.content_sha256, _hits.c.status).where(
    _hits.c.observation_id == bindparam("observation_id")
)
_INSERT_HIT = insert(_hits).returning(_hits.c.id)
_INSERT_EVIDENCE = insert(_evidence)
_EVIDENCE_BY_SHA = select(_evidence.c.id).where(_evidence.c.sha256 == bindparam("sha256")).limit(1)


def _existing(conn: Connection, observation_id: str, fp: str) -> IngestResult | None:
    """The stored hit of ``observation_id``: the same content again, or a conflict."""
    row = conn.execute(_EXISTING, {"observation_id": observation_id}).first()
    if row is None:
        return None
    if row.content_sha256 != fp:
        raise Conflict(
            f"observation {observation_id} was already received with different content",
            code="observation_conflict",
        )
    return IngestResult(row.id, row.status, created=False)


def ingest(
    session: Session,
    store: EvidenceStore,
    device: Principal,
    metadata: ObservationMetadata,
    images: list[CheckedImage],
    *,
    grace_minutes: int,
) -> IngestResult:
    """Store the evidence files (fsynced) and then the hit, its evidence rows and an audit row
    in one transaction; commits. A file this call created is removed again when the
    transaction fails and no other hit refers to it."""
    obs_id = str(metadata.observation_id)
    fp = fingerprint(metadata)
    conn = session.connection()
    existing = _existing(conn, obs_id, fp)
    if existing is not None:
        return existing

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

    now = utcnow()
    status = HitStatus.PENDING_GRACE.value
    try:
        hit_id = conn.execute(
            _INSERT_HIT,
            {
                "observation_id": obs_id,
                "device_id": device.id,
                "content_sha256": fp,
                "metadata_json": metadata.model_dump_json(),
                "status": status,
                "plate": metadata.plate,
                "country": metadata.country,
                "plate_confidence": metadata.plate_confidence,
                "captured_at": metadata.captured_at,
                "first_seen_at": metadata.first_seen_at,
                "lon": metadata.lon,
                "lat": metadata.lat,
                "position_accuracy_m": metadata.position_accuracy_m,
                "heading_deg": metadata.heading_deg,
                "camera": metadata.camera,
                "zone_id": metadata.zone_id,
                "reason": metadata.reason.value,
                "rights_checked_at": metadata.rights_checked_at,
                "rights_cache_version": metadata.rights_cache_version,
                "software_version": metadata.software_version,
                "received_at": now,
                "updated_at": now,
                "grace_until": metadata.captured_at + timedelta(minutes=grace_minutes),
                "repeat": False,
            },
        ).scalar_one()
        conn.execute(
            _INSERT_EVIDENCE,
            [
                {
                    "hit_id": hit_id,
                    "name": img.name,
                    "kind": img.kind,
                    "sha256": img.sha256,
                    "size_bytes": len(img.data),
                    "content_type": img.content_type,
                    "width": img.width,
                    "height": img.height,
                    "created_at": now,
                }
                for img in images
            ],
        )
        append(
            conn, device, "observation.received", "hit", hit_id, f"reason={metadata.reason.value}"
        )
        session.commit()
    except IntegrityError:
        # Another request stored the same observation id a moment ago.
        session.rollback()
        again = _existing(session.connection(), obs_id, fp)
        if again is None:
            raise
        return again
    except BaseException:
        session.rollback()
        for digest in created_files:
            if session.connection().execute(_EVIDENCE_BY_SHA, {"sha256": digest}).first() is None:
                store.delete(digest)
        raise
    log.info("observation stored as hit %s", hit_id)
    return IngestResult(hit_id, status, created=True)
