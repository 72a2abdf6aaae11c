"""Visitor permits (bezoekersvergunning): a minute budget spent on sessions for visitors' plates.

A session deducts its whole planned length (rounded up to whole minutes) when it starts;
stopping it early gives the unused minutes back. A session that would overdraw the budget is
refused with the remaining balance in the message.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime

from permits.errors import InvalidPermitError, VisitorBudgetExceededError
from permits.model import Permit, PermitStatus, PermitType, VisitorSession, require_aware
from permits.plates import normalise_plate


@dataclass(frozen=True, slots=True)
class VisitorAccount:
    """Minutes a visitor permit may still spend: ``budget_minutes - used_minutes``."""

    permit_id: str
    budget_minutes: int
    used_minutes: int = 0

    def __post_init__(self) -> None:
        if self.budget_minutes < 0 or self.used_minutes < 0:
            raise InvalidPermitError(
                "used_minutes", self.used_minutes, "budget and use must be 0 or more"
            )

    @property
    def remaining_minutes(self) -> int:
        return max(0, self.budget_minutes - self.used_minutes)

    @classmethod
    def for_permit(cls, permit: Permit) -> VisitorAccount:
        if permit.type is not PermitType.VISITOR or permit.visitor_budget_minutes is None:
            raise InvalidPermitError("type", permit.type.value, "only visitor permits have budgets")
        return cls(permit.id, permit.visitor_budget_minutes)


@dataclass(frozen=True, slots=True)
class VisitorSessionResult:
    account: VisitorAccount
    session: VisitorSession


def session_minutes(start: datetime, end: datetime) -> int:
    """Minutes charged for ``[start, end]``: started minutes count whole."""
    return math.ceil((end - start).total_seconds() / 60)


def start_visitor_session(
    permit: Permit,
    account: VisitorAccount,
    *,
    session_id: str,
    plate: str,
    start: datetime,
    end: datetime,
    area_codes: frozenset[str] | None = None,
) -> VisitorSessionResult:
    """Start a visitor session for ``plate`` from ``start`` to ``end`` on ``permit``'s budget."""
    require_aware("start", start)
    require_aware("end", end)
    if permit.type is not PermitType.VISITOR:
        raise InvalidPermitError(
            "permit", permit.id, f"is a {permit.type.value} permit, not visitor"
        )
    if permit.status is not PermitStatus.ACTIVE:
        raise InvalidPermitError(
            "permit", permit.id, f"status is {permit.status.value}; sessions need an active permit"
        )
    if account.permit_id != permit.id:
        raise InvalidPermitError("account", account.permit_id, f"is not the account of {permit.id}")
    if end <= start:
        raise InvalidPermitError("end", end, f"must be after start {start.isoformat()}")
    if start < permit.valid_from or (permit.valid_to is not None and end > permit.valid_to):
        raise InvalidPermitError(
            "start",
            start,
            f"the session must lie within the permit's validity {permit.valid_from.isoformat()}"
            f" .. {permit.valid_to.isoformat() if permit.valid_to else 'open-ended'}",
        )
    areas = permit.area_codes if area_codes is None else area_codes
    if not areas or not areas <= permit.area_codes:
        raise InvalidPermitError(
            "area_codes", sorted(areas), f"allowed: {', '.join(sorted(permit.area_codes))}"
        )
    minutes = session_minutes(start, end)
    if minutes > account.remaining_minutes:
        raise VisitorBudgetExceededError(permit.id, minutes, account.remaining_minutes)
    session = VisitorSession(session_id, permit.id, normalise_plate(plate), areas, start, end)
    return VisitorSessionResult(
        replace(account, used_minutes=account.used_minutes + minutes), session
    )


def stop_visitor_session(
    account: VisitorAccount, session: VisitorSession, at: datetime
) -> VisitorSessionResult:
    """End ``session`` at ``at`` (not before its start) and give back the unused minutes."""
    require_aware("at", at)
    if account.permit_id != session.permit_id:
        raise InvalidPermitError(
            "account", account.permit_id, f"is not the account of {session.permit_id}"
        )
    if at >= session.end:
        return VisitorSessionResult(account, session)
    new_end = max(at, session.start)
    refund = session_minutes(session.start, session.end) - session_minutes(session.start, new_end)
    return VisitorSessionResult(
        replace(account, used_minutes=max(0, account.used_minutes - refund)),
        replace(session, end=new_end),
    )
