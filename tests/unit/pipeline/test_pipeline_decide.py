"""``decide``: one row per rule, fakes for the rights source; real in-memory chalk/repeat."""

from __future__ import annotations

from datetime import timedelta

import pytest

from scancar.pipeline import OutcomeKind, PipelineSettings, decide
from scancar.pipeline.memory import InMemoryChalkStore, InMemoryRepeatGuard
from scancar.rights.ports import AnswerSource
from scancar.wire import SuspectReason
from tests.unit.pipeline.support import (
    BLAUW,
    CENTRUM,
    LADEN,
    LOOKALIKE,
    MARKT,
    NEAR_EDGE,
    NOORD,
    OUTSIDE,
    PAID,
    PERMIT,
    SUNDAY_06,
    TUESDAY_10,
    FakeRights,
    position,
    town_index,
    vehicle_pass,
)

INDEX = town_index()
K = OutcomeKind

CASES = [
    # name, where, kwargs of the pass, accuracy, rights decision, expected kind, reason, zone
    ("paid zone, no right", CENTRUM, {}, 3.0, None, K.SUSPECT, SuspectReason.NO_RIGHT, "centrum"),
    ("paid zone, paid session", CENTRUM, {}, 3.0, PAID, K.DISCARD_RIGHT, None, "centrum"),
    ("permit zone, permit", NOORD, {}, 3.0, PERMIT, K.DISCARD_RIGHT, None, "noord"),
    ("permit zone, no right", NOORD, {}, 3.0, None, K.SUSPECT, SuspectReason.NO_RIGHT, "noord"),
    ("look-alike right", NOORD, {}, 3.0, LOOKALIKE, K.DISCARD_LOOKALIKE, None, "noord"),
    ("no-parking zone", MARKT, {}, 3.0, None, K.SUSPECT, SuspectReason.NO_PARKING, "verbod-markt"),
    ("blue zone first sighting", BLAUW, {}, 3.0, None, K.CHALKED, None, "blauw"),
    (
        "loading zone first sighting",
        LADEN,
        {"at": TUESDAY_10 - timedelta(hours=2)},
        1.0,
        None,
        K.CHALKED,
        None,
        "laden-kerkstraat",
    ),
    ("outside every zone", OUTSIDE, {}, 3.0, None, K.DISCARD_UNREGULATED, None, None),
    (
        "free now (Sunday morning)",
        CENTRUM,
        {"at": SUNDAY_06},
        3.0,
        None,
        K.DISCARD_UNREGULATED,
        None,
        "centrum",
    ),
    ("2 m from a boundary", NEAR_EDGE, {}, 3.0, None, K.DISCARD_UNCERTAIN_ZONE, None, "noord"),
    ("poor accuracy", CENTRUM, {}, 40.0, None, K.DISCARD_UNCERTAIN_ZONE, None, None),
    ("invalid read", CENTRUM, {"valid": False}, 3.0, None, K.DISCARD_INVALID, None, "centrum"),
    (
        "low confidence",
        CENTRUM,
        {"low_confidence": True},
        3.0,
        None,
        K.DISCARD_INVALID,
        None,
        "centrum",
    ),
    (
        "foreign plate",
        CENTRUM,
        {"plate": "BMW1234", "is_foreign": True, "country": "DE"},
        3.0,
        None,
        K.DISCARD_FOREIGN,
        None,
        "centrum",
    ),
]


@pytest.mark.parametrize(
    ("where", "kwargs", "accuracy", "decision", "kind", "reason", "zone"),
    [pytest.param(*row[1:], id=row[0]) for row in CASES],
)
def test_decide_table(where, kwargs, accuracy, decision, kind, reason, zone):
    vp = vehicle_pass(**kwargs)
    rights = FakeRights({vp.plate: decision} if decision else {})
    outcome = decide(
        vp,
        position(where, accuracy),
        INDEX,
        rights,
        InMemoryChalkStore(),
        InMemoryRepeatGuard(),
        PipelineSettings(),
    )
    assert (outcome.kind, outcome.reason, outcome.zone_id) == (kind, reason, zone)


def _decide(vp, where, *, rights=None, chalk, guard, settings=None, pos=None):
    return decide(
        vp,
        pos or position(where),
        INDEX,
        rights or FakeRights(),
        chalk,
        guard,
        settings or PipelineSettings(),
    )


def test_decide_without_position_discards():
    outcome = decide(
        vehicle_pass(),
        None,
        INDEX,
        FakeRights(),
        InMemoryChalkStore(),
        InMemoryRepeatGuard(),
        PipelineSettings(),
    )
    assert outcome.kind is OutcomeKind.DISCARD_NO_POSITION


def test_decide_uncertain_position_discards():
    outcome = _decide(
        vehicle_pass(),
        CENTRUM,
        pos=position(CENTRUM, uncertain=True),
        chalk=InMemoryChalkStore(),
        guard=InMemoryRepeatGuard(),
    )
    assert outcome.kind is OutcomeKind.DISCARD_UNCERTAIN_ZONE


@pytest.mark.parametrize(
    ("settings", "kwargs", "kind"),
    [
        (
            PipelineSettings(report_foreign=True),
            {"plate": "BMW1234", "is_foreign": True},
            K.SUSPECT,
        ),
        (PipelineSettings(report_invalid=True), {"valid": False}, K.SUSPECT),
        (PipelineSettings(report_low_confidence=True), {"low_confidence": True}, K.SUSPECT),
    ],
)
def test_decide_settings_report_foreign_and_invalid(settings, kwargs, kind):
    outcome = _decide(
        vehicle_pass(**kwargs),
        CENTRUM,
        chalk=InMemoryChalkStore(),
        guard=InMemoryRepeatGuard(),
        settings=settings,
    )
    assert outcome.kind is kind


