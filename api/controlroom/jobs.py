"""The control room's share of the background jobs (``api.retention.jobs.tick``): a BOA's
position is kept no longer than ``boa_position_max_age_minutes``, also when the BOA sends no
new one (the tablet closed, the battery flat). The sharing row stays; the position goes."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.controlroom.service import clear_stale_positions
from api.db import utcnow
from api.settings import BackendSettings


def run_position_expiry(
    engine: Engine, settings: BackendSettings, *, now: datetime | None = None
) -> int:
    """Clear the positions older than the setting; how many were cleared."""
    max_age = timedelta(minutes=settings.boa_position_max_age_minutes)
    with Session(engine) as session:
        cleared = clear_stale_positions(session, now=now or utcnow(), max_age=max_age)
        session.commit()
    return cleared
