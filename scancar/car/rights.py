"""The car's rights: the keyed offline cache, usable only while the plate key is in memory.

The plate key comes from the backend at every start (``GET /rights/feed-key`` with the device
token, so a revoked device cannot get it again) and is never written to disk. The cache file
(``rights-<key id>.sqlite3``) holds only keyed hashes and the feed position; it survives a
restart, but without the key it tells nothing. So a car that starts with the backend down has
its zone set and cache file but cannot check rights: every pass is "rights unknown"
(``discard_rights_unavailable``: counted, shown in health and heartbeats, never a fine) until
the key is fetched. The backend rotates the key (``rotates_at``); the car then fetches the new
key, builds a new cache file from a new snapshot, swaps it in and deletes the old file.

A car without a backend (a test rig) may be given a key file; replay does the same with
``--rights-key``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from permits.feed import RightsSnapshotPage
from scancar.car.backend import (
    BackendLink,
    BackendRefusalError,
    BackendUnreachableError,
    PlateKey,
)
from scancar.rights.cache import SqliteRightsCache
from scancar.rights.errors import CacheKeyMismatchError, RightsCacheError, RightsUnavailableError
from scancar.rights.ports import (
    AnswerSource,
    OnlineRightsCheck,
    RightsAnswer,
    RightsFeedClient,
    RightsQuery,
)
from scancar.rights.source import CachedRightsSource, sync_cache

log = logging.getLogger("scancar.rights")

LEGACY_FILES = ("rights.key", "rights.sqlite3", "rights.sqlite3-wal", "rights.sqlite3-shm")


class RightsState:
    NO_KEY = "no_key"  # rights unknown (only an online check could answer): nothing is fined
    CACHE = "cache"  # keyed cache in use (fresh or stale: see cache_age_s)


def cache_path(data_dir: Path, key_id: str) -> Path:
    return data_dir / f"rights-{key_id}.sqlite3"


def remove_cache_files(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


def remove_legacy_key(data_dir: Path) -> None:
    """Older versions kept ``rights.key`` (and a cache under it) in the data folder."""
    removed = [name for name in LEGACY_FILES if (data_dir / name).exists()]
    for name in removed:
        (data_dir / name).unlink()
    if removed:
        log.warning(
            "removed the plate key file and cache an older version left in the data folder "
            "(%s); the key now lives in memory only",
            ", ".join(removed),
        )


def read_snapshot_file(path: Path) -> list[RightsSnapshotPage]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [RightsSnapshotPage.model_validate_json(line) for line in lines if line.strip()]


class CarRights:
    """``RightsSource`` of the pipeline; thread-safe (checks and key swaps under one lock)."""

    def __init__(
        self,
        data_dir: Path,
        *,
        max_age: timedelta,
        clock: Callable[[], datetime],
        online: OnlineRightsCheck | None = None,
        feed: RightsFeedClient | None = None,
        seed_snapshot: Path | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.max_age = max_age
        self._clock = clock
        self._online = online
        self._feed = feed
        self._seed = seed_snapshot
        self._lock = threading.Lock()
        self._cache: SqliteRightsCache | None = None
        self._source: CachedRightsSource | None = None
        self.key: PlateKey | None = None
        self.last_sync_error: str | None = None

    # ------------------------------------------------------------------ the key
    def install_key(self, key: PlateKey) -> bool:
        """Open (or create) the cache of ``key`` and use it; drop the caches of other keys.

        A new cache is filled first (seed snapshot, else the feed's snapshot); when that fails
        while an older cache is in use, the older one stays (False) until the next attempt.
        """
        path = cache_path(self.data_dir, key.key_id)
        cache = SqliteRightsCache(path, key.key)
        if cache.cursor is None:
            try:
                if self._seed is not None:
                    cache.apply_snapshot(read_snapshot_file(self._seed))
                elif self._feed is not None:
                    sync_cache(cache, self._feed, self._clock())
            except RightsCacheError as exc:
                log.warning("rights snapshot for key %s failed: %s", key.key_id, exc)
                if self._cache is not None:
                    cache.close()
                    remove_cache_files(path)
                    return False
        source = CachedRightsSource(
            cache, max_age=self.max_age, clock=self._clock, online=self._online
        )
        with self._lock:
            old, self._cache, self._source, self.key = self._cache, cache, source, key
        if old is not None:
            old.close()
        for other in self.data_dir.glob("rights-*.sqlite3"):
            if other != path:
                remove_cache_files(other)
        return True

    @property
    def state(self) -> str:
        return RightsState.CACHE if self._source is not None else RightsState.NO_KEY

    @property
    def has_key(self) -> bool:
        return self.key is not None

    # ------------------------------------------------------------------ RightsSource
    def check(self, query: RightsQuery) -> RightsAnswer:
        with self._lock:
            source = self._source
            if source is not None:
                return source.check(query)
        if self._online is not None:
            return RightsAnswer(self._online(query), AnswerSource.ONLINE, None)
        raise RightsUnavailableError("rights unknown: the plate key has not been fetched yet")

    # ------------------------------------------------------------------ feed
    def sync(self, now: datetime) -> bool:
        """Bring the cache up to date from the feed; False (logged) when it failed."""
        cache, feed = self._cache, self._feed
        if cache is None or feed is None:
            return False
        try:
            sync_cache(cache, feed, now)
        except RightsCacheError as exc:
            if self.last_sync_error is None:
                log.warning("rights feed sync failed: %s", exc)
            self.last_sync_error = str(exc)
            if isinstance(exc, CacheKeyMismatchError):
                raise
            return False
        if self.last_sync_error is not None:
            log.info("rights feed sync works again (%d rights)", len(cache))
        self.last_sync_error = None
        return True

    def cache_age(self, now: datetime) -> timedelta | None:
        cache = self._cache
        return None if cache is None else cache.age(now)

    @property
    def cache_size(self) -> int | None:
        cache = self._cache
        return None if cache is None else len(cache)

    def close(self) -> None:
        with self._lock:
            cache, self._cache, self._source = self._cache, None, None
        if cache is not None:
            cache.close()


class RightsKeeper:
    """Live car: fetches the key (until it has one), syncs the feed every ``interval_s`` and
    follows the backend's key rotation. Runs in its own thread; logs each change once."""

    def __init__(
        self,
        rights: CarRights,
        link: BackendLink,
        *,
        interval_s: float,
        clock: Callable[[], datetime],
        retry_s: float = 10.0,
    ) -> None:
        self.rights = rights
        self.link = link
        self.interval_s = interval_s
        self.retry_s = retry_s
        self._clock = clock
        self._unreachable_logged = False
        self.refused: str | None = None

    def fetch_key(self) -> bool:
        """One attempt; True when a (new) key is installed and synced."""
        try:
            key = self.link.plate_key()
        except BackendUnreachableError as exc:
            if not self._unreachable_logged:
                log.warning(
                    "rights unknown until the plate key is fetched: backend unreachable (%s)",
                    exc,
                )
                self._unreachable_logged = True
            return False
        except BackendRefusalError as exc:
            if self.refused is None:
                log.error("rights unknown: %s", exc)
            self.refused = str(exc)
            return False
        self.refused = None
        self._unreachable_logged = False
        if self.rights.key is not None and self.rights.key.key_id == key.key_id:
            return True
        rotated = self.rights.key is not None
        if not self.rights.install_key(key):
            return False
        log.info(
            "rights: plate key %s (%s), cache of %s rights",
            "rotated" if rotated else "fetched",
            key.key_id,
            self.rights.cache_size,
        )
        return True

    def _due_for_new_key(self, now: datetime) -> bool:
        key = self.rights.key
        return key is None or (key.rotates_at is not None and now >= key.rotates_at)

    def step(self) -> float:
        """One round; returns the seconds to wait before the next."""
        now = self._clock()
        if self._due_for_new_key(now) and not self.fetch_key():
            return self.retry_s if self.rights.key is None else self.interval_s
        try:
            self.rights.sync(now)
        except CacheKeyMismatchError:  # the backend rotated the key: fetch it, new snapshot
            self.fetch_key()
        return self.interval_s

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                delay = self.step()
            except Exception:  # keep the thread: the next round tries again
                log.exception("rights keeper round failed")
                delay = self.retry_s
            if stop.wait(delay):
                return
