"""What a request may carry, matched to what the database can hold: one place.

Every value of a request ends in a column or a SQL parameter. A value that passes validation
but not the database was a 500; these limits refuse it at the edge with 422 and the usual
``{detail, code}`` body:

- row ids and other integers: the columns are 32-bit (``INTEGER``), so at most ``INT32_MAX``;
  offsets too (a 2-billion-row offset is no page of anything);
- text: at most its column's length (``Field(max_length=...)`` next to each field, the same
  number as the column's), and never a NUL character, which PostgreSQL cannot store: refused
  for every query string, path and JSON or form body by ``NulGuardMiddleware``
  (api/textguard.py), and by the wire schema for the scan car's multipart metadata;
- times: within 1970 up to 2100 (``SaneTime``), far from the edges of what datetimes and the
  database hold (year 1 with a positive offset cannot even be turned into UTC); what a scan car
  saw, not before its software existed nor more than ``MAX_CAPTURE_AHEAD`` in the future.

tests/unit/api/test_request_limits.py walks the OpenAPI document and fails for any request
integer, string or list without these bounds, so a new route cannot forget them.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated

from fastapi import Path, Query
from pydantic import AfterValidator, AwareDatetime

from api.errors import Unprocessable
from permits.bounds import EARLIEST_TIME, LATEST_TIME
from scancar.wire import (
    CAR_SOFTWARE_EPOCH,
    INT32_MAX,
    Text,
    check_no_nul,
    check_time,
)

__all__ = [
    "INT32_MAX",
    "INT64_MAX",
    "MAX_CAPTURE_AHEAD",
    "OFFSET_MAX",
    "ROW_ID_MAX",
    "AreaCodePath",
    "Day",
    "Offset",
    "PermitIdPath",
    "RowIdPath",
    "SaneTime",
    "Text",
    "check_capture_not_ahead",
    "check_no_nul",
]

INT64_MAX = 2**63 - 1  # BIGINT columns (a car's free disk bytes)
ROW_ID_MAX = INT32_MAX  # every table's ``id`` is an INTEGER
OFFSET_MAX = INT32_MAX
MAX_CAPTURE_AHEAD = timedelta(minutes=5)  # a car's clock may run a little ahead of ours


def _check_day(value: date) -> date:
    if not EARLIEST_TIME.date() <= value < LATEST_TIME.date():
        raise ValueError(
            f"date {value.isoformat()} is not plausible: dates lie from "
            f"{EARLIEST_TIME.date()} up to {LATEST_TIME.date()}"
        )
    return value


# an aware time within 1970 .. 2100
SaneTime = Annotated[AwareDatetime, AfterValidator(check_time)]
# a time in a query string; naive is let through for the route's own, clearer refusal
QueryTime = Annotated[datetime, AfterValidator(check_time)]
Day = Annotated[date, AfterValidator(_check_day)]
RowIdPath = Annotated[int, Path(ge=1, le=ROW_ID_MAX)]
PermitIdPath = Annotated[str, Path(min_length=1, max_length=64)]  # permits.id VARCHAR(64)
AreaCodePath = Annotated[str, Path(min_length=1, max_length=64)]  # area_quotas.area_code
Offset = Annotated[int, Query(ge=0, le=OFFSET_MAX)]


def check_capture_not_ahead(captured_at: datetime, now: datetime) -> None:
    """A scan car's capture time may not lie more than a few minutes ahead of the server's
    clock (the lower bound, the software's epoch, is in the wire schema)."""
    if captured_at > now + MAX_CAPTURE_AHEAD:
        minutes = int(MAX_CAPTURE_AHEAD.total_seconds() // 60)
        raise Unprocessable(
            f"metadata.captured_at {captured_at.isoformat()} lies more than {minutes} minutes "
            f"after the server's clock ({now.isoformat(timespec='seconds')}); check the car's "
            f"clock (captures from {CAR_SOFTWARE_EPOCH.date()} up to now are accepted)",
            code="implausible_time",
        )
