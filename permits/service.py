"""The rights check over a repository: what the backend's ``/rights/check`` route calls."""

from __future__ import annotations

from datetime import datetime, timedelta

from permits.model import Decision, PermitType
from permits.plates import lookalike_variants, normalise_plate
from permits.ports import RightsRepository
from permits.rules import decide, needs_lookalikes, validate_check_args


def check(
    repository: RightsRepository,
    plate: str,
    area_code: str,
    at: datetime,
    grace_minutes: int = 0,
    *,
    allowed_permit_types: frozenset[PermitType] | None = None,
) -> Decision:
    """May ``plate`` park in ``area_code`` at ``at``, and why?

    ``plate`` may be raw ("gz-123-t"); it is normalised here (``InvalidPlateError`` when it
    cannot be). Look-alike plates are only looked up when the plate itself has no right.
    """
    plate = normalise_plate(plate)
    validate_check_args(at, grace_minutes)
    window_end = at + timedelta(minutes=grace_minutes)
    exact = repository.rights_for_plates((plate,), area_code, at, window_end)
    decision = decide(
        exact, (), area_code, at, grace_minutes, allowed_permit_types=allowed_permit_types
    )
    if not needs_lookalikes(decision):
        return decision
    variants = lookalike_variants(plate)
    if not variants:
        return decision
    lookalikes = repository.rights_for_plates(variants, area_code, at, window_end)
    return decide(
        exact, lookalikes, area_code, at, grace_minutes, allowed_permit_types=allowed_permit_types
    )
