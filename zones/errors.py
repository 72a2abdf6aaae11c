"""Errors of the zones domain. Each names the bad value and what is allowed.

`ZoneFileError` carries the full list of `Problem`s found in a zone file, so a caller (the
`scancar zones check` command, the `PUT /api/v1/zones` route) can show all of them at once.
"""

from __future__ import annotations

from dataclasses import dataclass


class ZonesError(Exception):
    """Base class for zones errors."""

    code = "zones_error"


class InvalidZoneError(ZonesError, ValueError):
    """A domain object (zone, time window) was built with a bad value."""

    code = "invalid_zone"

    def __init__(self, field: str, value: object, why: str) -> None:
        self.field = field
        self.value = value
        self.why = why
        super().__init__(f"{field}={value!r}: {why}")


class NaiveDatetimeError(ZonesError, ValueError):
    """A datetime without tzinfo was passed where a moment in time is needed."""

    code = "naive_datetime"

    def __init__(self, name: str, value: object) -> None:
        self.name = name
        self.value = value
        super().__init__(
            f"{name}={value!r} is a naive datetime; pass a timezone-aware datetime "
            "(e.g. datetime(..., tzinfo=UTC))"
        )


class UnknownCrsError(ZonesError, ValueError):
    code = "unknown_crs"

    def __init__(self, value: object, allowed: tuple[str, ...]) -> None:
        self.value = value
        self.allowed = allowed
        super().__init__(f"unknown CRS {value!r}; allowed: {', '.join(allowed)}")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an imported zone file or table.

    `feature_index` is the 0-based position in the `features` array (or the row number of an
    NPR geometry table); both it and `feature_id` are None for collection-level problems.
    `field` is a dotted path such as `properties.schedule[1].start` or `geometry`.
    """

    feature_index: int | None
    feature_id: str | None
    field: str
    message: str

    def __str__(self) -> str:
        if self.feature_index is None:
            where = "collection"
        elif self.feature_id is None:
            where = f"feature {self.feature_index}"
        else:
            where = f"feature {self.feature_index} (id {self.feature_id!r})"
        return f"{where}: {self.field}: {self.message}"


@dataclass(frozen=True)
class Notice:
    """Something the importer changed or simplified (a `--fix` repair, a dropped NPR day type)."""

    feature_index: int | None
    feature_id: str | None
    field: str
    message: str

    def __str__(self) -> str:
        if self.feature_index is None:
            where = "collection"
        elif self.feature_id is None:
            where = f"feature {self.feature_index}"
        else:
            where = f"feature {self.feature_index} (id {self.feature_id!r})"
        return f"{where}: {self.field}: {self.message}"


class ZoneFileError(ZonesError, ValueError):
    """A zone file or NPR import was rejected; nothing of it was imported."""

    code = "invalid_zone_file"

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        head = "; ".join(str(p) for p in self.problems[:3])
        more = f" (+{len(self.problems) - 3} more)" if len(self.problems) > 3 else ""
        super().__init__(f"{len(self.problems)} problem(s): {head}{more}")
