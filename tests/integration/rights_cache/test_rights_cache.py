"""The car's SQLite rights cache against the pure backend (``InMemoryRightsRepository``)."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from permits.errors import FeedError, InvalidPlateError, NaiveDatetimeError
from permits.feed import (
    PlateKeyer,
    RightsChangesPage,
    RightsSnapshotPage,
    changes_page,
    snapshot_pages,
    to_feed_right,
)
from permits.lifecycle import PermitAction, change_plate, transition
from permits.memory import InMemoryRightsRepository
from permits.model import (
    Decision,
    DecisionReason,
    PaidSession,
    Permit,
    PermitStatus,
    PermitType,
    PlatePeriod,
    Right,
    RightKind,
    VisitorSession,
)
from permits.plates import lookalike_variants
from permits.rules import decide
from permits.service import check as backend_check
from scancar.rights.cache import IndexMode, SqliteRightsCache
from scancar.rights.errors import (
    CacheKeyMismatchError,
    FeedOrderError,
    RightsUnavailableError,
)
from scancar.rights.ports import AnswerSource, RightsQuery
from scancar.rights.source import CachedRightsSource, sync_cache

KEY = bytes(range(100, 132))
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
AREAS = ["A1", "A2", "B1", "C7"]
LETTERS = "BDFGHJKLNPRSTVXZ"


# --- a random "backend" -----------------------------------------------------------------


def _plate(rng: random.Random) -> str:
    pattern = rng.choice(["LLDDDL", "DDLLLD", "LDDDLL", "LLDDLL"])
    return "".join(rng.choice(LETTERS if c == "L" else "0123456789") for c in pattern)


def _some_time(rng: random.Random, lo_h: float, hi_h: float) -> datetime:
    # Whole seconds plus odd microseconds, to catch rounding in the cache.
    return NOW + timedelta(
        seconds=rng.randint(int(lo_h * 3600), int(hi_h * 3600)),
        microseconds=rng.choice([0, 1, 999_999]),
    )


def _permit(rng: random.Random, i: int, plates: list[str]) -> Permit:
    ptype = rng.choice(
        [PermitType.RESIDENT] * 5
        + [PermitType.BUSINESS, PermitType.CARE, PermitType.DISABLED, PermitType.EXEMPTION]
    )
    city_wide = ptype in (PermitType.DISABLED, PermitType.EXEMPTION) and rng.random() < 0.7
    areas = frozenset() if city_wide else frozenset(rng.sample(AREAS, rng.choice([1, 1, 2])))
    valid_from = _some_time(rng, -2000, 10)
    valid_to = rng.choice([None, _some_time(rng, -3, 30)])
    if valid_to is not None and valid_to < valid_from:
        valid_from, valid_to = valid_to, valid_from
    return Permit(
        id=f"P{i}",
        type=ptype,
        holder_ref=f"H{i}",
        plate_periods=(PlatePeriod(rng.choice(plates), valid_from - timedelta(days=1)),),
        area_codes=areas,
        valid_from=valid_from,
        valid_to=valid_to,
        status=PermitStatus.ACTIVE,
    )


def _paid(rng: random.Random, i: int, plates: list[str]) -> PaidSession:
    start = _some_time(rng, -3, 25)
    end = rng.choice([None, start + timedelta(minutes=rng.randint(0, 240))])
    return PaidSession("app", f"S{i}", rng.choice(plates), rng.choice(AREAS), start, end, 100)


def _visitor(rng: random.Random, i: int, plates: list[str]) -> VisitorSession:
    start = _some_time(rng, -3, 25)
    return VisitorSession(
        f"V{i}",
        f"VP{i % 7}",
        rng.choice(plates),
        frozenset({rng.choice(AREAS)}),
        start,
        start + timedelta(minutes=rng.randint(1, 300)),
    )


def _make_backend(
    rng: random.Random, plates: list[str]
) -> tuple[InMemoryRightsRepository, list[Permit]]:
    repo = InMemoryRightsRepository()
    permits = [_permit(rng, i, plates) for i in range(400)]
    for permit in permits:
        repo.put_permit(permit)
    for i in range(500):
        repo.put_paid_session(_paid(rng, i, plates))
    for i in range(200):
        repo.put_visitor_session(_visitor(rng, i, plates))
    return repo, permits


def _mutate(
    rng: random.Random, repo: InMemoryRightsRepository, permits: list[Permit], plates: list[str]
) -> None:
    """Plate changes, suspensions, revocations, reinstatements, new and stopped sessions."""
    for n, permit in enumerate(rng.sample(permits, 120)):
        at = _some_time(rng, -1, 10)
        action = n % 4
        if action == 0 and permit.open_plates:
            (old,) = sorted(permit.open_plates)[:1]
            new_plate = rng.choice(plates)
            if new_plate in permit.open_plates or at < permit.plate_periods[-1].start:
                continue
            updated = change_plate(
                permit, old, new_plate, reason="new car", at=at, actor="t"
            ).permit
        elif action == 1:
            updated = transition(permit, PermitAction.SUSPEND, "unpaid", at, "t").permit
        elif action == 2:
            updated = transition(permit, PermitAction.REVOKE, "moved", at, "t").permit
        else:
            suspended = transition(permit, PermitAction.SUSPEND, "check", at, "t").permit
            repo.put_permit(suspended)
            updated = transition(suspended, PermitAction.REINSTATE, "ok", at, "t").permit
        repo.put_permit(updated)
        permits[permits.index(permit)] = updated
    for i in range(500, 650):
        repo.put_paid_session(_paid(rng, i, plates))
    for i in range(0, 100):  # stop (or re-send) some earlier paid sessions: idempotent upsert
        session = _paid(random.Random(i), i, plates)
        repo.put_paid_session(replace(session, end=session.start + timedelta(minutes=5)))
    for right in rng.sample(repo.all_rights(), 40):
        repo.remove_right(right.id)


class FeedClient:
    """What the car's HTTP feed adapter will do, straight on the backend functions."""

    def __init__(self, repo: InMemoryRightsRepository, now: datetime, limit: int = 50) -> None:
        self.repo = repo
        self.now = now
        self.limit = limit
        self.keyer = PlateKeyer(KEY)
        self.calls: list[str] = []

    def snapshot(self, at: datetime | None = None) -> Iterable[RightsSnapshotPage]:
        self.calls.append("snapshot")
        return snapshot_pages(self.repo, self.keyer, self.now, page_size=97)

    def changes(self, since: str) -> RightsChangesPage:
        self.calls.append(f"changes:{since}")
        return changes_page(self.repo, self.keyer, since, self.now, limit=self.limit)


