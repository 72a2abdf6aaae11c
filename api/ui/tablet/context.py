"""What the tablet templates get: the claim as the reader sees it, the photos in viewer order,
zone names, and the page context of the queue and of a hit."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlmodel import Session

from api.auth.principal import Role
from api.hits import queries
from api.hits.db import EvidenceRow, HitRow
from api.hits.model import HitStatus
from api.review.ports import ZoneRulesSource
from api.ui.forms import FormState, empty_form
from api.ui.session import PageUser

THUMB_SIDE = 360
ClaimKind = Literal["free", "mine", "colleague", "expired", "closed"]


@dataclass(frozen=True, slots=True)
class ClaimState:
    """Who holds the hit, as the reader sees it."""

    state: ClaimKind
    holder: str | None = None
    until: datetime | None = None
    now: datetime | None = None

    @property
    def until_iso(self) -> str:
        return self.until.isoformat() if self.until else ""

    @property
    def minutes_left(self) -> int:
        if self.until is None or self.now is None:
            return 0
        return max(0, math.ceil((self.until - self.now).total_seconds() / 60))


def claim_state(hit: HitRow, user_id: int, holder: str | None, now: datetime) -> ClaimState:
    status = HitStatus(hit.status)
    if status == HitStatus.AWAITING_REVIEW:
        return ClaimState("free")
    if status != HitStatus.CLAIMED:
        return ClaimState("closed")
    if hit.claimed_by == user_id:
        return ClaimState("mine", holder, hit.claimed_until, now)
    if hit.claimed_until is not None and hit.claimed_until > now:
        return ClaimState("colleague", holder, hit.claimed_until, now)
    return ClaimState("expired", holder, hit.claimed_until, now)


@dataclass(frozen=True, slots=True)
class Photo:
    name: str
    kind: str
    width: int
    height: int

    @property
    def thumb_width(self) -> int:
        return self._thumb()[0]

    @property
    def thumb_height(self) -> int:
        return self._thumb()[1]

    def _thumb(self) -> tuple[int, int]:
        scale = min(1.0, THUMB_SIDE / max(self.width, self.height, 1))
        return max(1, round(self.width * scale)), max(1, round(self.height * scale))


def photos_of(evidence: list[EvidenceRow]) -> list[Photo]:
    return [Photo(e.name, e.kind, e.width, e.height) for e in evidence]


class ZoneNames:
    """Zone names by id for one request (the zone rules are looked up once per zone)."""

    def __init__(self, session: Session, zones: ZoneRulesSource) -> None:
        self._session, self._zones = session, zones
        self._names: dict[str | None, str] = {}

    def __call__(self, zone_id: str | None) -> str:
        if zone_id not in self._names:
            rules = self._zones.rules_for(self._session, zone_id)
            self._names[zone_id] = rules.name if rules else (zone_id or "onbekende zone")
        return self._names[zone_id]


def queue_rows_view(
    session: Session,
    zones: ZoneRulesSource,
    user: PageUser,
    rows: list[queries.HitRowAt],
    now: datetime,
) -> list[dict[str, Any]]:
    names = queries.names_of(session, (r.hit.claimed_by for r in rows))
    zone_name = ZoneNames(session, zones)
    out = []
    for r in rows:
        h = r.hit
        held = queries.is_held_by_other(h, user.principal.id, now)
        out.append(
            {
                "hit": h,
                "distance": r.distance,
                "zone_name": zone_name(h.zone_id),
                "mine": h.status == HitStatus.CLAIMED.value and h.claimed_by == user.principal.id,
                "holder": names.get(h.claimed_by or 0) if held else None,
            }
        )
    return out


def hit_context(
    session: Session,
    zones: ZoneRulesSource,
    user: PageUser,
    hit: HitRow,
    now: datetime,
    max_distance_m: float,
    forms: dict[str, FormState] | None = None,
) -> dict[str, Any]:
    data = queries.hit_detail(session, hit)
    rules = zones.rules_for(session, hit.zone_id)
    remote_allowed = bool(rules and rules.remote_enforcement_allowed)
    names = queries.names_of(
        session, (hit.claimed_by, hit.decided_by, *(e.actor_id for e in data.history))
    )
    all_forms = {
        "confirm": empty_form("confirm", mode="remote" if remote_allowed else "on_site"),
        "reject": empty_form("reject"),
        "plate": empty_form("plate"),
        "photo": empty_form("photo"),
    }
    all_forms.update(forms or {})
    return {
        "user": user,
        "hit": hit,
        "photos": photos_of(data.photos),
        "check": data.last_check,
        "history": data.history,
        "zone_name": rules.name if rules else (hit.zone_id or "onbekende zone"),
        "remote_allowed": remote_allowed,
        "claim": claim_state(hit, user.principal.id, names.get(hit.claimed_by or 0), now),
        "decided_by": names.get(hit.decided_by or 0),
        "people": names,
        "can_decide": user.principal.role == Role.BOA,
        "max_distance_m": max_distance_m,
        "forms": all_forms,
        "failed": next((k for k, f in (forms or {}).items() if f.has_errors), None),
    }
