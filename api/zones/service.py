"""Zones in the backend: versioned zone sets, a per-process index of the current version.

``ZoneCatalog`` keeps one ``ZoneIndex`` per process and rebuilds it when a newer version
appears in the database (one small query per use), so several server processes agree.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func as sa_func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from api.auth.principal import Principal
from api.errors import NotFound
from api.review.ports import ZoneReviewRules
from api.zones.db import ZoneVersionRow
from zones import Zone, ZoneIndex
from zones.geojson import ZoneImport, load_feature_collection


@dataclass(frozen=True, slots=True)
class ZoneSet:
    version: int
    index: ZoneIndex


EMPTY = ZoneSet(0, ZoneIndex(()))
# asked on every ingest and rights check: a Core statement built once
_LATEST_VERSION = sa_select(sa_func.max(ZoneVersionRow.__table__.c.version))  # type: ignore[attr-defined]


def latest_version(session: Session) -> int:
    """The newest zone version number, 0 when none was imported yet."""
    return int(session.connection().execute(_LATEST_VERSION).scalar() or 0)


class ZoneCatalog:
    def __init__(self) -> None:
        self._current = EMPTY
        self._lock = threading.Lock()

    def current(self, session: Session) -> ZoneSet:
        latest = latest_version(session)
        if latest == self._current.version:
            return self._current
        with self._lock:
            if latest != self._current.version:
                self._current = self._load(session, latest)
            return self._current

    def _load(self, session: Session, version: int) -> ZoneSet:
        if version == 0:
            return EMPTY
        row = session.exec(select(ZoneVersionRow).where(ZoneVersionRow.version == version)).one()
        imported = load_feature_collection(json.loads(row.geojson))
        return ZoneSet(version, ZoneIndex(imported.zones))

    def zone(self, session: Session, zone_id: str | None) -> Zone | None:
        if not zone_id:
            return None
        return self.current(session).index.get(zone_id)


def import_zones(
    session: Session,
    data: dict[str, Any] | str,
    actor: Principal | None,
    *,
    crs: str | None,
    fix: bool,
    actor_name: str | None = None,
    note: str = "",
) -> tuple[ZoneVersionRow, ZoneImport]:
    """Validate ``data`` and store it as the next version (``api.zones.versions``: a set
    identical to the current one stores nothing); the current version's row afterwards."""
    from api.zones.versions import import_zone_set, version_row

    imported = load_feature_collection(data, crs=crs, fix=fix)
    change = import_zone_set(session, imported, actor, actor_name=actor_name, note=note)
    row = version_row(session, change.version)
    if row is None:  # cannot happen: just stored, or the current one
        raise NotFound(f"no zone version {change.version}")
    return row, imported


def version_geojson(session: Session, version: int | None) -> tuple[int, dict[str, Any]]:
    stmt = select(ZoneVersionRow)
    if version is None:
        stmt = stmt.order_by(col(ZoneVersionRow.version).desc()).limit(1)
    else:
        stmt = stmt.where(ZoneVersionRow.version == version)
    row = session.exec(stmt).first()
    if row is None:
        if version is None:
            return 0, {"type": "FeatureCollection", "features": []}
        raise NotFound(f"no zone version {version}")
    return row.version, json.loads(row.geojson)


class CatalogZoneRules:
    """``ZoneRulesSource`` for the review service, from the current zone version."""

    def __init__(self, catalog: ZoneCatalog) -> None:
        self.catalog = catalog

    def rules_for(self, session: Session, zone_id: str | None) -> ZoneReviewRules | None:
        zone = self.catalog.zone(session, zone_id)
        if zone is None:
            return None
        return ZoneReviewRules(
            zone_id=zone.id,
            name=zone.name,
            area_code=zone.area_code,
            grace_minutes=zone.grace_minutes,
            remote_enforcement_allowed=zone.remote_enforcement_allowed,
            fine_track=zone.fine_track.value,
        )
