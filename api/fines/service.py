"""Applying the fine lifecycle: drafts from confirmed hits, issue with gapless numbers, payments,
objections, annulment, the avalanche guard, exports. History and audit in the same transaction.

State changes are conditional UPDATEs (``WHERE status = ...``), so two back-office users or two
server processes never both win.

This module is the facade callers import; the code lives in modules by role:

- ``amounts``: the amount tables and the calculation per track
- ``store``: a fine's row, its events, the conditional state change
- ``drafts``: drafts from confirmed hits (``SqlFineDrafts``), recalculation
- ``numbers``: gapless fine numbers per year
- ``actions``: approve, issue, payments, objections, annul, collection
- ``queries``: the list, payments, history, avalanche alerts
- ``export``: export batches
"""

from api.fines.actions import (
    annul,
    approve,
    decide_objection,
    issue,
    register_objection,
    register_payment,
    send_to_collection,
)
from api.fines.amounts import calculate, cost_entries, offence_entries
from api.fines.drafts import SqlFineDrafts, make_draft, recalculate, recent_fine_count
from api.fines.export import (
    EXPORT_EXCLUDED,
    ExportResult,
    batch_fine_chunks,
    export_batch,
    get_batch,
)
from api.fines.numbers import next_fine_number
from api.fines.queries import (
    Alert,
    ExportMark,
    FineFilter,
    Unexported,
    alerts,
    export_batches,
    export_marks,
    fines_by_hit,
    history,
    is_closed,
    list_fines,
    payments,
    unexported,
)
from api.fines.store import add_event, get_fine

__all__ = [
    "EXPORT_EXCLUDED",
    "Alert",
    "ExportMark",
    "ExportResult",
    "FineFilter",
    "SqlFineDrafts",
    "Unexported",
    "add_event",
    "alerts",
    "annul",
    "approve",
    "batch_fine_chunks",
    "calculate",
    "cost_entries",
    "decide_objection",
    "export_batch",
    "export_batches",
    "export_marks",
    "fines_by_hit",
    "get_batch",
    "get_fine",
    "history",
    "is_closed",
    "issue",
    "list_fines",
    "make_draft",
    "next_fine_number",
    "offence_entries",
    "payments",
    "recalculate",
    "recent_fine_count",
    "register_objection",
    "register_payment",
    "send_to_collection",
    "unexported",
]