@pytest.fixture(params=["filter", "memory"])
def index(request: pytest.FixtureRequest) -> IndexMode:
    mode: IndexMode = request.param
    return mode


@pytest.fixture
def cache(tmp_path: Path, index: IndexMode) -> Iterator[SqliteRightsCache]:
    with SqliteRightsCache(tmp_path / "rights.sqlite", KEY, index=index) as c:
        yield c


# --- the round trip ---------------------------------------------------------------------


def test_cache_fed_by_feed_decides_like_backend_for_10000_random_checks(
    cache: SqliteRightsCache,
) -> None:
    rng = random.Random(20260302)
    plates = sorted({_plate(rng) for _ in range(600)})
    # Add look-alikes of some plates as separate vehicles, so exact and look-alike rights mix.
    plates += sorted(
        {sorted(lookalike_variants(p))[0] for p in plates[:80] if lookalike_variants(p)}
    )
    repo, permits = _make_backend(rng, plates)
    client = FeedClient(repo, NOW)

    assert sync_cache(cache, client, NOW) == 1  # snapshot only
    _mutate(rng, repo, permits, plates)
    applied = sync_cache(cache, client, NOW)
    assert applied >= 2  # several change pages
    assert client.calls[0] == "snapshot"
    assert all(c.startswith("changes:") for c in client.calls[1:])

    reasons: dict[DecisionReason, int] = {}
    strangers = [_plate(rng) for _ in range(200)]
    type_sets = [
        None,
        frozenset({PermitType.RESIDENT}),
        frozenset({PermitType.RESIDENT, PermitType.VISITOR, PermitType.BUSINESS}),
    ]
    for _ in range(10_000):
        roll = rng.random()
        if roll < 0.6:
            plate = rng.choice(plates)
        elif roll < 0.85:
            variants = sorted(lookalike_variants(rng.choice(plates)))
            plate = rng.choice(variants) if variants else rng.choice(strangers)
        else:
            plate = rng.choice(strangers)
        area = rng.choice(AREAS)
        at = _some_time(rng, -1, 23)
        grace = rng.choice([0, 0, 5, 15])
        types = rng.choice(type_sets)
        expected = backend_check(repo, plate, area, at, grace, allowed_permit_types=types)
        got = cache.check(plate, area, at, grace, allowed_permit_types=types)
        assert got == expected, (plate, area, at, grace, types)
        reasons[expected.reason] = reasons.get(expected.reason, 0) + 1
    # The random world must exercise every reason, or the comparison proves little.
    assert set(reasons) == set(DecisionReason), reasons


