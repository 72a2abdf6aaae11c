"""Every table, imported once so ``SQLModel.metadata`` is complete (Alembic, tests)."""

from sqlmodel import SQLModel

from api.audit.db import AuditRow
from api.auth.db import DeviceRow, LoginAttemptRow, UserRow
from api.devices.db import HeartbeatRow
from api.fines.db import (
    CostTableRow,
    ExportBatchRow,
    FineEventRow,
    FineNumberSequenceRow,
    FinePaymentRow,
    FineRow,
    OffenceAmountRow,
)
from api.hits.db import EvidenceRow, HitEventRow, HitRightsCheckRow, HitRow
from api.zones.db import ZoneVersionRow

metadata = SQLModel.metadata

__all__ = [
    "AuditRow",
    "CostTableRow",
    "DeviceRow",
    "EvidenceRow",
    "ExportBatchRow",
    "FineEventRow",
    "FineNumberSequenceRow",
    "FinePaymentRow",
    "FineRow",
    "HeartbeatRow",
    "HitEventRow",
    "HitRightsCheckRow",
    "HitRow",
    "LoginAttemptRow",
    "OffenceAmountRow",
    "UserRow",
    "ZoneVersionRow",
    "metadata",
]
