"""The amount tables: assessment costs (tax track) and WAHV amounts per offence (wahv track).

The defaults are EXAMPLES to configure per municipality and year (see docs/backoffice.md):

- assessment costs of a naheffingsaanslag: the maximum under the national cost rules
  (Kostenbesluit invordering / parkeerbelastingen) is indexed every year; 2025 about EUR 78,10,
  2026 set here at EUR 80,30. Check the municipality's parking tax ordinance.
- WAHV amounts come from the OM Boetebase (feitcodes) and are indexed every 1 January; the 2026
  amounts for parking offences are around EUR 110-120. The codes here are the project's offence
  keys; put the official feitcode in the description.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from api.audit.service import record
from api.auth.principal import Principal
from api.fines.db import CostTableRow, OffenceAmountRow
from api.fines.rules import ValidAmount, check_no_overlap


@dataclass(frozen=True, slots=True)
class DefaultAmount:
    code: str
    amount_cents: int
    valid_from: date
    valid_to: date | None
    description: str


DEFAULT_COSTS = (
    DefaultAmount(
        "", 7810, date(2025, 1, 1), date(2026, 1, 1), "kosten naheffingsaanslag 2025 (voorbeeld)"
    ),
    DefaultAmount("", 8030, date(2026, 1, 1), None, "kosten naheffingsaanslag 2026 (voorbeeld)"),
)
DEFAULT_OFFENCES = (
    DefaultAmount(
        "blue_zone",
        11500,
        date(2026, 1, 1),
        None,
        "parkeren in blauwe zone zonder (juiste) parkeerschijf (voorbeeldbedrag 2026)",
    ),
    DefaultAmount(
        "no_parking",
        12000,
        date(2026, 1, 1),
        None,
        "parkeren waar een parkeerverbod geldt, bord E1 (voorbeeldbedrag 2026)",
    ),
    DefaultAmount(
        "loading_zone",
        12000,
        date(2026, 1, 1),
        None,
        "parkeren op een laad- en losplaats, bord E7 (voorbeeldbedrag 2026)",
    ),
    DefaultAmount(
        "permit_zone",
        12000,
        date(2026, 1, 1),
        None,
        "parkeren op vergunninghoudersplaats zonder vergunning, bord E9 (voorbeeldbedrag 2026)",
    ),
)


@dataclass(frozen=True, slots=True)
class SeedReport:
    costs_added: int
    offences_added: int


def seed_default_tariffs(session: Session) -> SeedReport:
    """Add the example tables where a table is empty (idempotent); the caller commits."""
    costs = offences = 0
    if session.exec(select(CostTableRow.id).limit(1)).first() is None:
        for d in DEFAULT_COSTS:
            session.add(
                CostTableRow(
                    amount_cents=d.amount_cents,
                    valid_from=d.valid_from,
                    valid_to=d.valid_to,
                    description=d.description,
                )
            )
            costs += 1
    if session.exec(select(OffenceAmountRow.id).limit(1)).first() is None:
        for d in DEFAULT_OFFENCES:
            session.add(
                OffenceAmountRow(
                    code=d.code,
                    amount_cents=d.amount_cents,
                    valid_from=d.valid_from,
                    valid_to=d.valid_to,
                    description=d.description,
                )
            )
            offences += 1
    if costs or offences:
        record(session, None, "tariffs.seeded", "tariffs", "defaults", f"{costs} {offences}")
    return SeedReport(costs, offences)


def add_cost(
    session: Session,
    actor: Principal | None,
    *,
    amount_cents: int,
    valid_from: date,
    valid_to: date | None,
    description: str = "",
) -> CostTableRow:
    """A new assessment-cost period; refused when it overlaps an existing one."""
    rows = session.exec(select(CostTableRow)).all()
    existing = [ValidAmount(r.id or 0, "", r.amount_cents, r.valid_from, r.valid_to) for r in rows]
    check_no_overlap(existing, ValidAmount(0, "", amount_cents, valid_from, valid_to))
    row = CostTableRow(
        amount_cents=amount_cents, valid_from=valid_from, valid_to=valid_to, description=description
    )
    session.add(row)
    session.flush()
    record(session, actor, "tariffs.cost_added", "cost_table", row.id, f"{amount_cents}")
    return row


def add_offence(
    session: Session,
    actor: Principal | None,
    *,
    code: str,
    amount_cents: int,
    valid_from: date,
    valid_to: date | None,
    description: str = "",
) -> OffenceAmountRow:
    rows = session.exec(select(OffenceAmountRow).where(OffenceAmountRow.code == code)).all()
    existing = [
        ValidAmount(r.id or 0, r.code, r.amount_cents, r.valid_from, r.valid_to) for r in rows
    ]
    check_no_overlap(existing, ValidAmount(0, code, amount_cents, valid_from, valid_to))
    row = OffenceAmountRow(
        code=code,
        amount_cents=amount_cents,
        valid_from=valid_from,
        valid_to=valid_to,
        description=description,
    )
    session.add(row)
    session.flush()
    record(session, actor, "tariffs.offence_added", "offence_amount", row.id, f"{code}")
    return row


def list_costs(session: Session) -> list[CostTableRow]:
    return list(session.exec(select(CostTableRow).order_by(col(CostTableRow.valid_from))).all())


def list_offences(session: Session) -> list[OffenceAmountRow]:
    stmt = select(OffenceAmountRow).order_by(
        col(OffenceAmountRow.code), col(OffenceAmountRow.valid_from)
    )
    return list(session.exec(stmt).all())