def test_cache_file_holds_no_plain_plates(tmp_path: Path, index: IndexMode) -> None:
    db = tmp_path / "rights.sqlite"
    rng = random.Random(5)
    plates = sorted({_plate(rng) for _ in range(300)})
    repo, _ = _make_backend(rng, plates)
    with SqliteRightsCache(db, KEY, index=index) as cache:
        sync_cache(cache, FeedClient(repo, NOW), NOW)
        assert len(cache) > 500
        assert cache.check(plates[0], "A1", NOW).reason is not None
        raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    assert len(raw) > 50_000
    for plate in plates:
        for form in (plate, plate.lower(), f"{plate[:2]}-{plate[2:4]}-{plate[4:]}"):
            assert form.encode() not in raw, form
            assert form.encode("utf-16-le") not in raw, form


# --- the store --------------------------------------------------------------------------


def _small_repo() -> InMemoryRightsRepository:
    repo = InMemoryRightsRepository()
    repo.put_paid_session(PaidSession("app", "s1", "GZ123T", "A1", NOW - timedelta(hours=1)))
    return repo


def test_cache_uses_wal_and_keeps_state_across_reopen(tmp_path: Path, index: IndexMode) -> None:
    db = tmp_path / "rights.sqlite"
    repo = _small_repo()
    with SqliteRightsCache(db, KEY) as cache:
        assert (cache.version, cache.cursor, cache.age(NOW)) == (0, None, None)
        sync_cache(cache, FeedClient(repo, NOW), NOW)
        repo.put_paid_session(PaidSession("app", "s2", "XX99XX", "A2", NOW))
        sync_cache(cache, FeedClient(repo, NOW + timedelta(minutes=3)), NOW)
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    with SqliteRightsCache(db, KEY, index=index) as cache:
        assert (cache.version, cache.cursor, len(cache)) == (2, repo.cursor, 2)
        assert cache.age(NOW + timedelta(minutes=10)) == timedelta(minutes=7)
        assert cache.covers(NOW + timedelta(hours=24))
        assert not cache.covers(NOW + timedelta(hours=24, seconds=1))
        assert cache.check("xx-99-xx", "A2", NOW).reason is DecisionReason.PAID


def test_cache_refuses_file_made_with_another_key(tmp_path: Path) -> None:
    db = tmp_path / "rights.sqlite"
    with SqliteRightsCache(db, KEY) as cache:
        sync_cache(cache, FeedClient(_small_repo(), NOW), NOW)
    with pytest.raises(CacheKeyMismatchError, match="re-enrol"):
        SqliteRightsCache(db, bytes(32))


def test_cache_refuses_unknown_index_mode(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="'filter' or 'memory'"):
        SqliteRightsCache(tmp_path / "r.sqlite", KEY, index="disk")  # type: ignore[arg-type]


def test_cache_refuses_feed_made_with_another_key(cache: SqliteRightsCache) -> None:
    pages = snapshot_pages(_small_repo(), PlateKeyer(bytes(32)), NOW)
    with pytest.raises(CacheKeyMismatchError):
        cache.apply_snapshot(pages)
    assert cache.version == 0


def test_cache_changes_must_continue_from_cursor(cache: SqliteRightsCache) -> None:
    repo = _small_repo()
    keyer = PlateKeyer(KEY)
    start = repo.cursor
    with pytest.raises(FeedOrderError, match="apply a snapshot first"):
        cache.apply_changes(changes_page(repo, keyer, start, NOW))
    repo.put_paid_session(PaidSession("app", "s2", "XX99XX", "A2", NOW))
    cache.apply_snapshot(snapshot_pages(repo, keyer, NOW))
    with pytest.raises(FeedOrderError, match=f"starts at cursor '{start}'"):
        cache.apply_changes(changes_page(repo, keyer, start, NOW))


def test_cache_incomplete_snapshot_leaves_previous_cache(cache: SqliteRightsCache) -> None:
    repo = _small_repo()
    keyer = PlateKeyer(KEY)
    cache.apply_snapshot(snapshot_pages(repo, keyer, NOW))
    for i in range(10):
        repo.put_paid_session(PaidSession("app", f"x{i}", "XX99XX", "A1", NOW))
    pages = list(snapshot_pages(repo, keyer, NOW, page_size=4))
    with pytest.raises(FeedOrderError, match="no last page"):
        cache.apply_snapshot(pages[:-1])
    with pytest.raises(FeedOrderError, match="expected page 1"):
        cache.apply_snapshot([pages[0], pages[2]])
    assert (len(cache), cache.version) == (1, 1)
    assert cache.check("GZ123T", "A1", NOW).reason is DecisionReason.PAID


