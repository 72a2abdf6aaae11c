"""``InMemoryRightsRepository``: the pure, in-memory rights store.

It implements ``RightsRepository`` and ``RightsFeedSource``, keeps a change log (the cursor is
the log position) and derives rights from permits and sessions exactly as the SQL store must.
Tests use it as "the backend"; it is also the reference for the SQL implementation.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime

from permits.errors import FeedError
from permits.model import (
    ChangeBatch,
    ChangeOp,
    PaidSession,
    Permit,
    Right,
    RightChange,
    RightsSnapshotData,
    VisitorSession,
    right_from_paid_session,
    right_from_visitor_session,
    rights_from_permit,
)


def _overlaps(right: Right, start: datetime, end: datetime) -> bool:
    return right.start <= end and (right.end is None or right.end >= start)


class InMemoryRightsRepository:
    def __init__(self, rights: Iterable[Right] = (), *, log_id: str | None = None) -> None:
        # Cursors are "<log id>.<position>": a cursor of another log (another deployment, or a
        # log that was rebuilt) is refused instead of silently skipping changes.
        self._log_id = log_id or uuid.uuid4().hex[:12]
        self._rights: dict[str, Right] = {}
        self._by_plate: dict[str, set[str]] = {}
        self._by_permit: dict[str, set[str]] = {}
        self._log: list[RightChange] = []
        for right in rights:
            self.upsert_right(right)

    # --- writes -------------------------------------------------------------------------
    def upsert_right(self, right: Right) -> bool:
        """Add or replace a right; returns False (and logs nothing) when nothing changed."""
        old = self._rights.get(right.id)
        if old == right:
            return False
        if old is not None:
            self._unindex(old)
        self._rights[right.id] = right
        self._by_plate.setdefault(right.plate_key, set()).add(right.id)
        self._log.append(RightChange(ChangeOp.UPSERT, right.id, right))
        return True

    def remove_right(self, right_id: str) -> bool:
        old = self._rights.pop(right_id, None)
        if old is None:
            return False
        self._unindex(old)
        self._log.append(RightChange(ChangeOp.REMOVE, right_id))
        return True

    def _unindex(self, right: Right) -> None:
        ids = self._by_plate.get(right.plate_key)
        if ids is not None:
            ids.discard(right.id)
            if not ids:
                del self._by_plate[right.plate_key]

    def put_permit(self, permit: Permit) -> None:
        """Make the stored rights of ``permit`` equal to what its current state gives."""
        wanted = {r.id: r for r in rights_from_permit(permit)}
        for right_id in sorted(self._by_permit.get(permit.id, set()) - wanted.keys()):
            self.remove_right(right_id)
        for right in wanted.values():
            self.upsert_right(right)
        self._by_permit[permit.id] = set(wanted)

    def put_paid_session(self, session: PaidSession) -> None:
        """Idempotent on (provider, provider_session_id): a repeat replaces the same right."""
        self.upsert_right(right_from_paid_session(session))

    def put_visitor_session(self, session: VisitorSession) -> None:
        self.upsert_right(right_from_visitor_session(session))

    # --- RightsRepository ---------------------------------------------------------------
    def rights_for_plates(
        self, plate_keys: Collection[str], area_code: str, start: datetime, end: datetime
    ) -> Sequence[Right]:
        found: list[Right] = []
        for key in plate_keys:
            for right_id in self._by_plate.get(key, ()):
                right = self._rights[right_id]
                if right.covers_area(area_code) and _overlaps(right, start, end):
                    found.append(right)
        return found

    # --- RightsFeedSource ---------------------------------------------------------------
    @property
    def cursor(self) -> str:
        return f"{self._log_id}.{len(self._log)}"

    def snapshot(self, start: datetime, end: datetime) -> RightsSnapshotData:
        rights = tuple(
            sorted(
                (r for r in self._rights.values() if _overlaps(r, start, end)),
                key=lambda r: r.id,
            )
        )
        return RightsSnapshotData(rights=rights, cursor=self.cursor, start=start, end=end)

    def changes_since(self, cursor: str, limit: int) -> ChangeBatch:
        log_id, _, position_text = cursor.rpartition(".")
        if (
            log_id != self._log_id
            or not position_text.isdigit()
            or int(position_text) > len(self._log)
        ):
            raise FeedError(
                f"unknown cursor {cursor!r}; allowed: a cursor this feed returned "
                f"({self._log_id}.0 .. {self.cursor}); take a new snapshot"
            )
        if limit < 1:
            raise FeedError(f"limit must be 1 or more; got {limit}")
        position = int(position_text)
        changes = tuple(self._log[position : position + limit])
        new_position = position + len(changes)
        return ChangeBatch(
            changes=changes,
            cursor=f"{self._log_id}.{new_position}",
            has_more=new_position < len(self._log),
        )

    # --- inspection ---------------------------------------------------------------------
    def get(self, right_id: str) -> Right | None:
        return self._rights.get(right_id)

    def all_rights(self) -> tuple[Right, ...]:
        return tuple(self._rights.values())

    def __len__(self) -> int:
        return len(self._rights)
