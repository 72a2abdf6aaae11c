"""What a permit, a session or a scan car's report may hold: the database's columns and a
plausible range of times. One place, used by the domain constructors (so a CSV import meets
the same limits) and by the wire and API schemas at the edge (``api/limits.py``)."""

from __future__ import annotations

from datetime import UTC, datetime

# far from the edges of what datetimes and the database hold (year 1 with a positive offset
# cannot even be turned into UTC; PostgreSQL keeps years Python cannot read back)
EARLIEST_TIME = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_TIME = datetime(2100, 1, 1, tzinfo=UTC)

PERMIT_ID_MAX = 64  # permits.id VARCHAR(64)
HOLDER_REF_MAX = 128  # permits.holder_ref VARCHAR(128)
AREA_CODE_MAX = 64  # area_quotas.area_code VARCHAR(64)
AREA_CODES_MAX_CHARS = 2000  # permits.area_codes VARCHAR(2000), the codes joined by ';'
VISITOR_BUDGET_MAX = 1_000_000  # minutes


def is_plausible_time(value: datetime) -> bool:
    """Within 1970 up to 2100 (a naive time is taken as UTC)."""
    aware = value if value.utcoffset() is not None else value.replace(tzinfo=UTC)
    return EARLIEST_TIME <= aware < LATEST_TIME
