"""Ports of the enforcement pipeline. Adapters: ``scancar.chalk.SqliteChalkStore`` /
``SqliteRepeatGuard`` (SQLite on the car), ``scancar.outbox.SqliteOutbox`` (``SuspectSink``),
``scancar.gps.Track`` / ``LiveTrack`` (``PositionLookup``), ``scancar.rights`` (``RightsSource``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from scancar.gps.model import Position
from scancar.rights.ports import RightsSource
from scancar.wire import ObservationMetadata

__all__ = [
    "ChalkMatch",
    "ChalkStore",
    "Clock",
    "PositionLookup",
    "RepeatGuard",
    "RightsSource",
    "SuspectSink",
]


class Clock(Protocol):
    def __call__(self) -> datetime: ...


@dataclass(frozen=True, slots=True)
class ChalkMatch:
    """A sighting against the chalk marks: when this plate was first seen here."""

    first_seen_at: datetime
    is_new: bool  # no mark near this position: a new mark was stored (or an old one reset)


class ChalkStore(Protocol):
    """Digital chalking (krijten). Implementations store only keyed hashes of plates."""

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
        """The mark of ``plate`` within ``max_distance_m`` of the position, else store a new
        one (replacing a mark farther away: the car moved) that lives until ``keep_until``."""
        ...

    def purge(self, now: datetime) -> int:
        """Delete expired marks; returns how many."""
        ...


class RepeatGuard(Protocol):
    """One report per plate and zone within a window (keyed hashes only)."""

    def is_recent(self, plate: str, zone_id: str, at: datetime) -> bool: ...

    def record(self, plate: str, zone_id: str, at: datetime, *, keep_until: datetime) -> None: ...


class SuspectSink(Protocol):
    """Where suspects go: ``SqliteOutbox.put`` (durable store-and-forward)."""

    def put(self, metadata: ObservationMetadata, evidence: Mapping[str, bytes]) -> None: ...


class PositionLookup(Protocol):
    """The car's position at an instant (``Track``, ``LiveTrack``)."""

    def position_at(self, t: datetime) -> Position | None: ...
