"""Feed wire models, keyed plate hashes, snapshot and changes pages."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from permits.errors import FeedError
from permits.feed import (
    FeedChange,
    FeedRight,
    PlateKeyer,
    changes_page,
    from_feed_right,
    key_fingerprint,
    plate_key,
    snapshot_pages,
    to_feed_right,
)
from permits.memory import InMemoryRightsRepository
from permits.model import ChangeOp, PermitType, Right, RightKind
from permits.plates import lookalike_variants

KEY = bytes(range(32))
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def _right(right_id: str, plate: str = "GZ123T", start_h: int = -1, end_h: int | None = 1) -> Right:
    return Right(
        right_id,
        RightKind.PERMIT,
        plate,
        frozenset({"A1", "B2"}),
        NOW + timedelta(hours=start_h),
        None if end_h is None else NOW + timedelta(hours=end_h),
        PermitType.RESIDENT,
    )


@pytest.mark.parametrize("plate", ["GZ123T", "A", "1234567890", "XX99XX"])
def test_plate_key_is_hmac_sha256_hex(plate: str) -> None:
    expected = hmac.new(KEY, plate.encode(), hashlib.sha256).hexdigest()
    assert plate_key(plate, KEY) == expected
    assert PlateKeyer(KEY).hex(plate) == expected


@pytest.mark.parametrize("plate", ["GZ123T", "80XD1", "BBBBBB", "XXXXXX", "0123456789", "Q"])
def test_plate_keyer_lookalike_digests_are_the_keys_of_the_variants(plate: str) -> None:
    keyer = PlateKeyer(KEY)
    digests = keyer.lookalike_digests(plate)
    variants = lookalike_variants(plate)
    assert len(digests) == len(set(digests)) == len(variants)
    assert set(digests) == {hmac.new(KEY, v.encode(), hashlib.sha256).digest() for v in variants}


def test_plate_keyer_handles_keys_longer_than_a_block() -> None:
    long_key = bytes(range(100))
    assert PlateKeyer(long_key).hex("GZ123T") == plate_key("GZ123T", long_key)


def test_plate_key_differs_per_key_and_plate() -> None:
    other = bytes(range(1, 33))
    assert plate_key("GZ123T", KEY) != plate_key("GZ123T", other)
    assert plate_key("GZ123T", KEY) != plate_key("G2123T", KEY)


@pytest.mark.parametrize("key", [b"", b"short", bytes(31)])
def test_plate_key_refuses_short_keys(key: bytes) -> None:
    with pytest.raises(FeedError, match="at least 32 random bytes"):
        plate_key("GZ123T", key)


def test_key_fingerprint_does_not_reveal_key() -> None:
    fingerprint = key_fingerprint(KEY)
    assert len(fingerprint) == 16
    assert fingerprint != KEY.hex()[:16]
    assert fingerprint == PlateKeyer(KEY).key_id


def test_feed_right_round_trip_keeps_everything_but_the_plate() -> None:
    right = _right("permit:P1:0")
    wire = to_feed_right(right, PlateKeyer(KEY))
    assert wire.plate_key == plate_key("GZ123T", KEY)
    assert "GZ123T" not in wire.model_dump_json()
    back = from_feed_right(FeedRight.model_validate_json(wire.model_dump_json()))
    assert back == Right(
        right.id,
        right.kind,
        wire.plate_key,
        right.area_codes,
        right.start,
        right.end,
        right.permit_type,
    )


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"plate_key": "GZ123T"}, "64 lowercase hex"),
        ({"area_codes": ["A 1"]}, "area codes must be"),
        ({"start": "2026-03-02T12:00:00"}, "timezone"),
        ({"end": "2026-03-01T12:00:00Z"}, "before start"),
        ({"kind": "paid"}, "paid rights have no permit_type"),
        ({"kind": "bribe"}, "kind"),
        ({"extra": 1}, "extra"),
    ],
)
def test_feed_right_refuses_bad_wire_data(changes: dict[str, object], match: str) -> None:
    data: dict[str, object] = {
        "id": "r1",
        "kind": "permit",
        "permit_type": "resident",
        "plate_key": "a" * 64,
        "area_codes": ["A1"],
        "start": "2026-03-02T11:00:00Z",
        "end": "2026-03-02T13:00:00Z",
    }
    data.update(changes)
    with pytest.raises(ValidationError, match=match):
        FeedRight.model_validate(data)


def test_feed_change_requires_right_for_upsert_only() -> None:
    with pytest.raises(ValidationError, match="upsert carries the right"):
        FeedChange(op=ChangeOp.UPSERT, right_id="r1")
    with pytest.raises(ValidationError, match="upsert carries the right"):
        FeedChange(
            op=ChangeOp.REMOVE, right_id="r1", right=to_feed_right(_right("r1"), PlateKeyer(KEY))
        )


def test_snapshot_pages_cover_window_and_page_size() -> None:
    repo = InMemoryRightsRepository(
        [
            _right("now"),
            _right("ended-long-ago", start_h=-50, end_h=-2),
            _right("ended-within-lookback", start_h=-5, end_h=0),
            _right("tomorrow", start_h=23, end_h=30),
            _right("next-week", start_h=24 * 7, end_h=None),
            *[_right(f"bulk{i}", plate=f"AB{i:02d}CD") for i in range(5)],
        ]
    )
    pages = list(snapshot_pages(repo, PlateKeyer(KEY), NOW, page_size=3, snapshot_id="s1"))
    ids = [r.id for p in pages for r in p.rights]
    assert sorted(ids) == sorted(
        ["now", "ended-within-lookback", "tomorrow", *[f"bulk{i}" for i in range(5)]]
    )
    assert [p.page for p in pages] == [0, 1, 2]
    assert [p.is_last for p in pages] == [False, False, True]
    assert {p.cursor for p in pages} == {repo.cursor}
    assert {p.snapshot_id for p in pages} == {"s1"}
    assert (pages[0].window_start, pages[0].window_end) == (
        NOW - timedelta(hours=1),
        NOW + timedelta(hours=24),
    )


def test_snapshot_pages_of_empty_store_is_one_last_page() -> None:
    pages = list(snapshot_pages(InMemoryRightsRepository(), PlateKeyer(KEY), NOW))
    assert [(p.page, p.is_last, len(p.rights)) for p in pages] == [(0, True, 0)]


def test_changes_page_is_paged_and_ordered() -> None:
    repo = InMemoryRightsRepository()
    start = repo.cursor
    repo.upsert_right(_right("a"))
    repo.upsert_right(_right("b"))
    repo.upsert_right(_right("a", end_h=5))
    repo.remove_right("b")
    keyer = PlateKeyer(KEY)
    first = changes_page(repo, keyer, start, NOW, limit=3)
    assert [(c.op, c.right_id) for c in first.changes] == [
        (ChangeOp.UPSERT, "a"),
        (ChangeOp.UPSERT, "b"),
        (ChangeOp.UPSERT, "a"),
    ]
    assert first.has_more is True
    second = changes_page(repo, keyer, first.cursor, NOW, limit=3)
    assert [(c.op, c.right_id) for c in second.changes] == [(ChangeOp.REMOVE, "b")]
    assert (second.since, second.has_more) == (first.cursor, False)
    empty = changes_page(repo, keyer, second.cursor, NOW)
    assert (empty.changes, empty.cursor, empty.has_more) == ([], second.cursor, False)


@pytest.mark.parametrize("cursor", ["x", "-1", "99", "t.x", "t.-1", "t.99", "other.0"])
def test_changes_page_refuses_unknown_cursor(cursor: str) -> None:
    with pytest.raises(FeedError, match="unknown cursor"):
        changes_page(InMemoryRightsRepository(log_id="t"), PlateKeyer(KEY), cursor, NOW)


def test_repository_upsert_of_same_right_logs_nothing() -> None:
    repo = InMemoryRightsRepository([_right("a")])
    cursor = repo.cursor
    assert repo.upsert_right(_right("a")) is False
    assert repo.cursor == cursor
    assert repo.remove_right("missing") is False
