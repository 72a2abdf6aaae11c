"""Zone sets as versions: every upload is kept with who and when."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text
from sqlmodel import Field, SQLModel

from api.db import UTCDateTime, utcnow


class ZoneVersionRow(SQLModel, table=True):
    __tablename__ = "zone_versions"

    id: int | None = Field(default=None, primary_key=True)
    version: int = Field(unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by: str = Field(max_length=64)
    zone_count: int
    source_crs: str = Field(max_length=32)
    note: str = Field(default="", max_length=500)
    geojson: str = Field(sa_type=Text)  # normalised WGS84 FeatureCollection
