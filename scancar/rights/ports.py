"""Ports of the car's rights step. The decision step talks to ``RightsSource``; adapters
(HTTP client for the online check and for the feed) are written with the car's HTTP layer."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from permits.feed import RightsChangesPage, RightsSnapshotPage
from permits.model import Decision, PermitType, require_aware


@dataclass(frozen=True, slots=True)
class RightsQuery:
    """One check: the plate as read, where (area code, and the position for the online check)
    and when. ``allowed_permit_types`` comes from the zone (None: every type)."""

    plate: str
    area_code: str
    at: datetime
    grace_minutes: int = 0
    allowed_permit_types: frozenset[PermitType] | None = None
    lon: float | None = None
    lat: float | None = None

    def __post_init__(self) -> None:
        require_aware("at", self.at)


class AnswerSource(enum.StrEnum):
    CACHE = "cache"  # fresh offline cache
    ONLINE = "online"  # backend's /rights/check
    STALE_CACHE = "stale_cache"  # cache older than allowed and online failed: do not fine on it


@dataclass(frozen=True, slots=True)
class RightsAnswer:
    decision: Decision
    source: AnswerSource
    cache_age: timedelta | None  # None: the cache has never been filled


class RightsSource(Protocol):
    """What the car's decision step asks."""

    def check(self, query: RightsQuery) -> RightsAnswer: ...


class RightsCache(Protocol):
    """An offline rights store the car can ask (``SqliteRightsCache`` is one)."""

    def check(
        self,
        plate: str,
        area_code: str,
        at: datetime,
        grace_minutes: int = 0,
        *,
        allowed_permit_types: frozenset[PermitType] | None = None,
    ) -> Decision: ...

    def age(self, now: datetime) -> timedelta | None: ...

    def covers(self, at: datetime) -> bool: ...


class OnlineRightsCheck(Protocol):
    """The backend's ``GET /api/v1/rights/check`` as a callable.

    Raise ``scancar.rights.errors.RightsUnavailableError`` when the backend cannot be reached
    or answers with an error; the source then falls back to the (stale) cache.
    """

    def __call__(self, query: RightsQuery) -> Decision: ...


class RightsFeedClient(Protocol):
    """The backend's rights feed as seen from the car (``/rights/snapshot``, ``/changes``)."""

    def snapshot(self, at: datetime | None = None) -> Iterable[RightsSnapshotPage]:
        """The rights valid around ``at`` (the car's clock; default the backend's now)."""
        ...

    def changes(self, since: str) -> RightsChangesPage:
        """Raise ``permits.errors.FeedError`` when the backend no longer knows ``since``."""
        ...
