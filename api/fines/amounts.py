"""The amount tables (cost table, offence amounts) and the calculation of a fine's amount
for its track (parking tax or WAHV fine)."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, col, select

from api.fines.db import (
    CostTableRow,
    OffenceAmountRow,
)
from api.fines.rules import (
    Calculation,
    CalculationError,
    ValidAmount,
    offence_code_for,
    tax_assessment,
    wahv_fine,
)
from api.hits.db import HitRow
from api.settings import BackendSettings
from zones import FineTrack, Zone, parking_fee_cents


def cost_entries(session: Session) -> list[ValidAmount]:
    rows = session.exec(select(CostTableRow).order_by(col(CostTableRow.valid_from))).all()
    return [
        ValidAmount(r.id or 0, "", r.amount_cents, r.valid_from, r.valid_to, r.description)
        for r in rows
    ]


def offence_entries(session: Session) -> list[ValidAmount]:
    rows = session.exec(select(OffenceAmountRow).order_by(col(OffenceAmountRow.valid_from))).all()
    return [
        ValidAmount(r.id or 0, r.code, r.amount_cents, r.valid_from, r.valid_to, r.description)
        for r in rows
    ]


def calculate(
    session: Session,
    hit: HitRow,
    track: FineTrack,
    zone: Zone | None,
    zone_version: int,
    settings: BackendSettings,
) -> Calculation:
    if track == FineTrack.TAX:
        if zone is None:
            raise CalculationError(
                f"zone {hit.zone_id!r} is not in the current zone set (version {zone_version}); "
                "the parking tax cannot be computed"
            )
        start = hit.captured_at
        end = start + timedelta(minutes=settings.fine_tax_charged_minutes)
        return tax_assessment(
            parking_tax_cents=parking_fee_cents(zone, start, end),
            costs=cost_entries(session),
            offence_at=hit.captured_at,
            period_start=start,
            period_end=end,
            zone_id=zone.id,
            zone_version=zone_version,
        )
    return wahv_fine(
        offence_code=offence_code_for(zone.kind if zone else None, hit.reason),
        amounts=offence_entries(session),
        offence_at=hit.captured_at,
        zone_id=hit.zone_id,
        zone_version=zone_version,
    )
