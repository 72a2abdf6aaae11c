"""Zone-set versions as an operator manages them: what an import would change (a dry run),
no new version for an identical file, the list of versions, and a rollback to an older one.

The CLI (``scancar zones import --dry-run | versions | rollback N``) and the zone pages call
these functions. A rollback never rewrites history: it stores the old zone set again as the
next version, so every version that was ever current stays readable with who and when.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from api.audit.service import record
from api.auth.principal import Principal
from api.errors import NotFound
from api.zones.db import ZoneVersionRow
from api.zones.service import latest_version
from zones.geojson import ZoneImport
from zones.geowriter import zones_to_geojson


@dataclass(frozen=True, slots=True)
class ZoneChange:
    """A zone present in both sets with different content: which parts differ."""

    zone_id: str
    fields: tuple[str, ...]  # "geometry" and/or property names ("schedule", "kind", ...)


@dataclass(frozen=True, slots=True)
class ZoneDiff:
    """What going from one zone set to another adds, changes and removes (by zone id)."""

    added: tuple[str, ...] = ()
    changed: tuple[ZoneChange, ...] = ()
    removed: tuple[str, ...] = ()
    collection_fields: tuple[str, ...] = ()  # top-level members such as holiday_dates

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.changed or self.removed or self.collection_fields)

    def summary(self) -> str:
        """One line: ``2 added (a, b); 1 changed (centrum: geometry, schedule); 0 removed``."""
        if self.is_empty:
            return "no changes"
        changed = ", ".join(f"{c.zone_id}: {'/'.join(c.fields)}" for c in self.changed)
        parts = [
            _listed(len(self.added), "added", ", ".join(self.added)),
            _listed(len(self.changed), "changed", changed),
            _listed(len(self.removed), "removed", ", ".join(self.removed)),
        ]
        if self.collection_fields:
            parts.append(f"collection {', '.join(self.collection_fields)} changed")
        return "; ".join(parts)


def _listed(count: int, what: str, names: str) -> str:
    return f"{count} {what} ({names})" if count else f"0 {what}"


@dataclass(frozen=True, slots=True)
class ZoneVersionInfo:
    version: int
    created_at: datetime
    created_by: str
    zone_count: int
    source_crs: str
    note: str
    is_current: bool


@dataclass(frozen=True, slots=True)
class ZoneSetChange:
    """The outcome of an import or a rollback (or of its dry run)."""

    version: int  # the version current afterwards (a dry run: the one it would create)
    previous_version: int  # the version current before (0: none)
    is_created: bool  # False: identical to the current set, or a dry run
    is_dry_run: bool
    diff: ZoneDiff  # from the previous current set to the new one
    zone_count: int


def diff_zone_sets(old: dict[str, Any], new: dict[str, Any]) -> ZoneDiff:
    """Compare two canonical FeatureCollections (as ``zones_to_geojson`` writes them)."""
    before = {str(f["id"]): f for f in old.get("features", [])}
    after = {str(f["id"]): f for f in new.get("features", [])}
    changed = []
    for zone_id in sorted(before.keys() & after.keys()):
        fields = _changed_fields(before[zone_id], after[zone_id])
        if fields:
            changed.append(ZoneChange(zone_id, fields))
    top = (old.keys() | new.keys()) - {"features", "type"}
    return ZoneDiff(
        added=tuple(sorted(after.keys() - before.keys())),
        changed=tuple(changed),
        removed=tuple(sorted(before.keys() - after.keys())),
        collection_fields=tuple(sorted(k for k in top if old.get(k) != new.get(k))),
    )


def _changed_fields(old: dict[str, Any], new: dict[str, Any]) -> tuple[str, ...]:
    fields = ["geometry"] if old.get("geometry") != new.get("geometry") else []
    props_old, props_new = old.get("properties") or {}, new.get("properties") or {}
    fields += sorted(
        k for k in props_old.keys() | props_new.keys() if props_old.get(k) != props_new.get(k)
    )
    return tuple(fields)


def _canonical(imported: ZoneImport) -> dict[str, Any]:
    # through JSON, so tuples become lists as in the stored text
    loaded: dict[str, Any] = json.loads(_text(zones_to_geojson(imported.zones)))
    return loaded


def _text(doc: dict[str, Any]) -> str:
    return json.dumps(doc, separators=(",", ":"))


def version_row(session: Session, version: int) -> ZoneVersionRow | None:
    """The stored row of ``version``, or None."""
    return session.exec(select(ZoneVersionRow).where(ZoneVersionRow.version == version)).first()


def _current_doc(session: Session) -> tuple[int, dict[str, Any]]:
    current = latest_version(session)
    row = version_row(session, current) if current else None
    if row is None:
        return 0, {"type": "FeatureCollection", "features": []}
    loaded: dict[str, Any] = json.loads(row.geojson)
    return current, loaded


def import_zone_set(
    session: Session,
    imported: ZoneImport,
    actor: Principal | None,
    *,
    actor_name: str | None = None,
    note: str = "",
    dry_run: bool = False,
) -> ZoneSetChange:
    """Store a validated zone set as the next version, unless it equals the current one
    (same zones by id, same content) or ``dry_run``; either way report the diff."""
    doc = _canonical(imported)
    return _change_to(
        session,
        doc,
        imported.source_crs,
        actor,
        actor_name=actor_name,
        note=note,
        dry_run=dry_run,
        action="zones.version_created",
    )


def rollback_zone_set(
    session: Session,
    version: int,
    actor: Principal | None,
    *,
    actor_name: str | None = None,
    dry_run: bool = False,
) -> ZoneSetChange:
    """Make version ``version`` current again by storing its zone set as the next version
    (audit ``zones.rolled_back``); nothing is stored when it already is the current set."""
    row = version_row(session, version)
    if row is None:
        newest = latest_version(session)
        known = f"versions 1 to {newest} exist" if newest else "no zone set was imported yet"
        raise NotFound(f"no zone version {version}; {known}", code="zone_version_not_found")
    return _change_to(
        session,
        json.loads(row.geojson),
        row.source_crs,
        actor,
        actor_name=actor_name,
        note=f"rollback to version {version}",
        dry_run=dry_run,
        action="zones.rolled_back",
    )


def _change_to(
    session: Session,
    doc: dict[str, Any],
    source_crs: str,
    actor: Principal | None,
    *,
    actor_name: str | None,
    note: str,
    dry_run: bool,
    action: str,
) -> ZoneSetChange:
    current, current_doc = _current_doc(session)
    diff = diff_zone_sets(current_doc, doc)
    count = len(doc.get("features", []))
    if (current and diff.is_empty) or dry_run:
        version = current if current and diff.is_empty else current + 1
        return ZoneSetChange(version, current, False, dry_run, diff, count)
    row = ZoneVersionRow(
        version=current + 1,
        created_by=actor.name if actor else (actor_name or "system"),
        zone_count=count,
        source_crs=source_crs,
        note=note[:500],
        geojson=_text(doc),
    )
    session.add(row)
    session.flush()
    record(session, actor, action, "zone_version", row.version, diff.summary()[:500])
    return ZoneSetChange(row.version, current, True, False, diff, count)


def list_zone_versions(session: Session) -> list[ZoneVersionInfo]:
    """Every stored version, newest first, the current one marked."""
    rows = session.exec(select(ZoneVersionRow).order_by(col(ZoneVersionRow.version).desc())).all()
    current = rows[0].version if rows else 0
    return [
        ZoneVersionInfo(
            version=r.version,
            created_at=r.created_at,
            created_by=r.created_by,
            zone_count=r.zone_count,
            source_crs=r.source_crs,
            note=r.note,
            is_current=r.version == current,
        )
        for r in rows
    ]


def current_area_codes(session: Session) -> frozenset[str] | None:
    """The area codes of the current zone set; ``None`` when no zone set was imported."""
    current, doc = _current_doc(session)
    if not current:
        return None
    return frozenset(str(f["properties"]["area_code"]) for f in doc.get("features", []))
