"""Zones: upload a new version (admin), read the current or an older one, locate a point."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.auth.principal import Principal, Role
from api.db import utcnow
from api.deps import SessionDep, ZoneCatalogDep, allow
from api.errors import Unprocessable
from api.limits import INT32_MAX, QueryTime
from api.zones import service, versions
from api.zones.db import ZoneVersionRow
from zones.geojson import load_feature_collection
from zones.geowriter import window_to_json, zone_properties

router = APIRouter(prefix="/api/v1/zones", tags=["zones"])
ANY_ROLE = tuple(Role)


class ZoneVersionOut(BaseModel):
    version: int
    created_at: datetime
    created_by: str
    zone_count: int
    source_crs: str
    note: str


class ZoneChangeOut(BaseModel):
    zone_id: str
    fields: list[str]


class ZoneDiffOut(BaseModel):
    added: list[str]
    changed: list[ZoneChangeOut]
    removed: list[str]
    summary: str


class ZoneUploadOut(ZoneVersionOut):
    created: bool  # false: identical to the current version (or a dry run)
    dry_run: bool
    previous_version: int
    diff: ZoneDiffOut
    repairs: list[str]
    warnings: list[str]


class ZoneVersionsPage(BaseModel):
    data: list[ZoneVersionOut]
    count: int


class LocatedZone(BaseModel):
    id: str
    name: str
    kind: str
    area_code: str
    properties: dict[str, Any]


class LocateOut(BaseModel):
    zone: LocatedZone | None
    regulated: bool
    window: dict[str, Any] | None
    tariff_cents_per_hour: float | None
    max_stay_minutes: int | None
    uncertain: bool
    nearby_zone_ids: list[str]
    distance_to_edge_m: float | None
    version: int


def _version_out(row: ZoneVersionRow) -> dict[str, Any]:
    return row.model_dump(include=set(ZoneVersionOut.model_fields))


@router.put(
    "",
    response_model=ZoneUploadOut,
    status_code=201,
    responses={
        200: {
            "model": ZoneUploadOut,
            "description": "identical to the current version, or a dry run: nothing stored",
        }
    },
)
def put_zones(
    session: SessionDep,
    admin: Annotated[Principal, allow(Role.ADMIN)],
    collection: Annotated[dict[str, Any], Body(description="a GeoJSON FeatureCollection")],
    crs: Annotated[str | None, Query(max_length=32, description="EPSG:28992 for RD New")] = None,
    fix: Annotated[bool, Query(description="repair invalid geometry with make_valid")] = False,
    note: Annotated[str, Query(max_length=500)] = "",
    dry_run: Annotated[bool, Query(description="only report what would change")] = False,
) -> JSONResponse:
    """Validate and store a new zone version (all or nothing; 422 lists every problem).

    A set identical to the current version stores nothing (200, ``created: false``); the
    answer always carries the diff against the current version."""
    imported = load_feature_collection(collection, crs=crs, fix=fix)
    change = versions.import_zone_set(session, imported, admin, note=note, dry_run=dry_run)
    session.commit()
    row = None if dry_run else versions.version_row(session, change.version)
    shown = (
        _version_out(row)
        if row is not None
        else {
            "version": change.version,
            "created_at": utcnow(),
            "created_by": admin.name,
            "zone_count": change.zone_count,
            "source_crs": imported.source_crs,
            "note": note,
        }
    )
    out = ZoneUploadOut(
        **shown,
        created=change.is_created,
        dry_run=dry_run,
        previous_version=change.previous_version,
        diff=_diff_out(change.diff),
        repairs=[str(r) for r in imported.repairs],
        warnings=[str(w) for w in imported.warnings],
    )
    return JSONResponse(out.model_dump(mode="json"), status_code=201 if change.is_created else 200)


def _diff_out(diff: versions.ZoneDiff) -> ZoneDiffOut:
    return ZoneDiffOut(
        added=list(diff.added),
        changed=[ZoneChangeOut(zone_id=c.zone_id, fields=list(c.fields)) for c in diff.changed],
        removed=list(diff.removed),
        summary=diff.summary(),
    )


@router.get("", response_model=dict[str, Any])
def get_zones(
    session: SessionDep,
    _: Annotated[Principal, allow(*ANY_ROLE)],
    version: Annotated[int | None, Query(ge=1, le=INT32_MAX)] = None,
) -> dict[str, Any]:
    """The current zone set (or ``?version=N``) as a GeoJSON FeatureCollection (WGS84)."""
    number, doc = service.version_geojson(session, version)
    return {**doc, "version": number}


@router.get("/versions", response_model=ZoneVersionsPage)
def list_versions(
    session: SessionDep, _: Annotated[Principal, allow(Role.ADMIN, Role.BACKOFFICE)]
) -> ZoneVersionsPage:
    rows = versions.list_zone_versions(session)
    data = [
        ZoneVersionOut(
            version=r.version,
            created_at=r.created_at,
            created_by=r.created_by,
            zone_count=r.zone_count,
            source_crs=r.source_crs,
            note=r.note,
        )
        for r in rows
    ]
    return ZoneVersionsPage(data=data, count=len(data))


@router.get("/locate", response_model=LocateOut)
def locate(
    session: SessionDep,
    catalog: ZoneCatalogDep,
    _: Annotated[Principal, allow(*ANY_ROLE)],
    lon: Annotated[float, Query(ge=-180, le=180)],
    lat: Annotated[float, Query(ge=-90, le=90)],
    at: Annotated[QueryTime | None, Query(description="ISO 8601 with offset; default now")] = None,
    radius_m: Annotated[float, Query(ge=0, le=500, description="GPS uncertainty")] = 10.0,
) -> LocateOut:
    """Which zone is at this point, is parking regulated at ``at``, and is that certain?"""
    if at is not None and at.tzinfo is None:
        raise Unprocessable(
            "at must carry a time-zone offset, e.g. 2026-11-26T10:00:00+01:00", code="naive_time"
        )
    zone_set = catalog.current(session)
    result = zone_set.index.locate_with_margin(lon, lat, radius_m)
    zone = result.zone
    if zone is None:
        return LocateOut(
            zone=None,
            regulated=False,
            window=None,
            tariff_cents_per_hour=None,
            max_stay_minutes=None,
            uncertain=result.is_uncertain,
            nearby_zone_ids=list(result.nearby_zone_ids),
            distance_to_edge_m=result.distance_m,
            version=zone_set.version,
        )
    reg = zone_set.index.regulation_at(zone, at or utcnow())
    return LocateOut(
        zone=LocatedZone(
            id=zone.id,
            name=zone.name,
            kind=zone.kind.value,
            area_code=zone.area_code,
            properties=zone_properties(zone),
        ),
        regulated=reg.regulated,
        window=window_to_json(reg.window) if reg.window else None,
        tariff_cents_per_hour=float(reg.tariff_cents_per_hour)
        if reg.tariff_cents_per_hour is not None
        else None,
        max_stay_minutes=reg.max_stay_minutes,
        uncertain=result.is_uncertain,
        nearby_zone_ids=list(result.nearby_zone_ids),
        distance_to_edge_m=result.distance_m,
        version=zone_set.version,
    )
