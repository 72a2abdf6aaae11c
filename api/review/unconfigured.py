"""Temporary defaults until the backend's zones and rights features are wired in.

``NoZoneRules`` knows no zones (so the default grace applies); ``UnconfiguredRights`` refuses
every check with 503, so nothing is ever decided without a real rights source.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from api.errors import ServiceUnavailable
from api.review.ports import RightsResult, ZoneReviewRules


class NoZoneRules:
    def rules_for(self, session: Session, zone_id: str | None) -> ZoneReviewRules | None:  # noqa: ARG002
        return None


class UnconfiguredRights:
    def check(self, session: Session, **_: Any) -> RightsResult:  # noqa: ARG002
        raise ServiceUnavailable(
            "no parking-rights source is configured", code="rights_unavailable"
        )
