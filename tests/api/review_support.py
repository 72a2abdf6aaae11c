"""Test doubles for the review service's ports, and helpers to make hits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from api.review.ports import RightsResult, ZoneReviewRules
from tests.factories import multipart, observation

ZONES = {
    "centrum": ZoneReviewRules("centrum", "Centrum", "9999_CENTRUM", 10, True, "tax"),
    "wijk-noord": ZoneReviewRules("wijk-noord", "Noord", "9999_NOORD", 5, False, "tax"),
}


class FakeZoneRules:
    def rules_for(self, session: Any, zone_id: str | None) -> ZoneReviewRules | None:
        return ZONES.get(zone_id or "")


@dataclass
class FakeRights:
    """Rights by plate; every check is remembered so tests can assert what was asked."""

    rights: dict[str, RightsResult] = field(default_factory=dict)
    calls: list[tuple[str, str | None, datetime, int]] = field(default_factory=list)

    def check(
        self,
        session: Any,
        *,
        plate: str,
        zone_id: str | None,
        at: datetime,
        grace_minutes: int,
    ) -> RightsResult:
        self.calls.append((plate, zone_id, at, grace_minutes))
        return self.rights.get(plate, RightsResult(False, "none"))


def post_hit(client: Any, headers: dict[str, str], **overrides: Any) -> int:
    meta, parts = observation(**overrides)
    r = client.post("/api/v1/observations", files=multipart(meta, parts), headers=headers)
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def after_grace(minutes: int = 11) -> datetime:
    from tests.factories import CAPTURED_AT

    return CAPTURED_AT + timedelta(minutes=minutes)


def run_grace(app: Any, now: datetime | None = None) -> Any:
    """One pass of the grace step of ``app``'s backend (by default just after the grace)."""
    from api.review import service

    state = app.state.backend
    return service.run_grace_step(
        state.engine,
        state.evidence_store,
        state.rights_checker,
        state.zone_rules,
        state.settings,
        now=now or after_grace(),
    )
