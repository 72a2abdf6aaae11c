"""Permits in the backend: storing domain permits, lifecycle actions, applications with the
area quota and waiting list, paid (provider) sessions and visitor sessions.

The rules are the domain's (``permits.lifecycle``, ``permits.quota``, ``permits.visitor``);
the modules below load and store their values. Every function runs in the caller's session,
takes the rights write lock first (``lock_rights``), keeps the materialised rights in step
(``SqlRightsRepository.put_*``) and writes one audit row; the route commits.

This module is the facade callers import; the code lives in modules by role:

- ``store``: permits to rows and back, plate periods, events, materialised rights
- ``quota``: area quotas, waiting lists, granting freed places
- ``lifecycle``: direct grants, updates, lifecycle actions, plate changes, the list
- ``applications``: filing and deciding applications, waiting positions
- ``sessions``: paid (provider) sessions and visitor sessions
- ``csvio``: the CSV import and the export order
- ``expiry``: permits due for expiry and expiring one
"""

from api.permits.applications import (
    apply_for_permit,
    decide_application,
    get_application,
    waiting_position,
)
from api.permits.csvio import (
    IMPORTED_APPLICATION_STATES,
    ImportReport,
    import_permits,
    iter_permits,
)
from api.permits.expiry import EXPIRY_ACTOR, ExpiryOutcome, expire_if_due, permits_due_for_expiry
from api.permits.lifecycle import (
    LIFECYCLE_ACTIONS,
    NewPermit,
    PermitChanges,
    apply_action,
    change_plate,
    create_permit,
    list_permits,
    update_permit,
)
from api.permits.quota import load_quota, load_quotas, set_quota
from api.permits.sessions import (
    NewPaidSession,
    get_own_paid_session,
    paid_domain,
    report_paid_session,
    start_visitor,
    stop_paid_session,
    stop_visitor,
)
from api.permits.store import (
    HOLDER_STATUSES,
    actor_name,
    application_of,
    events,
    get_permit_row,
    load_permit,
    new_permit_id,
    plate_rows,
    store_permit,
    visitor_sessions,
)

__all__ = [
    "EXPIRY_ACTOR",
    "HOLDER_STATUSES",
    "IMPORTED_APPLICATION_STATES",
    "LIFECYCLE_ACTIONS",
    "ExpiryOutcome",
    "ImportReport",
    "NewPaidSession",
    "NewPermit",
    "PermitChanges",
    "actor_name",
    "application_of",
    "apply_action",
    "apply_for_permit",
    "change_plate",
    "create_permit",
    "decide_application",
    "events",
    "expire_if_due",
    "get_application",
    "get_own_paid_session",
    "get_permit_row",
    "import_permits",
    "iter_permits",
    "list_permits",
    "load_permit",
    "load_quota",
    "load_quotas",
    "new_permit_id",
    "paid_domain",
    "permits_due_for_expiry",
    "plate_rows",
    "report_paid_session",
    "set_quota",
    "start_visitor",
    "stop_paid_session",
    "stop_visitor",
    "store_permit",
    "update_permit",
    "visitor_sessions",
    "waiting_position",
]
