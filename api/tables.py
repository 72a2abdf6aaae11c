"""Every table, imported once so ``SQLModel.metadata`` is complete (Alembic, tests)."""

from sqlmodel import SQLModel

from api.audit.db import AuditRow
from api.auth.db import DeviceRow, LoginAttemptRow, UserRow
from api.devices.db import HeartbeatRow
from api.hits.db import EvidenceRow, HitEventRow, HitRightsCheckRow, HitRow
from api.permits.db import (
    AreaQuotaRow,
    PaidSessionRow,
    PermitApplicationRow,
    PermitEventRow,
    PermitPlateRow,
    PermitRow,
    VisitorSessionRow,
)
from api.rights.db import RightChangeRow, RightRow, RightsCheckLogRow, RightsFeedLockRow
from api.zones.db import ZoneVersionRow

metadata = SQLModel.metadata

__all__ = [
    "AreaQuotaRow",
    "AuditRow",
    "DeviceRow",
    "EvidenceRow",
    "HeartbeatRow",
    "HitEventRow",
    "HitRightsCheckRow",
    "HitRow",
    "LoginAttemptRow",
    "PaidSessionRow",
    "PermitApplicationRow",
    "PermitEventRow",
    "PermitPlateRow",
    "PermitRow",
    "RightChangeRow",
    "RightRow",
    "RightsCheckLogRow",
    "RightsFeedLockRow",
    "UserRow",
    "VisitorSessionRow",
    "ZoneVersionRow",
    "metadata",
]
