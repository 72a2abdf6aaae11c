"""On-site photos a BOA adds to a claimed hit."""

from __future__ import annotations

from sqlmodel import Session, func, select

from api.auth.principal import Principal
from api.db import utcnow
from api.errors import Conflict
from api.evidence.images import ImageChecker
from api.evidence.store import EvidenceStore
from api.hits.db import EvidenceRow, HitRow
from api.hits.model import HitStatus
from api.review.rules import Claim, HitAction, next_status, require_claim
from api.review.store import add_event, get_hit

MAX_ON_SITE_PHOTOS = 4


def add_on_site_photo(
    session: Session,
    store: EvidenceStore,
    hit_id: int,
    boa: Principal,
    data: bytes,
    *,
    images: ImageChecker,
) -> HitRow:
    now = utcnow()
    hit = get_hit(session, hit_id)
    status = HitStatus(hit.status)
    next_status(status, HitAction.ADD_PHOTO)
    require_claim(status, Claim(hit.claimed_by, hit.claimed_until), boa.id, now)
    info = images.inspect(data)
    count = session.exec(
        select(func.count())
        .select_from(EvidenceRow)
        .where(EvidenceRow.hit_id == hit_id, EvidenceRow.kind == "on_site")
    ).one()
    if count >= MAX_ON_SITE_PHOTOS:
        raise Conflict(f"a hit holds at most {MAX_ON_SITE_PHOTOS} on-site photos")
    digest, _ = store.put(data)
    session.add(
        EvidenceRow(
            hit_id=hit_id,
            name=f"onsite-{count + 1}",
            kind="on_site",
            sha256=digest,
            size_bytes=len(data),
            content_type=info.content_type,
            width=info.width,
            height=info.height,
            created_at=now,
        )
    )
    add_event(session, hit, boa, HitAction.ADD_PHOTO, status.value, f"onsite-{count + 1}")
    session.commit()
    session.refresh(hit)
    return hit
