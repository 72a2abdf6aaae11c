"""Fine drafts from confirmed hits: the amount, the avalanche guard, the evidence snapshot;
``SqlFineDrafts`` is the review service's ``FineDrafts`` port; recalculating a draft."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from api.auth.db import UserRow
from api.auth.principal import Principal
from api.errors import NotFound
from api.fines.amounts import calculate
from api.fines.db import (
    FineRow,
)
from api.fines.rules import (
    COUNTING_STATUSES,
    Calculation,
    CalculationError,
    FineAction,
    FineStatus,
    check_avalanche,
    next_status,
)
from api.fines.store import add_event, get_fine, transition
from api.hits.db import HitRightsCheckRow, HitRow
from api.review.ports import ZoneRulesSource
from api.settings import BackendSettings
from api.zones.service import ZoneCatalog
from zones import FineTrack, Zone


def _evidence_snapshot(session: Session, hit: HitRow, zone: Zone | None) -> dict[str, Any]:
    """What the evidence pack needs once the rights-check log row is purged (after 7 days)."""
    check = (
        session.get(HitRightsCheckRow, hit.decision_rights_check_id)
        if hit.decision_rights_check_id
        else None
    )
    boa = session.get(UserRow, hit.decided_by) if hit.decided_by else None
    return {
        "zone": {
            "id": hit.zone_id,
            "name": zone.name if zone else None,
            "kind": zone.kind.value if zone else None,
            "area_code": zone.area_code if zone else None,
        },
        "rights_check": (
            {
                "at": check.at.isoformat(),
                "source": check.source,
                "checked_for": check.checked_for.isoformat(),
                "allowed": check.allowed,
                "reason": check.reason,
            }
            if check
            else None
        ),
        "decision": {
            "boa": (boa.full_name or boa.username) if boa else None,
            "badge": getattr(boa, "badge_number", None) if boa else None,
            "at": hit.decided_at.isoformat() if hit.decided_at else None,
            "mode": hit.decision_mode,
            "distance_m": hit.decision_distance_m,
            "note": hit.decision_note,
        },
    }


def recent_fine_count(session: Session, plate: str, since: datetime) -> int:
    stmt = select(func.count()).where(
        FineRow.plate == plate,
        col(FineRow.offence_at) >= since,
        col(FineRow.status).in_([s.value for s in COUNTING_STATUSES]),
    )
    return int(session.exec(stmt).one())


def make_draft(
    session: Session,
    hit: HitRow,
    catalog: ZoneCatalog,
    zone_rules: ZoneRulesSource,
    settings: BackendSettings,
) -> FineRow:
    """The fine draft for a confirmed hit (in the caller's transaction; not committed)."""
    zone_set = catalog.current(session)
    zone = zone_set.index.get(hit.zone_id) if hit.zone_id else None
    if zone is not None:
        track = zone.fine_track
    else:
        rules = zone_rules.rules_for(session, hit.zone_id)
        track = FineTrack(rules.fine_track) if rules else FineTrack.TAX
    problem: str | None = None
    calc: Calculation | None = None
    try:
        calc = calculate(session, hit, track, zone, zone_set.version, settings)
    except (CalculationError, ValueError) as exc:
        problem = str(exc)[:500]
    since = hit.captured_at - timedelta(days=settings.avalanche_window_days)
    guard = check_avalanche(
        recent_fine_count(session, hit.plate, since) + 1, settings.avalanche_max_fines
    )
    fine = FineRow(
        hit_id=hit.id or 0,
        track=track.value,
        status=FineStatus.DRAFT.value,
        plate=hit.plate,
        zone_id=hit.zone_id,
        offence_at=hit.captured_at,
        offence_code=calc.offence_code if calc else None,
        amount_cents=calc.amount_cents if calc else 0,
        calculation_json=json.dumps(calc.to_json() if calc else {}),
        calc_problem=problem,
        evidence_json=json.dumps(_evidence_snapshot(session, hit, zone)),
        needs_second_approval=guard.needs_second_approval,
    )
    session.add(fine)
    session.flush()
    detail = f"track={track.value} amount_cents={fine.amount_cents}"
    if problem:
        detail += " calculation_problem"
    if guard.needs_second_approval:
        detail += f" second_approval_needed recent_fines={guard.recent_fines}"
    add_event(session, fine, None, "draft", "", detail)
    return fine


class SqlFineDrafts:
    """``FineDrafts`` port of the review service: a draft per confirmed hit."""

    def __init__(
        self, catalog: ZoneCatalog, zone_rules: ZoneRulesSource, settings: BackendSettings
    ) -> None:
        self.catalog, self.zone_rules, self.settings = catalog, zone_rules, settings

    def draft_for_confirmed_hit(self, session: Session, hit: Any) -> None:
        make_draft(session, hit, self.catalog, self.zone_rules, self.settings)


def recalculate(
    session: Session,
    fine_id: int,
    actor: Principal,
    catalog: ZoneCatalog,
    settings: BackendSettings,
) -> FineRow:
    """Recompute a draft (e.g. after the zone set or an amount table was fixed)."""
    fine = get_fine(session, fine_id)
    next_status(FineStatus(fine.status), FineAction.RECALCULATE)
    hit = session.get(HitRow, fine.hit_id)
    if hit is None:
        raise NotFound(f"the hit {fine.hit_id} of fine {fine_id} is gone")
    zone_set = catalog.current(session)
    zone = zone_set.index.get(hit.zone_id) if hit.zone_id else None
    try:
        calc = calculate(session, hit, FineTrack(fine.track), zone, zone_set.version, settings)
    except (CalculationError, ValueError) as exc:
        values: dict[str, Any] = {"calc_problem": str(exc)[:500]}
    else:
        values = {
            "calc_problem": None,
            "amount_cents": calc.amount_cents,
            "offence_code": calc.offence_code,
            "calculation_json": json.dumps(calc.to_json()),
        }
    transition(session, fine, FineAction.RECALCULATE, actor, values=values)
    session.commit()
    return fine
