"""Every table, imported once so ``SQLModel.metadata`` is complete (Alembic, tests)."""

from sqlmodel import SQLModel

from api.audit.db import AuditRow
from api.auth.db import DeviceRow, LoginThrottleRow, UserRow, UserSessionRow
from api.controlroom.db import BoaPositionRow, HitAssignmentRow
from api.devices.db import HeartbeatRow
from api.fines.db import (
    CostTableRow,
    ExportBatchRow,
    FineEventRow,
    FineExportItemRow,
    FineExportPendingRow,
    FineNumberSequenceRow,
    FinePaymentRow,
    FineRow,
    OffenceAmountRow,
)
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
from api.reports.db import FineDayRow, HitDayRow, HitHourRow, ScanDayRow
from api.residents.db import AddressRow, FavouritePlateRow, OidcIdentityRow
from api.rights.db import RightChangeRow, RightRow, RightsCheckLogRow, RightsFeedLockRow
from api.zones.db import ZoneVersionRow

metadata = SQLModel.metadata

__all__ = [
    "AddressRow",
    "AreaQuotaRow",
    "AuditRow",
    "BoaPositionRow",
    "CostTableRow",
    "DeviceRow",
    "EvidenceRow",
    "ExportBatchRow",
    "FavouritePlateRow",
    "FineDayRow",
    "FineEventRow",
    "FineExportItemRow",
    "FineExportPendingRow",
    "FineNumberSequenceRow",
    "FinePaymentRow",
    "FineRow",
    "HeartbeatRow",
    "HitAssignmentRow",
    "HitDayRow",
    "HitEventRow",
    "HitHourRow",
    "HitRightsCheckRow",
    "HitRow",
    "LoginThrottleRow",
    "OffenceAmountRow",
    "OidcIdentityRow",
    "PaidSessionRow",
    "PermitApplicationRow",
    "PermitEventRow",
    "PermitPlateRow",
    "PermitRow",
    "RightChangeRow",
    "RightRow",
    "RightsCheckLogRow",
    "RightsFeedLockRow",
    "ScanDayRow",
    "UserRow",
    "UserSessionRow",
    "VisitorSessionRow",
    "ZoneVersionRow",
    "metadata",
]
