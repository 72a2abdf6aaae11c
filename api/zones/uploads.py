"""Zone files uploaded on the zone page and waiting for the administrator's "save as the new
version" after the preview. Kept as small JSON files under ``<data_dir>/zone-uploads/`` (the
folder every server process shares, as the evidence), named by a random token and bound to the
user who uploaded them; older than a day they are removed at the next upload.

The stored document is the canonical, validated FeatureCollection (WGS84); saving it validates
it again and stores it through ``api.zones.versions.import_zone_set`` (the one way a version is
stored), with the original file's CRS recorded.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from api.errors import NotFound
from zones.errors import Notice, NoticeCode
from zones.geojson import ZoneImport, load_feature_collection
from zones.geowriter import zones_to_geojson

KEEP = timedelta(hours=24)
TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


class UploadNotFound(NotFound):
    code = "zone_upload_not_found"

    def __init__(self) -> None:
        super().__init__("no such zone upload (expired, saved already, or someone else's)")


@dataclass(frozen=True, slots=True)
class PendingUpload:
    token: str
    user_id: int
    created_at: datetime
    filename: str
    note: str
    source_crs: str
    doc: dict[str, Any]  # the canonical FeatureCollection (WGS84)
    notices: tuple[Notice, ...]  # repairs and warnings (the page says them in Dutch)

    def as_import(self) -> ZoneImport:
        """Validated again (never trusted from disk), with the original file's CRS."""
        return replace(load_feature_collection(self.doc), source_crs=self.source_crs)


def folder_of(data_dir: Path) -> Path:
    return data_dir / "zone-uploads"


def save_pending(
    folder: Path,
    imported: ZoneImport,
    *,
    user_id: int,
    filename: str,
    note: str,
    now: datetime,
) -> PendingUpload:
    folder.mkdir(parents=True, exist_ok=True)
    _sweep(folder, now)
    doc: dict[str, Any] = json.loads(json.dumps(zones_to_geojson(imported.zones)))
    pending = PendingUpload(
        token=secrets.token_urlsafe(24),
        user_id=user_id,
        created_at=now,
        filename=filename[:200],
        note=note[:500],
        source_crs=imported.source_crs,
        doc=doc,
        notices=(*imported.repairs, *imported.warnings),
    )
    record = {
        "user_id": user_id,
        "created_at": now.isoformat(),
        "filename": pending.filename,
        "note": pending.note,
        "source_crs": pending.source_crs,
        "notices": [_notice_record(n) for n in pending.notices],
        "doc": doc,
    }
    tmp = folder / f".{pending.token}.tmp"
    tmp.write_text(json.dumps(record, separators=(",", ":")), encoding="utf-8")
    tmp.replace(folder / f"{pending.token}.json")
    return pending


def load_pending(folder: Path, token: str, user_id: int, now: datetime) -> PendingUpload:
    if not TOKEN.match(token):
        raise UploadNotFound
    try:
        record = json.loads((folder / f"{token}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise UploadNotFound from None
    created = datetime.fromisoformat(record["created_at"])
    if record["user_id"] != user_id or now - created > KEEP:
        raise UploadNotFound
    try:
        notices = tuple(_notice(n) for n in record["notices"])
    except (TypeError, KeyError, ValueError):  # an upload kept by an older version
        raise UploadNotFound from None
    return PendingUpload(
        token=token,
        user_id=user_id,
        created_at=created,
        filename=record["filename"],
        note=record["note"],
        source_crs=record["source_crs"],
        doc=record["doc"],
        notices=notices,
    )


def _notice_record(notice: Notice) -> dict[str, Any]:
    return {
        "feature_index": notice.feature_index,
        "feature_id": notice.feature_id,
        "field": notice.field,
        "message": notice.message,
        "code": notice.code.value,
        "values": dict(notice.values),
    }


def _notice(record: dict[str, Any]) -> Notice:
    return Notice(
        record["feature_index"],
        record["feature_id"],
        record["field"],
        record["message"],
        code=NoticeCode(record["code"]),
        values=record["values"],
    )


def drop_pending(folder: Path, token: str) -> None:
    if TOKEN.match(token):
        (folder / f"{token}.json").unlink(missing_ok=True)


def _sweep(folder: Path, now: datetime) -> None:
    cutoff = (now - KEEP).timestamp()
    for path in folder.glob("*.json"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
        except OSError:
            continue
