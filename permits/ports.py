"""Ports of the parking-rights domain. The backend implements them in SQL; tests use
``permits.memory.InMemoryRightsRepository``."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Protocol

from permits.model import ChangeBatch, Right, RightsSnapshotData


class RightsRepository(Protocol):
    """The queries the rights decision needs."""

    def rights_for_plates(
        self, plate_keys: Collection[str], area_code: str, start: datetime, end: datetime
    ) -> Sequence[Right]:
        """Rights whose ``plate_key`` is in ``plate_keys``, that cover ``area_code`` (or the
        whole city) and whose ``[start, end]`` overlaps the given window (both inclusive).

        Returning more rights than that is allowed (the decision filters again); fewer is not.
        """
        ...


class RightsFeedSource(Protocol):
    """What the scan-car feed (snapshot + changes) needs from the backend's store."""

    def snapshot(self, start: datetime, end: datetime) -> RightsSnapshotData:
        """Every right valid at some moment in ``[start, end]``, plus the change-log cursor
        that this view corresponds to (changes after it are not in the snapshot)."""
        ...

    def changes_since(self, cursor: str, limit: int) -> ChangeBatch:
        """At most ``limit`` changes after ``cursor``, oldest first. Raises ``FeedError`` for
        an unknown cursor."""
        ...
