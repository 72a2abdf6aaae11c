"""``RightsSource`` implementations for the car's decision step, and the feed sync loop."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from permits.errors import FeedError
from permits.model import Decision
from scancar.rights.cache import SqliteRightsCache
from scancar.rights.errors import RightsUnavailableError
from scancar.rights.ports import (
    AnswerSource,
    OnlineRightsCheck,
    RightsAnswer,
    RightsCache,
    RightsFeedClient,
    RightsQuery,
)

log = logging.getLogger(__name__)


class CachedRightsSource:
    """Answers from the offline cache while it is fresh, else from the online check.

    The cache is used when its age is at most ``max_age`` and the check time lies in its
    snapshot window. Otherwise ``online`` is asked; when that fails (or there is none) a filled
    cache still answers, marked ``stale_cache`` so the car does not fine on it.
    """

    def __init__(
        self,
        cache: RightsCache,
        *,
        max_age: timedelta,
        clock: Callable[[], datetime],
        online: OnlineRightsCheck | None = None,
    ) -> None:
        if max_age <= timedelta(0):
            raise ValueError(f"max_age must be positive; got {max_age}")
        self._cache = cache
        self._max_age = max_age
        self._clock = clock
        self._online = online

    def check(self, query: RightsQuery) -> RightsAnswer:
        age = self._cache.age(self._clock())
        fresh = age is not None and age <= self._max_age and self._cache.covers(query.at)
        if fresh:
            return RightsAnswer(self._check_cache(query), AnswerSource.CACHE, age)
        if self._online is not None:
            try:
                return RightsAnswer(self._online(query), AnswerSource.ONLINE, age)
            except RightsUnavailableError as exc:
                log.warning("online rights check failed, using the stale cache: %s", exc)
        if age is None:
            raise RightsUnavailableError(
                "the rights cache has never been filled and the online check is unavailable"
            )
        return RightsAnswer(self._check_cache(query), AnswerSource.STALE_CACHE, age)

    def _check_cache(self, query: RightsQuery) -> Decision:
        return self._cache.check(
            query.plate,
            query.area_code,
            query.at,
            query.grace_minutes,
            allowed_permit_types=query.allowed_permit_types,
        )


def sync_cache(cache: SqliteRightsCache, client: RightsFeedClient, now: datetime) -> int:
    """Bring ``cache`` up to date: changes since its cursor, or a full snapshot when it has
    none, when ``now`` is outside its window, or when the backend no longer knows the cursor.

    Returns the number of feed batches applied.
    """
    applied = 0
    cursor = cache.cursor
    if cursor is not None and cache.covers(now):
        try:
            while True:
                page = client.changes(cursor)
                cache.apply_changes(page)
                applied += 1
                cursor = page.cursor
                if not page.has_more:
                    return applied
        except FeedError as exc:
            log.warning("rights feed cursor %r refused, taking a snapshot: %s", cursor, exc)
    cache.apply_snapshot(client.snapshot(now))  # its window around the car's clock
    return applied + 1
