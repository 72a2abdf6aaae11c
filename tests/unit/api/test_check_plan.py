"""The backend's planned rights check (``api.rights.checker``): reading only the rights a plan
names (the plate and its look-alikes over the grace window) decides exactly as the domain's
``permits.service.check`` over every right, and a plan never answers outside what it read."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from api.rights.checker import (
    PlannedRights,
    ZoneRightsRules,
    conclude_check,
    plan_for_zone,
)
from permits.memory import InMemoryRightsRepository
from permits.model import PermitType, Right, RightKind
from permits.plates import lookalike_variants
from permits.service import check

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
AREAS = ("A", "B")
BASE_PLATES = ("GZ123T", "XK52GV", "0B1234", "S5GG86")


def _permit_type(kind: RightKind, rng: random.Random) -> PermitType | None:
    if kind is RightKind.PERMIT:
        return rng.choice([PermitType.RESIDENT, PermitType.BUSINESS, PermitType.CARE])
    return {RightKind.VISITOR: PermitType.VISITOR, RightKind.EXEMPTION: PermitType.EXEMPTION}.get(
        kind
    )


def _random_rights(rng: random.Random) -> list[Right]:
    plates = set(BASE_PLATES)
    for plate in BASE_PLATES:
        plates |= set(rng.sample(sorted(lookalike_variants(plate)), 2))
    rights = []
    for i in range(60):
        kind = rng.choice(list(RightKind))
        start = T0 + timedelta(minutes=rng.randint(-120, 60))
        end = None if rng.random() < 0.2 else start + timedelta(minutes=rng.randint(0, 180))
        rights.append(
            Right(
                id=f"r{i}",
                kind=kind,
                plate_key=rng.choice(sorted(plates)),
                area_codes=frozenset(rng.sample(AREAS, rng.randint(0, 2))),
                start=start,
                end=end,
                permit_type=_permit_type(kind, rng),
            )
        )
    return rights


def _read(rights: list[Right], plates: tuple[str, ...], start: datetime, end: datetime):  # type: ignore[no-untyped-def]
    """What the rights statement returns: those plates, overlapping [start, end], any area."""
    return [
        r
        for r in rights
        if r.plate_key in plates and r.start <= end and (r.end is None or r.end >= start)
    ]


@pytest.mark.parametrize("seed", range(5))
def test_conclude_check_decides_as_the_domain_check(seed):
    rng = random.Random(seed)
    rights = _random_rights(rng)
    reference = InMemoryRightsRepository(rights)
    reasons = set()
    for _ in range(300):
        plate = rng.choice([*BASE_PLATES, *(r.plate_key for r in rights), "ZZ999Z"])
        at = T0 + timedelta(minutes=rng.randint(-60, 120))
        grace = rng.choice([0, 5, 15])
        types = rng.choice([None, frozenset({PermitType.RESIDENT, PermitType.BUSINESS})])
        rules = ZoneRightsRules(rng.choice(AREAS), grace, types)
        plan = plan_for_zone(None, 0, rules, plate, at, grace)
        got = conclude_check(plan, _read(rights, plan.plates, plan.start, plan.end)).decision
        want = check(reference, plate, rules.area_code, at, grace, allowed_permit_types=types)
        assert got == want, (plate, at, grace, rules)
        reasons.add(got.reason)
    assert len(reasons) >= 4, reasons  # the table reaches permits, paid, look-alikes, none...


def test_plan_reads_the_plate_and_its_lookalikes_over_the_grace_window():
    rules = ZoneRightsRules("A", 10, None)
    plan = plan_for_zone(None, 3, rules, "gz-123-t", T0, 10)
    assert plan.plate == "GZ123T"
    assert set(plan.plates) == {"GZ123T"} | lookalike_variants("GZ123T")
    assert (plan.start, plan.end) == (T0, T0 + timedelta(minutes=10))
    assert plan.zone_version == 3


@pytest.mark.parametrize(
    ("plates", "shift"),
    [(("GZ123T",), timedelta(minutes=1)), (("XX000X",), timedelta(0))],
    ids=["other-window", "unplanned-plate"],
)
def test_planned_rights_refuse_what_the_plan_did_not_read(plates, shift):
    plan = plan_for_zone(None, 0, ZoneRightsRules("A", 10, None), "GZ123T", T0, 10)
    planned = PlannedRights(plan, [])
    with pytest.raises(LookupError, match="the plan read"):
        planned.rights_for_plates(plates, "A", plan.start + shift, plan.end)
