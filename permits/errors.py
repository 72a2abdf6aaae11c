"""Errors of the parking-rights domain. Each names the bad value and what is allowed."""

from __future__ import annotations


class PermitsError(Exception):
    """Base class for parking-rights errors."""

    code = "permits_error"


class InvalidPlateError(PermitsError, ValueError):
    code = "invalid_plate"

    def __init__(self, value: str, why: str) -> None:
        self.value = value
        super().__init__(f"invalid plate {value!r}: {why}")


class NotDutchPlateError(InvalidPlateError):
    """A plate a person typed fits no Dutch sidecode or special series, and they did not say
    it is a foreign plate (most likely a typing error that would leave the car unprotected)."""

    code = "not_dutch_plate"

    def __init__(self, value: str, plate: str) -> None:
        self.plate = plate
        super().__init__(value, "not a Dutch plate (no sidecode fits); mark it as foreign if it is")


class NaiveDatetimeError(PermitsError, ValueError):
    """A time without a time zone reached the domain; only tz-aware times are allowed."""

    code = "naive_datetime"

    def __init__(self, name: str, value: object) -> None:
        self.name = name
        self.value = value
        super().__init__(
            f"{name} must be a timezone-aware datetime (e.g. UTC); got naive {value!r}"
        )


class InvalidPermitError(PermitsError, ValueError):
    """A permit, session or right that breaks a domain invariant."""

    code = "invalid_permit"

    def __init__(self, field: str, value: object, why: str) -> None:
        self.field = field
        self.value = value
        self.why = why
        super().__init__(f"invalid {field} {value!r}: {why}")


class InvalidTransitionError(PermitsError, ValueError):
    """A lifecycle action that is not allowed from the permit's current state."""

    code = "invalid_transition"

    def __init__(
        self, permit_id: str, from_status: str, action: str, allowed: tuple[str, ...]
    ) -> None:
        self.permit_id = permit_id
        self.from_status = from_status
        self.action = action
        self.allowed = allowed
        allowed_text = ", ".join(allowed) if allowed else "none (final state)"
        super().__init__(
            f"permit {permit_id!r}: action {action!r} is not allowed from status "
            f"{from_status!r}; allowed actions: {allowed_text}"
        )


class VisitorBudgetExceededError(PermitsError, ValueError):
    """A visitor session would overdraw the holder's minute budget."""

    code = "visitor_budget_exceeded"

    def __init__(self, permit_id: str, requested_minutes: int, remaining_minutes: int) -> None:
        self.permit_id = permit_id
        self.requested_minutes = requested_minutes
        self.remaining_minutes = remaining_minutes
        super().__init__(
            f"visitor permit {permit_id!r}: a session of {requested_minutes} minutes would "
            f"overdraw the budget; remaining balance is {remaining_minutes} minutes"
        )


class QuotaError(PermitsError, ValueError):
    """A waiting-list or area-quota operation that does not fit the quota's state."""

    code = "quota_error"


class AreaQuotaFullError(QuotaError):
    """A permit would take (or reach into) an area whose quota has no room for it."""

    code = "area_quota_full"

    def __init__(
        self, area_code: str, capacity: int, holders: int, waiting: int, what: str
    ) -> None:
        self.area_code = area_code
        self.capacity = capacity
        self.holders = holders
        self.waiting = waiting
        places = "place" if capacity == 1 else "places"
        super().__init__(
            f"area {area_code!r} is full: its quota is {capacity} {places}, {holders} held, "
            f"{waiting} waiting; {what}"
        )


class FeedError(PermitsError, ValueError):
    """A rights feed (snapshot / changes page) that cannot be used."""

    code = "feed_error"


class CsvRowError(PermitsError, ValueError):
    """One bad row (or field) in a permits CSV file."""

    code = "csv_row_error"

    def __init__(self, line: int, column: str | None, message: str) -> None:
        self.line = line
        self.column = column
        self.message = message
        where = f"line {line}" + (f", column {column!r}" if column else "")
        super().__init__(f"{where}: {message}")


class CsvEncodingError(PermitsError, ValueError):
    """A permits CSV file that is not text in an encoding spreadsheet programs write."""

    code = "csv_encoding"


class CsvImportError(PermitsError, ValueError):
    """A permits CSV file with one or more bad rows; nothing of it was imported."""

    code = "csv_import_error"

    def __init__(self, errors: list[CsvRowError]) -> None:
        self.errors = tuple(errors)
        lines = "; ".join(str(e) for e in errors[:20])
        more = f" (and {len(errors) - 20} more)" if len(errors) > 20 else ""
        super().__init__(f"{len(errors)} bad row(s), nothing imported: {lines}{more}")
