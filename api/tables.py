"""Every table, imported once so ``SQLModel.metadata`` is complete (Alembic, tests)."""

from sqlmodel import SQLModel

from api.audit.db import AuditRow
from api.auth.db import DeviceRow, LoginAttemptRow, UserRow
from api.devices.db import HeartbeatRow
from api.hits.db import EvidenceRow, HitRow

metadata = SQLModel.metadata

__all__ = [
    "AuditRow",
    "DeviceRow",
    "EvidenceRow",
    "HeartbeatRow",
    "HitRow",
    "LoginAttemptRow",
    "UserRow",
    "metadata",
]
