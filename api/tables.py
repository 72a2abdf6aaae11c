"""Every table, imported once so ``SQLModel.metadata`` is complete (Alembic, tests)."""

from sqlmodel import SQLModel

from api.audit.db import AuditRow
from api.auth.db import DeviceRow, LoginAttemptRow, UserRow
from api.devices.db import HeartbeatRow
from api.hits.db import EvidenceRow, HitEventRow, HitRightsCheckRow, HitRow
from api.zones.db import ZoneVersionRow

metadata = SQLModel.metadata

__all__ = [
    "AuditRow",
    "DeviceRow",
    "EvidenceRow",
    "HeartbeatRow",
    "HitEventRow",
    "HitRightsCheckRow",
    "HitRow",
    "LoginAttemptRow",
    "UserRow",
    "ZoneVersionRow",
    "metadata",
]
