"""The offline rights feed for scan cars: wire models, keyed plate hashes, page builders.

Plates never travel to (or rest on) the car in plain text: every right carries
``plate_key = HMAC-SHA256(key, normalised plate)`` as lowercase hex, with a per-deployment key
that a device receives at enrolment. The car hashes the plate it read and that plate's
look-alike variants with the same key, so exact and look-alike matching still work there.

Backend routes call ``snapshot_pages`` (``GET /api/v1/rights/snapshot``) and ``changes_page``
(``GET /api/v1/rights/changes?since=<cursor>``) with their ``RightsFeedSource``; the car parses
the same models and feeds them to ``scancar.rights.cache.SqliteRightsCache``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from permits.errors import FeedError
from permits.model import (
    ChangeBatch,
    ChangeOp,
    PermitType,
    Right,
    RightChange,
    RightKind,
    require_aware,
)
from permits.plates import LOOKALIKE_GROUPS
from permits.ports import RightsFeedSource

FEED_VERSION = 1
MIN_KEY_BYTES = 32
DEFAULT_HORIZON = timedelta(hours=24)
DEFAULT_LOOKBACK = timedelta(hours=1)
DEFAULT_SNAPSHOT_PAGE_SIZE = 10_000
DEFAULT_CHANGES_LIMIT = 1_000
PLATE_KEY_HEX = re.compile(r"^[0-9a-f]{64}$")
AREA_CODE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_BLOCK = 64  # SHA-256 block size
# For each byte value, the other bytes of its OCR look-alike group (``permits.plates``).
_LOOKALIKE_BYTES: tuple[tuple[int, ...], ...] = tuple(
    tuple(
        sorted(
            ord(alt) for group in LOOKALIKE_GROUPS if chr(b) in group for alt in group - {chr(b)}
        )
    )
    for b in range(256)
)


def _require_key(key: bytes) -> None:
    if not isinstance(key, bytes) or len(key) < MIN_KEY_BYTES:
        raise FeedError(
            f"the plate key must be at least {MIN_KEY_BYTES} random bytes; got "
            f"{len(key) if isinstance(key, bytes) else type(key).__name__}"
        )


class PlateKeyer:
    """HMAC-SHA256 of plates under one key, with the key schedule computed once.

    About twice as fast as ``hmac.new`` per plate, which matters on the car where every read
    plate and each of its look-alike variants is hashed.
    """

    __slots__ = ("_inner_copy", "_outer_copy", "key_id")

    def __init__(self, key: bytes) -> None:
        _require_key(key)
        block = hashlib.sha256(key).digest() if len(key) > _BLOCK else key
        block = block.ljust(_BLOCK, b"\0")
        self._inner_copy = hashlib.sha256(bytes(b ^ 0x36 for b in block)).copy
        self._outer_copy = hashlib.sha256(bytes(b ^ 0x5C for b in block)).copy
        self.key_id = key_fingerprint(key)

    def digest(self, plate: str) -> bytes:
        """The 32-byte HMAC of a normalised plate."""
        inner = self._inner_copy()
        inner.update(plate.encode())
        outer = self._outer_copy()
        outer.update(inner.digest())
        return outer.digest()

    def hex(self, plate: str) -> str:
        return self.digest(plate).hex()

    def lookalike_digests(self, plate: str) -> list[bytes]:
        """The HMACs of every look-alike variant of a normalised plate: one per plate in
        ``permits.plates.lookalike_variants(plate)`` (so without the plate itself).

        The variants are made by changing one byte of a scratch buffer at a time, never as
        separate strings, because the car hashes them for every plate it reads without a right.
        """
        buffer = bytearray(plate.encode())
        inner_copy, outer_copy, table = self._inner_copy, self._outer_copy, _LOOKALIKE_BYTES
        digests: list[bytes] = []
        for i, original in enumerate(buffer):
            for alternative in table[original]:
                buffer[i] = alternative
                inner = inner_copy()
                inner.update(buffer)
                outer = outer_copy()
                outer.update(inner.digest())
                digests.append(outer.digest())
            buffer[i] = original
        return digests


def plate_key(plate: str, key: bytes) -> str:
    """``HMAC-SHA256(key, plate)`` as 64 lowercase hex characters. ``plate`` must be normalised."""
    _require_key(key)
    return hmac.new(key, plate.encode("ascii"), hashlib.sha256).hexdigest()


def key_fingerprint(key: bytes) -> str:
    """A short id of the key (not the key): lets car and feed check they use the same key."""
    _require_key(key)
    return hmac.new(key, b"scancar rights key id", hashlib.sha256).hexdigest()[:16]


# --- wire models --------------------------------------------------------------------------

RightId = Annotated[str, Field(min_length=1, max_length=200)]


class FeedRight(BaseModel):
    """One right on the wire. ``area_codes`` empty means the whole city."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: RightId
    kind: RightKind
    permit_type: PermitType | None = None
    plate_key: str = Field(description="HMAC-SHA256 of the normalised plate, lowercase hex")
    area_codes: tuple[str, ...] = ()
    start: AwareDatetime
    end: AwareDatetime | None = None

    @field_validator("plate_key")
    @classmethod
    def _plate_key_is_hex(cls, v: str) -> str:
        if not PLATE_KEY_HEX.fullmatch(v):
            raise ValueError(f"plate_key must be 64 lowercase hex characters; got {v!r}")
        return v

    @field_validator("area_codes")
    @classmethod
    def _area_codes_are_codes(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        bad = [code for code in v if not AREA_CODE.fullmatch(code)]
        if bad:
            raise ValueError(
                f"area codes must be 1-64 characters of A-Z a-z 0-9 _ . : -; got {bad!r}"
            )
        return tuple(sorted(set(v)))

    @model_validator(mode="after")
    def _consistent(self) -> FeedRight:
        if self.end is not None and self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        if (self.kind is RightKind.PAID) != (self.permit_type is None):
            raise ValueError("paid rights have no permit_type; every other kind needs one")
        return self


class FeedChange(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    op: ChangeOp
    right_id: RightId
    right: FeedRight | None = None

    @model_validator(mode="after")
    def _consistent(self) -> FeedChange:
        if (self.op is ChangeOp.UPSERT) != (self.right is not None):
            raise ValueError("an upsert carries the right, a removal carries none")
        if self.right is not None and self.right.id != self.right_id:
            raise ValueError(f"right_id {self.right_id!r} differs from right.id {self.right.id!r}")
        return self


class RightsSnapshotPage(BaseModel):
    """One page of ``GET /api/v1/rights/snapshot``: rights valid in ``[window_start, window_end]``.

    A snapshot is pages ``0..n`` with the same ``snapshot_id``; the last has ``is_last``.
    ``cursor`` is where the car continues with ``/rights/changes`` afterwards.
    """

    model_config = ConfigDict(extra="forbid")

    feed_version: Literal[1] = 1
    key_id: str
    snapshot_id: str
    generated_at: AwareDatetime
    window_start: AwareDatetime
    window_end: AwareDatetime
    cursor: str
    page: int = Field(ge=0)
    is_last: bool
    rights: list[FeedRight]


class RightsChangesPage(BaseModel):
    """``GET /api/v1/rights/changes?since=<cursor>``: changes in order, and the next cursor."""

    model_config = ConfigDict(extra="forbid")

    feed_version: Literal[1] = 1
    key_id: str
    generated_at: AwareDatetime
    since: str
    cursor: str
    has_more: bool
    changes: list[FeedChange]


# --- conversion ---------------------------------------------------------------------------


def to_feed_right(right: Right, keyer: PlateKeyer) -> FeedRight:
    """The wire form of a backend right (whose ``plate_key`` is the plain plate)."""
    return FeedRight(
        id=right.id,
        kind=right.kind,
        permit_type=right.permit_type,
        plate_key=keyer.hex(right.plate_key),
        area_codes=tuple(sorted(right.area_codes)),
        start=right.start,
        end=right.end,
    )


def from_feed_right(feed_right: FeedRight) -> Right:
    """The domain right of a wire right; its ``plate_key`` stays the hex hash."""
    return Right(
        id=feed_right.id,
        kind=feed_right.kind,
        plate_key=feed_right.plate_key,
        area_codes=frozenset(feed_right.area_codes),
        start=feed_right.start,
        end=feed_right.end,
        permit_type=feed_right.permit_type,
    )


def to_feed_change(change: RightChange, keyer: PlateKeyer) -> FeedChange:
    right = None if change.right is None else to_feed_right(change.right, keyer)
    return FeedChange(op=change.op, right_id=change.right_id, right=right)


def snapshot_pages(
    source: RightsFeedSource,
    keyer: PlateKeyer,
    now: datetime,
    *,
    horizon: timedelta = DEFAULT_HORIZON,
    lookback: timedelta = DEFAULT_LOOKBACK,
    page_size: int = DEFAULT_SNAPSHOT_PAGE_SIZE,
    snapshot_id: str | None = None,
) -> Iterator[RightsSnapshotPage]:
    """Pages of every right valid now or within ``horizon``, plus the cursor to continue from.

    The window also reaches ``lookback`` into the past, so a car can still check observations
    made just before it took the snapshot. A snapshot with no rights still yields one (empty,
    last) page.
    """
    require_aware("now", now)
    if page_size < 1:
        raise FeedError(f"page_size must be 1 or more; got {page_size}")
    data = source.snapshot(now - lookback, now + horizon)
    sid = snapshot_id or uuid.uuid4().hex
    rights = data.rights
    count = max(1, -(-len(rights) // page_size))
    for page in range(count):
        chunk = rights[page * page_size : (page + 1) * page_size]
        yield RightsSnapshotPage(
            key_id=keyer.key_id,
            snapshot_id=sid,
            generated_at=now,
            window_start=data.start,
            window_end=data.end,
            cursor=data.cursor,
            page=page,
            is_last=page == count - 1,
            rights=[to_feed_right(r, keyer) for r in chunk],
        )


def changes_page(
    source: RightsFeedSource,
    keyer: PlateKeyer,
    since: str,
    now: datetime,
    *,
    limit: int = DEFAULT_CHANGES_LIMIT,
) -> RightsChangesPage:
    """The changes after ``since`` (at most ``limit``) and the cursor to ask from next."""
    require_aware("now", now)
    batch: ChangeBatch = source.changes_since(since, limit)
    return RightsChangesPage(
        key_id=keyer.key_id,
        generated_at=now,
        since=since,
        cursor=batch.cursor,
        has_more=batch.has_more,
        changes=[to_feed_change(c, keyer) for c in batch.changes],
    )