def test_cache_refuses_snapshot_with_one_id_under_two_plates(cache: SqliteRightsCache) -> None:
    repo = _small_repo()
    keyer = PlateKeyer(KEY)
    cache.apply_snapshot(snapshot_pages(repo, keyer, NOW))
    (page,) = snapshot_pages(repo, keyer, NOW)
    twin = page.rights[0].model_copy(update={"plate_key": keyer.hex("XX99XX")})
    broken = page.model_copy(update={"rights": [page.rights[0], twin]})
    with pytest.raises(FeedOrderError, match="one right id under two plate keys"):
        cache.apply_snapshot([broken])
    assert (len(cache), cache.version) == (1, 1)
    assert cache.check("GZ123T", "A1", NOW).reason is DecisionReason.PAID
    assert cache.check("XX99XX", "A1", NOW).reason is DecisionReason.NONE


def test_cache_removal_and_update_take_effect(cache: SqliteRightsCache) -> None:
    repo = _small_repo()
    client = FeedClient(repo, NOW)
    sync_cache(cache, client, NOW)
    repo.put_paid_session(
        PaidSession(
            "app", "s1", "GZ123T", "A1", NOW - timedelta(hours=1), NOW - timedelta(minutes=1)
        )
    )
    sync_cache(cache, client, NOW)
    assert cache.check("GZ123T", "A1", NOW).reason is DecisionReason.NONE
    repo.remove_right("paid:app:s1")
    sync_cache(cache, client, NOW)
    assert len(cache) == 0


def test_sync_takes_snapshot_when_cursor_is_refused(cache: SqliteRightsCache) -> None:
    repo = _small_repo()
    sync_cache(cache, FeedClient(repo, NOW), NOW)
    fresh_backend = InMemoryRightsRepository()  # e.g. a compacted change log
    fresh_backend.put_paid_session(PaidSession("app", "n", "NN11NN", "A1", NOW))
    client = FeedClient(fresh_backend, NOW)
    with pytest.raises(FeedError):
        client.changes(cache.cursor or "")
    client.calls.clear()
    assert sync_cache(cache, client, NOW) == 1
    assert client.calls[-1] == "snapshot"
    assert cache.check("NN11NN", "A1", NOW).reason is DecisionReason.PAID


def _crowded_rights(rng: random.Random, plates: list[str]) -> list[Right]:
    """Many rights per plate on a 5-minute grid: equal ends, starts at the check time or at
    the end of its grace period, and ids whose string order differs from their number order."""
    grid = [NOW + timedelta(minutes=5 * k) for k in range(-6, 7)]
    ptypes = [t for t in PermitType if t is not PermitType.VISITOR]
    rights = []
    for n in range(400):
        kind = rng.choice(list(RightKind))
        ptype = {
            RightKind.PAID: None,
            RightKind.VISITOR: PermitType.VISITOR,
            RightKind.EXEMPTION: PermitType.EXEMPTION,
        }.get(kind, rng.choice(ptypes))
        start = rng.choice(grid)
        end = rng.choice([None, *(t for t in grid if t >= start)])
        rights.append(
            Right(
                id=f"r{n}",
                kind=kind,
                plate_key=rng.choice(plates),
                area_codes=frozenset(rng.sample(AREAS[:3], rng.choice([0, 1, 1, 2]))),
                start=start,
                end=end,
                permit_type=ptype,
            )
        )
    return rights


