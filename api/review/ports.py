"""What the review service needs from zones and rights, as ports.

The backend's zones and permits features implement these; the review rules do not know how
zones are stored or how rights are found.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlmodel import Session


@dataclass(frozen=True, slots=True)
class RightsResult:
    allowed: bool
    reason: str  # permits.model.DecisionReason value
    right_id: str | None = None
    valid_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class ZoneReviewRules:
    zone_id: str
    name: str
    area_code: str
    grace_minutes: int
    remote_enforcement_allowed: bool
    fine_track: str  # tax | wahv


class RightsChecker(Protocol):
    def check(
        self, session: Session, *, plate: str, zone_id: str | None, at: datetime, grace_minutes: int
    ) -> RightsResult: ...


class ZoneRulesSource(Protocol):
    def rules_for(self, session: Session, zone_id: str | None) -> ZoneReviewRules | None: ...


class FineDrafts(Protocol):
    """Called in the confirming transaction: make the fine draft for a confirmed hit."""

    def draft_for_confirmed_hit(self, session: Session, hit: Any) -> None: ...


class DecisionObserver(Protocol):
    """Told of every BOA decision (the review-latency metric)."""

    def observe_review(self, decision: str, hit: Any) -> None: ...
