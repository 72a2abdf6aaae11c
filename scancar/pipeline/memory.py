"""In-memory chalk store and repeat guard (tests, and a car without a data dir). Like the SQLite
adapters they hold only keyed hashes of plates."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from scancar.gps.geometry import distance_m
from scancar.pipeline.ports import ChalkMatch


def plate_digest(key: bytes, *parts: str) -> str:
    """HMAC-SHA256 of the joined parts, hex: what the chalk store and repeat guard keep."""
    return hmac.new(key, "|".join(parts).encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class _Mark:
    lon: float
    lat: float
    first_seen_at: datetime
    keep_until: datetime


class InMemoryChalkStore:
    def __init__(self, key: bytes = b"in-memory-chalk-key-0123456789ab") -> None:
        self._key = key
        self._marks: dict[str, _Mark] = {}

    def sight(
        self,
        plate: str,
        lon: float,
        lat: float,
        at: datetime,
        *,
        max_distance_m: float,
        keep_until: datetime,
    ) -> ChalkMatch:
        self.purge(at)
        digest = plate_digest(self._key, plate)
        mark = self._marks.get(digest)
        if mark is not None and distance_m(lon, lat, mark.lon, mark.lat) <= max_distance_m:
            return ChalkMatch(mark.first_seen_at, is_new=False)
        self._marks[digest] = _Mark(lon, lat, at, keep_until)
        return ChalkMatch(at, is_new=True)

    def purge(self, now: datetime) -> int:
        expired = [d for d, m in self._marks.items() if m.keep_until < now]
        for digest in expired:
            del self._marks[digest]
        return len(expired)

    def __len__(self) -> int:
        return len(self._marks)


class InMemoryRepeatGuard:
    def __init__(self, key: bytes = b"in-memory-repeat-key-0123456789a") -> None:
        self._key = key
        self._reports: dict[str, datetime] = {}

    def is_recent(self, plate: str, zone_id: str, at: datetime) -> bool:
        until = self._reports.get(plate_digest(self._key, plate, zone_id))
        return until is not None and at <= until

    def record(self, plate: str, zone_id: str, at: datetime, *, keep_until: datetime) -> None:
        for digest in [d for d, until in self._reports.items() if until < at]:
            del self._reports[digest]
        self._reports[plate_digest(self._key, plate, zone_id)] = keep_until
