"""Decision table for ``permits.rules.decide`` and ``permits.service.check``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from permits.errors import InvalidPermitError, InvalidPlateError, NaiveDatetimeError
from permits.memory import InMemoryRightsRepository
from permits.model import Decision, DecisionReason, PermitType, Right, RightKind
from permits.rules import PRECEDENCE, decide, needs_lookalikes
from permits.service import check

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
AREA = "A1"


def _right(
    right_id: str = "r1",
    kind: RightKind = RightKind.PERMIT,
    *,
    plate: str = "GZ123T",
    areas: frozenset[str] = frozenset({AREA}),
    start: datetime = T0 - timedelta(hours=1),
    end: datetime | None = T0 + timedelta(hours=1),
    permit_type: PermitType | None = None,
) -> Right:
    if permit_type is None and kind is not RightKind.PAID:
        permit_type = {
            RightKind.PERMIT: PermitType.RESIDENT,
            RightKind.VISITOR: PermitType.VISITOR,
            RightKind.EXEMPTION: PermitType.EXEMPTION,
        }[kind]
    return Right(right_id, kind, plate, areas, start, end, permit_type)


M = timedelta(minutes=1)
S = timedelta(seconds=1)

# (case id, rights of the plate, rights of look-alikes, grace minutes, allowed types, expected)
DECISION_TABLE = [
    ("no rights", [], [], 0, None, (False, DecisionReason.NONE, None)),
    ("permit valid", [_right()], [], 0, None, (True, DecisionReason.PERMIT, "r1")),
    ("start equals at", [_right(start=T0)], [], 0, None, (True, DecisionReason.PERMIT, "r1")),
    ("end equals at", [_right(end=T0)], [], 0, None, (True, DecisionReason.PERMIT, "r1")),
    ("ended 1s before", [_right(end=T0 - S)], [], 0, None, (False, DecisionReason.NONE, None)),
    ("starts 1s after", [_right(start=T0 + S)], [], 0, None, (False, DecisionReason.NONE, None)),
    ("open-ended", [_right(end=None)], [], 0, None, (True, DecisionReason.PERMIT, "r1")),
    (
        "other area",
        [_right(areas=frozenset({"B2"}))],
        [],
        0,
        None,
        (False, DecisionReason.NONE, None),
    ),
    (
        "one of several areas",
        [_right(areas=frozenset({"B2", AREA}))],
        [],
        0,
        None,
        (True, DecisionReason.PERMIT, "r1"),
    ),
    (
        "city-wide exemption",
        [_right(kind=RightKind.EXEMPTION, areas=frozenset())],
        [],
        0,
        None,
        (True, DecisionReason.EXEMPTION, "r1"),
    ),
    ("paid session", [_right(kind=RightKind.PAID)], [], 0, None, (True, DecisionReason.PAID, "r1")),
    (
        "paid open-ended",
        [_right(kind=RightKind.PAID, end=None)],
        [],
        0,
        None,
        (True, DecisionReason.PAID, "r1"),
    ),
    (
        "visitor session",
        [_right(kind=RightKind.VISITOR)],
        [],
        0,
        None,
        (True, DecisionReason.VISITOR, "r1"),
    ),
    (
        "paid late within grace",
        [_right(kind=RightKind.PAID, start=T0 + 4 * M)],
        [],
        5,
        None,
        (True, DecisionReason.LATE_PAYMENT_WITHIN_GRACE, "r1"),
    ),
    (
        "paid late exactly at grace end",
        [_right(kind=RightKind.PAID, start=T0 + 5 * M)],
        [],
        5,
        None,
        (True, DecisionReason.LATE_PAYMENT_WITHIN_GRACE, "r1"),
    ),
    (
        "paid late after grace",
        [_right(kind=RightKind.PAID, start=T0 + 5 * M + S)],
        [],
        5,
        None,
        (False, DecisionReason.NONE, None),
    ),
    (
        "paid late without grace",
        [_right(kind=RightKind.PAID, start=T0 + S)],
        [],
        0,
        None,
        (False, DecisionReason.NONE, None),
    ),
    (
        "visitor late within grace",
        [_right(kind=RightKind.VISITOR, start=T0 + M)],
        [],
        5,
        None,
        (True, DecisionReason.LATE_PAYMENT_WITHIN_GRACE, "r1"),
    ),
    (
        "permit starting within grace is not late payment",
        [_right(start=T0 + M)],
        [],
        5,
        None,
        (False, DecisionReason.NONE, None),
    ),
    (
        "paid late in other area",
        [_right(kind=RightKind.PAID, start=T0 + M, areas=frozenset({"B2"}))],
        [],
        5,
        None,
        (False, DecisionReason.NONE, None),
    ),
    (
        "look-alike only",
        [],
        [_right(plate="G2123T")],
        0,
        None,
        (False, DecisionReason.LOOKALIKE_RIGHT, "r1"),
    ),
    (
        "look-alike expired",
        [],
        [_right(plate="G2123T", end=T0 - S)],
        0,
        None,
        (False, DecisionReason.NONE, None),
    ),
    (
        "look-alike other area",
        [],
        [_right(plate="G2123T", areas=frozenset({"B2"}))],
        0,
        None,
        (False, DecisionReason.NONE, None),
    ),
    (
        "exact beats look-alike",
        [_right("mine", RightKind.PAID)],
        [_right("other")],
        0,
        None,
        (True, DecisionReason.PAID, "mine"),
    ),
    (
        "late payment beats look-alike",
        [_right("mine", RightKind.PAID, start=T0 + M)],
        [_right("other")],
        5,
        None,
        (True, DecisionReason.LATE_PAYMENT_WITHIN_GRACE, "mine"),
    ),
    (
        "exemption beats permit",
        [_right("p"), _right("e", RightKind.EXEMPTION)],
        [],
        0,
        None,
        (True, DecisionReason.EXEMPTION, "e"),
    ),
    (
        "permit beats visitor",
        [_right("v", RightKind.VISITOR), _right("p")],
        [],
        0,
        None,
        (True, DecisionReason.PERMIT, "p"),
    ),
    (
        "visitor beats paid",
        [_right("pd", RightKind.PAID), _right("v", RightKind.VISITOR)],
        [],
        0,
        None,
        (True, DecisionReason.VISITOR, "v"),
    ),
    (
        "paid beats late",
        [_right("late", RightKind.PAID, start=T0 + M), _right("now", RightKind.PAID)],
        [],
        5,
        None,
        (True, DecisionReason.PAID, "now"),
    ),
    (
        "type not accepted in zone",
        [_right(permit_type=PermitType.BUSINESS)],
        [],
        0,
        frozenset({PermitType.RESIDENT}),
        (False, DecisionReason.NONE, None),
    ),
    (
        "type accepted in zone",
        [_right(permit_type=PermitType.BUSINESS)],
        [],
        0,
        frozenset({PermitType.RESIDENT, PermitType.BUSINESS}),
        (True, DecisionReason.PERMIT, "r1"),
    ),
    (
        "visitor not accepted in zone",
        [_right(kind=RightKind.VISITOR)],
        [],
        0,
        frozenset({PermitType.RESIDENT}),
        (False, DecisionReason.NONE, None),
    ),
    (
        "paid ignores zone permit types",
        [_right(kind=RightKind.PAID)],
        [],
        0,
        frozenset({PermitType.RESIDENT}),
        (True, DecisionReason.PAID, "r1"),
    ),
    (
        "disabled ignores zone permit types",
        [_right(permit_type=PermitType.DISABLED, areas=frozenset())],
        [],
        0,
        frozenset({PermitType.RESIDENT}),
        (True, DecisionReason.PERMIT, "r1"),
    ),
    (
        "exemption ignores zone permit types",
        [_right(kind=RightKind.EXEMPTION)],
        [],
        0,
        frozenset(),
        (True, DecisionReason.EXEMPTION, "r1"),
    ),
    (
        "look-alike of a type not accepted",
        [],
        [_right(permit_type=PermitType.BUSINESS)],
        0,
        frozenset({PermitType.RESIDENT}),
        (False, DecisionReason.NONE, None),
    ),
]


@pytest.mark.parametrize(
    ("exact", "lookalikes", "grace", "types", "expected"),
    [pytest.param(*row[1:], id=row[0]) for row in DECISION_TABLE],
)
def test_decide_table(
    exact: list[Right],
    lookalikes: list[Right],
    grace: int,
    types: frozenset[PermitType] | None,
    expected: tuple[bool, DecisionReason, str | None],
) -> None:
    decision = decide(exact, lookalikes, AREA, T0, grace, allowed_permit_types=types)
    assert (decision.allowed, decision.reason, decision.right_id) == expected


def test_decide_valid_until_is_end_of_matching_right() -> None:
    end = T0 + timedelta(hours=3)
    decision = decide([_right(end=end)], [], AREA, T0, 0)
    assert decision == Decision(True, DecisionReason.PERMIT, "r1", end)


def test_decide_open_ended_right_has_no_valid_until() -> None:
    assert decide([_right(end=None)], [], AREA, T0, 0).valid_until is None


def test_decide_among_equals_longest_running_wins() -> None:
    short = _right("a", end=T0 + timedelta(hours=1))
    long = _right("b", end=T0 + timedelta(hours=5))
    open_ended = _right("c", end=None)
    assert decide([short, long], [], AREA, T0, 0).right_id == "b"
    assert decide([short, long, open_ended], [], AREA, T0, 0).right_id == "c"


def test_decide_among_equal_ends_smallest_id_wins() -> None:
    rights = [_right("b"), _right("a"), _right("c")]
    assert decide(rights, [], AREA, T0, 0).right_id == "a"
    assert decide(list(reversed(rights)), [], AREA, T0, 0).right_id == "a"


def test_decide_lookalike_has_no_valid_until() -> None:
    decision = decide([], [_right(plate="G2123T")], AREA, T0, 0)
    assert decision.valid_until is None
    assert decision.allowed is False


def test_decide_other_time_zone_compares_on_the_instant() -> None:
    cet = timezone(timedelta(hours=1))
    at_local = datetime(2026, 3, 2, 13, 0, tzinfo=cet)  # == T0
    decision = decide([_right(end=T0)], [], AREA, at_local, 0)
    assert decision.reason is DecisionReason.PERMIT


def test_decide_rejects_naive_time() -> None:
    with pytest.raises(NaiveDatetimeError, match="timezone-aware"):
        decide([_right()], [], AREA, datetime(2026, 3, 2, 12, 0), 0)  # noqa: DTZ001


@pytest.mark.parametrize("grace", [-1, 24 * 60 + 1])
def test_decide_rejects_grace_out_of_range(grace: int) -> None:
    with pytest.raises(InvalidPermitError, match="from 0 to 1440"):
        decide([], [], AREA, T0, grace)


def test_precedence_order_matches_issue() -> None:
    assert [r.value for r in PRECEDENCE] == [
        "exemption",
        "permit",
        "visitor",
        "paid",
        "late_payment_within_grace",
        "lookalike_right",
        "none",
    ]


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        (DecisionReason.NONE, True),
        (DecisionReason.LOOKALIKE_RIGHT, True),
        (DecisionReason.PAID, False),
        (DecisionReason.LATE_PAYMENT_WITHIN_GRACE, False),
    ],
)
def test_needs_lookalikes(reason: DecisionReason, expected: bool) -> None:
    assert needs_lookalikes(Decision(False, reason)) is expected


# --- check over a repository ------------------------------------------------------------


@pytest.mark.parametrize(
    ("stored_plate", "read_plate", "expected"),
    [
        ("GZ123T", "gz-123-t", DecisionReason.PERMIT),
        ("GZ123T", "GZ 123.T", DecisionReason.PERMIT),
        ("GZ123T", "G2123T", DecisionReason.LOOKALIKE_RIGHT),  # 2/Z
        ("GZ123T", "GZ1Z3T", DecisionReason.LOOKALIKE_RIGHT),  # Z/2
        ("GZ123T", "GZI23T", DecisionReason.LOOKALIKE_RIGHT),  # 1/I
        ("GZ123T", "GZL23T", DecisionReason.LOOKALIKE_RIGHT),  # 1/L
        ("GZ123T", "6Z123T", DecisionReason.LOOKALIKE_RIGHT),  # 6/G
        ("80XD1", "B0XD1", DecisionReason.LOOKALIKE_RIGHT),  # 8/B
        ("B0XD1", "80XD1", DecisionReason.LOOKALIKE_RIGHT),  # B/8
        ("80XD1", "8OXD1", DecisionReason.LOOKALIKE_RIGHT),  # 0/O
        ("80XD1", "8DXD1", DecisionReason.LOOKALIKE_RIGHT),  # 0/D
        ("80XD1", "8QXD1", DecisionReason.LOOKALIKE_RIGHT),  # 0/Q
        ("5SXD1", "SSXD1", DecisionReason.LOOKALIKE_RIGHT),  # 5/S
        ("GZ123T", "G2I23T", DecisionReason.NONE),  # two positions differ
        ("GZ123T", "GZ123X", DecisionReason.NONE),  # not a look-alike pair
        ("GZ123T", "GZ123", DecisionReason.NONE),
    ],
)
def test_check_plate_forms_and_lookalikes(
    stored_plate: str, read_plate: str, expected: DecisionReason
) -> None:
    repo = InMemoryRightsRepository([_right(plate=stored_plate)])
    decision = check(repo, read_plate, AREA, T0, 0)
    assert decision.reason is expected
    assert decision.allowed is (expected is DecisionReason.PERMIT)


def test_check_invalid_plate_names_bad_characters() -> None:
    with pytest.raises(InvalidPlateError, match="'!'"):
        check(InMemoryRightsRepository(), "GZ-12!", AREA, T0, 0)


def test_check_late_payment_found_through_window() -> None:
    repo = InMemoryRightsRepository([_right(kind=RightKind.PAID, start=T0 + 3 * M)])
    assert check(repo, "GZ123T", AREA, T0, 5).reason is DecisionReason.LATE_PAYMENT_WITHIN_GRACE
    assert check(repo, "GZ123T", AREA, T0, 2).reason is DecisionReason.NONE


@pytest.mark.parametrize("raw", ["GZ123T\n", "GZ-123-T\n", "GZ123T\r\n"])
def test_plate_with_a_line_break_is_refused(raw: str) -> None:
    from permits.plates import is_normalised_plate, normalise_plate

    assert not is_normalised_plate(raw)
    with pytest.raises(InvalidPlateError, match="not allowed"):
        normalise_plate(raw)
