"""Domain constructors refuse what breaks an invariant, naming the bad value."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from permits.errors import InvalidPermitError, NaiveDatetimeError
from permits.model import (
    PaidSession,
    Permit,
    PermitStatus,
    PermitType,
    PlatePeriod,
    Right,
    RightKind,
    rights_from_permit,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _permit(**overrides: object) -> Permit:
    fields: dict[str, object] = {
        "id": "P1",
        "type": PermitType.RESIDENT,
        "holder_ref": "H1",
        "plate_periods": (PlatePeriod("GZ123T", T0),),
        "area_codes": frozenset({"A1"}),
        "valid_from": T0,
        "valid_to": None,
        "status": PermitStatus.ACTIVE,
    }
    fields.update(overrides)
    return Permit(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"id": ""}, "needs a non-empty id"),
        ({"holder_ref": ""}, "needs a holder"),
        ({"area_codes": frozenset()}, "resident permit needs at least one area"),
        ({"plate_periods": ()}, "needs at least one plate"),
        ({"valid_to": T0 - timedelta(days=1)}, "must not be before start"),
        ({"visitor_budget_minutes": 60}, "only visitor permits"),
        (
            {"type": PermitType.VISITOR, "visitor_budget_minutes": 60},
            "visitor permit has no plates",
        ),
        ({"type": PermitType.VISITOR, "plate_periods": ()}, "needs a budget"),
        ({"type": "resident"}, "allowed: resident, business"),
    ],
)
def test_permit_refuses_invalid(overrides: dict[str, object], match: str) -> None:
    with pytest.raises(InvalidPermitError, match=match):
        _permit(**overrides)


def test_permit_refuses_naive_valid_from() -> None:
    with pytest.raises(NaiveDatetimeError, match=r"valid_from|start"):
        _permit(valid_from=datetime(2026, 1, 1))  # noqa: DTZ001


def test_plate_period_refuses_unnormalised_plate() -> None:
    with pytest.raises(InvalidPermitError, match="must be normalised"):
        PlatePeriod("gz-123-t", T0)


@pytest.mark.parametrize("permit_type", [PermitType.DISABLED, PermitType.EXEMPTION])
def test_permit_city_wide_types_may_have_no_area(permit_type: PermitType) -> None:
    permit = _permit(type=permit_type, area_codes=frozenset())
    assert permit.is_city_wide
    (right,) = rights_from_permit(permit)
    assert right.is_city_wide
    assert right.kind is (
        RightKind.EXEMPTION if permit_type is PermitType.EXEMPTION else RightKind.PERMIT
    )


def test_rights_from_permit_clip_to_permit_validity() -> None:
    end = datetime(2026, 6, 1, tzinfo=UTC)
    permit = _permit(plate_periods=(PlatePeriod("GZ123T", T0 - timedelta(days=10)),), valid_to=end)
    (right,) = rights_from_permit(permit)
    assert (right.start, right.end, right.permit_type) == (T0, end, PermitType.RESIDENT)


def test_paid_session_right_id_and_validation() -> None:
    session = PaidSession("parkmobile", "S-1", "GZ123T", "A1", T0, None, 250)
    assert session.right_id == "paid:parkmobile:S-1"
    with pytest.raises(InvalidPermitError, match="amount_cents"):
        PaidSession("parkmobile", "S-1", "GZ123T", "A1", T0, None, -1)


def test_right_requires_permit_type_for_permit_kinds() -> None:
    with pytest.raises(InvalidPermitError, match="needs its permit type"):
        Right("r", RightKind.PERMIT, "GZ123T", frozenset({"A1"}), T0, None)
    with pytest.raises(InvalidPermitError, match="paid rights have none"):
        Right("r", RightKind.PAID, "GZ123T", frozenset({"A1"}), T0, None, PermitType.RESIDENT)


@pytest.mark.parametrize(
    ("end", "stop_at", "expected_end"),
    [
        (None, T0 + timedelta(hours=2), T0 + timedelta(hours=2)),
        (None, T0 - timedelta(hours=1), T0),  # never before the start
        (T0 + timedelta(hours=3), T0 + timedelta(hours=2), T0 + timedelta(hours=2)),
        (T0 + timedelta(hours=1), T0 + timedelta(hours=2), T0 + timedelta(hours=1)),
    ],
)
def test_paid_session_stopped(
    end: datetime | None, stop_at: datetime, expected_end: datetime
) -> None:
    session = PaidSession("app", "S-1", "GZ123T", "A1", T0, end)
    stopped = session.stopped(stop_at)
    assert stopped.end == expected_end
    assert stopped.right_id == session.right_id