@pytest.mark.parametrize(
    ("down", "source", "kind"),
    [
        (True, AnswerSource.CACHE, K.DISCARD_RIGHTS_UNAVAILABLE),
        (False, AnswerSource.STALE_CACHE, K.DISCARD_RIGHTS_UNAVAILABLE),
        (False, AnswerSource.ONLINE, K.SUSPECT),
    ],
)
def test_decide_rights_unavailable_or_stale_never_reports(down, source, kind):
    rights = FakeRights(source=source, down=down)
    outcome = _decide(
        vehicle_pass(),
        CENTRUM,
        rights=rights,
        chalk=InMemoryChalkStore(),
        guard=InMemoryRepeatGuard(),
    )
    assert outcome.kind is kind


def test_decide_asks_rights_with_zone_area_and_types():
    rights = FakeRights()
    _decide(
        vehicle_pass(),
        NOORD,
        rights=rights,
        chalk=InMemoryChalkStore(),
        guard=InMemoryRepeatGuard(),
    )
    (query,) = rights.queries
    assert (query.area_code, sorted(query.allowed_permit_types or ())) == (
        "9999_NOORD",
        ["care", "resident", "visitor"],
    )


@pytest.mark.parametrize(
    ("later_minutes", "moved_m", "kind", "reason"),
    [
        (60, 0.0, K.CHALKED, None),
        (120, 0.0, K.CHALKED, None),
        (121, 2.0, K.SUSPECT, SuspectReason.MAX_STAY_EXCEEDED),
        (121, 50.0, K.CHALKED, None),  # moved: the mark is reset
    ],
)
def test_decide_blue_zone_chalking(later_minutes, moved_m, kind, reason):
    chalk, guard = InMemoryChalkStore(), InMemoryRepeatGuard()
    first = _decide(vehicle_pass(), BLAUW, chalk=chalk, guard=guard)
    assert first.kind is K.CHALKED
    later = TUESDAY_10 + timedelta(minutes=later_minutes)
    moved = (BLAUW[0] + moved_m / 68_600, BLAUW[1])  # ~68.6 km per degree of lon at 52 N
    outcome = _decide(vehicle_pass(at=later), moved, chalk=chalk, guard=guard)
    assert (outcome.kind, outcome.reason) == (kind, reason)
    if kind is K.SUSPECT:
        assert outcome.first_seen_at == TUESDAY_10


def test_decide_blue_zone_reset_restarts_the_stay():
    chalk, guard = InMemoryChalkStore(), InMemoryRepeatGuard()
    _decide(vehicle_pass(), BLAUW, chalk=chalk, guard=guard)
    moved = (BLAUW[0] + 0.001, BLAUW[1])  # ~69 m
    t1 = TUESDAY_10 + timedelta(minutes=100)
    assert _decide(vehicle_pass(at=t1), moved, chalk=chalk, guard=guard).kind is K.CHALKED
    t2 = t1 + timedelta(minutes=121)
    outcome = _decide(vehicle_pass(at=t2), moved, chalk=chalk, guard=guard)
    assert (outcome.kind, outcome.first_seen_at) == (K.SUSPECT, t1)


def test_decide_chalk_marks_expire():
    chalk, guard = InMemoryChalkStore(), InMemoryRepeatGuard()
    _decide(vehicle_pass(), BLAUW, chalk=chalk, guard=guard)
    assert len(chalk) == 1
    assert chalk.purge(TUESDAY_10 + timedelta(minutes=151)) == 1
    assert len(chalk) == 0


@pytest.mark.parametrize(
    ("later", "kind"),
    [
        (timedelta(minutes=30), K.DISCARD_REPEAT),
        (timedelta(hours=4, minutes=1), K.SUSPECT),
    ],
)
def test_decide_repeat_guard(later, kind):
    chalk, guard = InMemoryChalkStore(), InMemoryRepeatGuard()
    first = _decide(vehicle_pass(), CENTRUM, chalk=chalk, guard=guard)
    assert first.kind is K.SUSPECT
    guard.record("GZ123T", "centrum", TUESDAY_10, keep_until=TUESDAY_10 + timedelta(hours=4))
    outcome = _decide(vehicle_pass(at=TUESDAY_10 + later), CENTRUM, chalk=chalk, guard=guard)
    assert outcome.kind is kind


def test_decide_repeat_guard_is_per_zone():
    guard = InMemoryRepeatGuard()
    guard.record("GZ123T", "noord", TUESDAY_10, keep_until=TUESDAY_10 + timedelta(hours=4))
    outcome = _decide(vehicle_pass(), CENTRUM, chalk=InMemoryChalkStore(), guard=guard)
    assert outcome.kind is K.SUSPECT


@pytest.mark.parametrize(
    ("field", "value"),
    [("chalk_distance_m", 0.0), ("jpeg_quality", 5), ("max_accuracy_m", -1.0)],
)
def test_pipeline_settings_refuse_out_of_range(field, value):
    with pytest.raises(ValueError, match=field):
        PipelineSettings(**{field: value})
