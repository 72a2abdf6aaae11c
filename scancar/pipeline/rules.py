"""``decide``: the enforcement decision for one vehicle pass (pure; ports for state)."""

from __future__ import annotations

from datetime import datetime, timedelta

from permits.model import DecisionReason, PermitType
from scancar.gps.model import Position
from scancar.lpr.model import VehiclePass
from scancar.pipeline.model import Outcome, OutcomeKind, PipelineSettings
from scancar.pipeline.ports import ChalkStore, RepeatGuard
from scancar.rights.errors import RightsUnavailableError
from scancar.rights.ports import AnswerSource, RightsQuery, RightsSource
from scancar.wire import SuspectReason
from zones.index import ZoneIndex
from zones.model import Zone, ZoneKind

_REASON_BY_KIND: dict[ZoneKind, SuspectReason] = {
    ZoneKind.PAID: SuspectReason.NO_RIGHT,
    ZoneKind.PERMIT: SuspectReason.NO_RIGHT,
    ZoneKind.BLUE: SuspectReason.MAX_STAY_EXCEEDED,
    ZoneKind.LOADING: SuspectReason.LOADING_ZONE,
    ZoneKind.NO_PARKING: SuspectReason.NO_PARKING,
}


def allowed_permit_types(zone: Zone) -> frozenset[PermitType]:
    """The permit types a zone accepts (exemption and GPK count everywhere anyway)."""
    return frozenset(PermitType(t) for t in zone.permit_types)


def decide(  # noqa: PLR0911, PLR0912 - the rules read top to bottom as early returns
    vehicle_pass: VehiclePass,
    position: Position | None,
    zone_index: ZoneIndex,
    rights: RightsSource,
    chalk: ChalkStore,
    repeat_guard: RepeatGuard,
    settings: PipelineSettings,
    *,
    clock_trusted: bool = True,
) -> Outcome:
    """What to do with one pass. ``position`` is the *parked car's* position at the pass's
    overview frame (``parked_position``), or None when the GPS had none.

    ``clock_trusted`` False (the system clock that stamps frames disagrees with GPS time)
    discards every pass before anything is looked up: its position would be someone else's.

    Order: clock, position and zone (uncertain -> no hit), regulated now, read quality, rights (any
    right or a look-alike right -> discard), foreign plates, max stay (chalking), repeat guard.
    Only a max-stay zone leaves a trace of a pass that is not a suspect: a chalk mark (keyed
    hash, expires after max stay + margin).
    """
    at = vehicle_pass.overview_captured_at
    if not clock_trusted:
        return Outcome(OutcomeKind.DISCARD_CLOCK_OFFSET)
    if position is None:
        return Outcome(OutcomeKind.DISCARD_NO_POSITION)
    if position.uncertain or position.accuracy_m > settings.max_accuracy_m:
        return Outcome(OutcomeKind.DISCARD_UNCERTAIN_ZONE)
    radius = max(position.accuracy_m, settings.min_zone_radius_m)
    located = zone_index.locate_with_margin(position.lon, position.lat, radius)
    if located.zone is None:
        return Outcome(OutcomeKind.DISCARD_UNREGULATED)
    if located.is_uncertain:
        return Outcome(OutcomeKind.DISCARD_UNCERTAIN_ZONE, zone_id=located.zone.id)
    zone = located.zone
    regulation = zone_index.regulation_at(zone, at)
    if not regulation.regulated:
        return Outcome(OutcomeKind.DISCARD_UNREGULATED, zone_id=zone.id)

    if not vehicle_pass.valid and not settings.report_invalid:
        return Outcome(OutcomeKind.DISCARD_INVALID, zone_id=zone.id)
    if vehicle_pass.low_confidence and not settings.report_low_confidence:
        return Outcome(OutcomeKind.DISCARD_INVALID, zone_id=zone.id)

    query = RightsQuery(
        plate=vehicle_pass.plate,
        area_code=zone.area_code,
        at=at,
        grace_minutes=0,
        allowed_permit_types=allowed_permit_types(zone),
        lon=position.lon,
        lat=position.lat,
    )
    try:
        answer = rights.check(query)
    except RightsUnavailableError:
        return Outcome(OutcomeKind.DISCARD_RIGHTS_UNAVAILABLE, zone_id=zone.id)
    if answer.decision.allowed:
        return Outcome(OutcomeKind.DISCARD_RIGHT, zone_id=zone.id, rights=answer)
    if answer.decision.reason is DecisionReason.LOOKALIKE_RIGHT:
        return Outcome(OutcomeKind.DISCARD_LOOKALIKE, zone_id=zone.id, rights=answer)
    if answer.source is AnswerSource.STALE_CACHE:
        return Outcome(OutcomeKind.DISCARD_RIGHTS_UNAVAILABLE, zone_id=zone.id, rights=answer)

    if vehicle_pass.is_foreign and not settings.report_foreign:
        return Outcome(OutcomeKind.DISCARD_FOREIGN, zone_id=zone.id, rights=answer)

    first_seen_at: datetime | None = None
    max_stay = regulation.max_stay_minutes or zone.max_stay_minutes
    if max_stay is not None and zone.kind in (ZoneKind.BLUE, ZoneKind.LOADING):
        limit = timedelta(minutes=max_stay)
        match = chalk.sight(
            vehicle_pass.plate,
            position.lon,
            position.lat,
            at,
            max_distance_m=settings.chalk_distance_m,
            keep_until=at + limit + settings.chalk_margin,
        )
        if match.is_new or at - match.first_seen_at <= limit:
            return Outcome(OutcomeKind.CHALKED, zone_id=zone.id, rights=answer)
        first_seen_at = match.first_seen_at

    if repeat_guard.is_recent(vehicle_pass.plate, zone.id, at):
        return Outcome(OutcomeKind.DISCARD_REPEAT, zone_id=zone.id, rights=answer)
    return Outcome(
        OutcomeKind.SUSPECT,
        reason=_REASON_BY_KIND[zone.kind],
        zone_id=zone.id,
        first_seen_at=first_seen_at,
        rights=answer,
    )