def test_cache_decides_like_rules_on_crowded_plates(cache: SqliteRightsCache) -> None:
    """Ties (same reason, same end), boundary times and permit-type filters, against
    ``permits.rules.decide`` on the same rights."""
    rng = random.Random(4)
    base = ["GZ123T", "8D05SB", "LL0001"]
    holders = sorted({v for p in base for v in sorted(lookalike_variants(p))[:4]} | set(base))
    rights = _crowded_rights(rng, holders)
    keyer = PlateKeyer(KEY)
    page = RightsSnapshotPage(
        key_id=keyer.key_id,
        snapshot_id="crowded",
        generated_at=NOW,
        window_start=NOW - timedelta(hours=1),
        window_end=NOW + timedelta(hours=24),
        cursor="0",
        page=0,
        is_last=True,
        rights=[to_feed_right(r, keyer) for r in rights],
    )
    cache.apply_snapshot([page])
    by_plate: dict[str, list[Right]] = {}
    for right in rights:
        by_plate.setdefault(right.plate_key, []).append(right)
    candidates = holders + sorted({v for p in holders for v in lookalike_variants(p)})
    amsterdam = ZoneInfo("Europe/Amsterdam")
    type_sets = [None, frozenset({PermitType.RESIDENT}), frozenset({PermitType.BUSINESS})]
    reasons: set[DecisionReason] = set()
    ties = 0
    for _ in range(3000):
        plate = rng.choice(candidates)
        at = NOW + timedelta(minutes=5 * rng.randint(-7, 7), microseconds=rng.choice([0, 0, 1]))
        at = at.astimezone(amsterdam) if rng.random() < 0.3 else at
        area, grace, types = rng.choice(AREAS), rng.choice([0, 5, 10]), rng.choice(type_sets)
        exact = by_plate.get(plate, [])
        lookalikes = [r for v in lookalike_variants(plate) for r in by_plate.get(v, [])]
        expected = decide(exact, lookalikes, area, at, grace, allowed_permit_types=types)
        got = cache.check(plate, area, at, grace, allowed_permit_types=types)
        assert got == expected, (plate, area, at, grace, types)
        reasons.add(expected.reason)
        winner = next((r for r in exact if r.id == expected.right_id), None)
        ties += winner is not None and any(
            r.id != winner.id and r.end == winner.end and r.kind is winner.kind for r in exact
        )
    assert reasons == set(DecisionReason)
    assert ties > 100  # the tie-breaks were exercised


# --- the RightsSource -------------------------------------------------------------------


class FakeOnlineCheck:
    def __init__(self, decision: Decision | None) -> None:
        self.decision = decision
        self.queries: list[RightsQuery] = []

    def __call__(self, query: RightsQuery) -> Decision:
        self.queries.append(query)
        if self.decision is None:
            raise RightsUnavailableError("backend unreachable")
        return self.decision


ONLINE_ANSWER = Decision(True, DecisionReason.PERMIT, "permit:X:0", None)


M5, M31 = timedelta(minutes=5), timedelta(minutes=31)
SOURCE_TABLE = [
    # (case, clock - last sync, at - sync time, online answer, expected source and reason)
    ("fresh cache", M5, timedelta(0), ONLINE_ANSWER, (AnswerSource.CACHE, DecisionReason.PAID)),
    ("too old", M31, timedelta(0), ONLINE_ANSWER, (AnswerSource.ONLINE, DecisionReason.PERMIT)),
    (
        "outside window",
        M5,
        timedelta(hours=25),
        ONLINE_ANSWER,
        (AnswerSource.ONLINE, DecisionReason.PERMIT),
    ),
    ("too old, offline", M31, timedelta(0), None, (AnswerSource.STALE_CACHE, DecisionReason.PAID)),
]


@pytest.mark.parametrize(
    ("clock_offset", "at_offset", "online", "expected"),
    [pytest.param(*row[1:], id=row[0]) for row in SOURCE_TABLE],
)
def test_source_uses_cache_while_fresh_else_online_else_stale(
    cache: SqliteRightsCache,
    clock_offset: timedelta,
    at_offset: timedelta,
    online: Decision | None,
    expected: tuple[AnswerSource, DecisionReason],
) -> None:
    sync_cache(cache, FeedClient(_small_repo(), NOW), NOW)
    fake = FakeOnlineCheck(online)
    source = CachedRightsSource(
        cache, max_age=timedelta(minutes=30), clock=lambda: NOW + clock_offset, online=fake
    )
    answer = source.check(RightsQuery("GZ123T", "A1", NOW + at_offset, lon=4.9, lat=52.37))
    assert (answer.source, answer.decision.reason) == expected
    assert answer.cache_age == clock_offset
    assert len(fake.queries) == (0 if expected[0] is AnswerSource.CACHE else 1)


def test_source_without_cache_or_online_refuses(cache: SqliteRightsCache) -> None:
    source = CachedRightsSource(cache, max_age=timedelta(minutes=30), clock=lambda: NOW)
    with pytest.raises(RightsUnavailableError, match="never been filled"):
        source.check(RightsQuery("GZ123T", "A1", NOW))


def test_cache_check_normalises_plate_and_refuses_naive_time(cache: SqliteRightsCache) -> None:
    sync_cache(cache, FeedClient(_small_repo(), NOW), NOW)
    assert cache.check("gz-123-t", "A1", NOW).reason is DecisionReason.PAID
    assert cache.check("g2 123.t", "A1", NOW).reason is DecisionReason.LOOKALIKE_RIGHT
    with pytest.raises(NaiveDatetimeError):
        cache.check("GZ123T", "A1", datetime(2026, 3, 2, 12, 0))  # noqa: DTZ001
    with pytest.raises(InvalidPlateError):
        cache.check("GZ_123", "A1", NOW)
