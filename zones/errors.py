"""Errors of the zones domain. Each names the bad value and what is allowed.

`ZoneFileError` carries the full list of `Problem`s found in a zone file, so a caller (the
`scancar zones check` command, the `PUT /api/v1/zones` route) can show all of them at once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

Scalar = str | int | float | bool | None


class ProblemCode(StrEnum):
    """What is wrong with a zone file (or NPR table), one code per kind of problem.

    A `Problem` carries its code and the values its message names (`Problem.values`), so a
    caller can say it in another language; `Problem.message` is the English the CLI prints.
    """

    # the file and the collection
    FILE_UNREADABLE = "file_unreadable"  # path, reason
    FILE_NOT_UTF8 = "file_not_utf8"  # path
    FILE_NOT_JSON = "file_not_json"  # reason, line, column (line/column may be missing)
    FILE_NOT_OBJECT = "file_not_object"
    NOT_FEATURE_COLLECTION = "not_feature_collection"  # got
    CRS_UNKNOWN = "crs_unknown"  # got, allowed
    CRS_CONFLICT = "crs_conflict"  # file_crs, requested
    HOLIDAY_DATES_INVALID = "holiday_dates_invalid"  # reason
    FEATURES_MISSING = "features_missing"
    FEATURES_EMPTY = "features_empty"
    # a feature
    NOT_A_FEATURE = "not_a_feature"  # got
    ID_MISSING = "id_missing"  # got
    ID_TOO_LONG = "id_too_long"  # length, maximum
    ID_DUPLICATE = "id_duplicate"  # first_index
    PROPERTIES_MISSING = "properties_missing"
    # geometry
    GEOMETRY_MISSING = "geometry_missing"
    GEOMETRY_NOT_OBJECT = "geometry_not_object"  # got
    GEOMETRY_TYPE_NOT_ALLOWED = "geometry_type_not_allowed"  # got, allowed
    MULTIPOLYGON_EMPTY = "multipolygon_empty"
    POLYGON_EMPTY = "polygon_empty"
    RING_NOT_LIST = "ring_not_list"  # got (a type name)
    POSITION_INVALID = "position_invalid"  # got
    RING_NOT_CLOSED = "ring_not_closed"  # first_x, first_y, last_x, last_y, crs
    RING_TOO_SHORT = "ring_too_short"  # count
    COORDINATES_SWAPPED = "coordinates_swapped"  # min_x, max_x, min_y, max_y
    COORDINATES_NOT_WGS84 = "coordinates_not_wgs84"  # min_x.., looks_like_rd
    COORDINATES_OUTSIDE_RD = "coordinates_outside_rd"  # min_x.., looks_like_wgs84
    POLYGON_NO_AREA = "polygon_no_area"
    POLYGON_INVALID = "polygon_invalid"  # reason, x, y, crs (x/y may be missing)
    POLYGON_UNREPAIRABLE = "polygon_unrepairable"  # reason, x, y, crs
    GEOMETRY_INVALID = "geometry_invalid"  # got (WKT, shortened)
    # values of properties (the schema's checks and the model's)
    FIELD_MISSING = "field_missing"
    UNKNOWN_FIELD = "unknown_field"  # allowed
    NOT_TEXT = "not_text"  # got
    NOT_INTEGER = "not_integer"  # got
    NOT_NUMBER = "not_number"  # got
    NOT_FINITE = "not_finite"  # got
    NOT_BOOLEAN = "not_boolean"  # got
    NOT_LIST = "not_list"  # got
    NOT_OBJECT = "not_object"  # got
    NOT_A_DATE = "not_a_date"  # got
    DATE_IMPLAUSIBLE = "date_implausible"  # got
    NOT_ALLOWED = "not_allowed"  # got, allowed
    TEXT_EMPTY = "text_empty"  # got
    TEXT_TOO_SHORT = "text_too_short"  # got, minimum
    TEXT_TOO_LONG = "text_too_long"  # got, maximum
    TOO_FEW_ITEMS = "too_few_items"  # minimum
    TOO_MANY_ITEMS = "too_many_items"  # maximum
    BELOW_MINIMUM = "below_minimum"  # got, minimum
    ABOVE_MAXIMUM = "above_maximum"  # got, maximum
    NOT_ABOVE = "not_above"  # got, limit (must be greater than limit)
    OUT_OF_RANGE = "out_of_range"  # got, minimum, maximum
    INVALID_VALUE = "invalid_value"  # got, reason (English: a check without its own code)
    # times and rules
    TIME_FORMAT = "time_format"  # got
    TIME_2400_AS_START = "time_2400_as_start"  # got
    TIME_OUT_OF_RANGE = "time_out_of_range"  # got
    END_EQUALS_START = "end_equals_start"  # got
    WINDOWS_OVERLAP = "windows_overlap"  # first, second
    BLUE_ZONE_NEEDS_MAX_STAY = "blue_zone_needs_max_stay"
    # NPR open-data tables (`zones.npr`; the index is the row of the geometry table)
    NPR_NOT_ARRAY = "npr_not_array"  # path
    NPR_NO_ROWS = "npr_no_rows"
    NPR_COLUMNS_MISSING = "npr_columns_missing"  # columns
    NPR_NO_ROWS_SELECTED = "npr_no_rows_selected"
    NPR_DUPLICATE_AREA = "npr_duplicate_area"  # first_row
    NPR_AREA_IDS_MISSING = "npr_area_ids_missing"
    NPR_AREA_UNKNOWN = "npr_area_unknown"  # area_id, manager
    NPR_WKT_MISSING = "npr_wkt_missing"
    NPR_WKT_INVALID = "npr_wkt_invalid"  # reason
    NPR_WKT_NOT_POLYGON = "npr_wkt_not_polygon"  # got
    NPR_NO_REGULATION = "npr_no_regulation"
    NPR_TIME_FRAME_INVALID = "npr_time_frame_invalid"  # reason
    NPR_FARE_NO_PARTS = "npr_fare_no_parts"  # fare
    NPR_FARE_PART_INVALID = "npr_fare_part_invalid"  # fare, part
    NPR_FARE_PART_OUT_OF_RANGE = "npr_fare_part_out_of_range"  # fare, step, amount
    NPR_ZONE_COLUMNS_INVALID = "npr_zone_columns_invalid"  # reason


class NoticeCode(StrEnum):
    """What the importer changed or left out of a zone file that it did import (`Notice`)."""

    RING_CLOSED = "ring_closed"  # first_x, first_y, last_x, last_y, crs
    POLYGON_REPAIRED = "polygon_repaired"  # reason, x, y, crs, geom_type, parts
    UNKNOWN_PROPERTY = "unknown_property"  # (the field names it)
    NPR_NO_TIME_FRAMES_TABLE = "npr_no_time_frames_table"
    NPR_REGULATION_WITHOUT_FRAMES = "npr_regulation_without_frames"  # regulation, day
    NPR_DAY_TYPE_UNSUPPORTED = "npr_day_type_unsupported"  # regulation, day_type
    NPR_NO_RIGHT_TO_BUY = "npr_no_right_to_buy"
    NPR_FARE_NOT_VALID = "npr_fare_not_valid"  # fare, day
    NPR_FARE_CHANGES = "npr_fare_changes"  # fare, minutes
    NPR_NEVER_REGULATED = "npr_never_regulated"


def scalar(value: object) -> Scalar:
    """`value` as a problem value: itself when a plain scalar, else its repr (shortened)."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return repr(value)[:80]


class ZonesError(Exception):
    """Base class for zones errors."""

    code = "zones_error"


class InvalidZoneError(ZonesError, ValueError):
    """A domain object (zone, time window) was built with a bad value.

    `problem` and `limits` say what was wrong as a zone file `Problem` does (`why` is the
    English); a check without its own code is `ProblemCode.INVALID_VALUE`.
    """

    code = "invalid_zone"

    def __init__(
        self,
        field: str,
        value: object,
        why: str,
        problem: ProblemCode = ProblemCode.INVALID_VALUE,
        **limits: Scalar,
    ) -> None:
        self.field = field
        self.value = value
        self.why = why
        self.problem = problem
        self.limits = limits
        super().__init__(f"{field}={value!r}: {why}")

    def problem_values(self) -> dict[str, Scalar]:
        """The values a `Problem` made from this error names: the bad value and the limits."""
        return {"got": scalar(self.value), "reason": self.why, **self.limits}


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
class _Report:
    """Where a problem or notice is, and what it says: ``message`` in English (the CLI and the
    API), ``values`` the values it names, as data."""

    feature_index: int | None
    feature_id: str | None
    field: str
    message: str
    values: Mapping[str, Scalar] = dataclasses.field(
        default_factory=dict, kw_only=True, compare=False
    )

    def __post_init__(self) -> None:
        frozen = MappingProxyType({k: scalar(v) for k, v in self.values.items()})
        object.__setattr__(self, "values", frozen)

    def __str__(self) -> str:
        if self.feature_index is None:
            where = "collection"
        elif self.feature_id is None:
            where = f"feature {self.feature_index}"
        else:
            where = f"feature {self.feature_index} (id {self.feature_id!r})"
        return f"{where}: {self.field}: {self.message}"


@dataclass(frozen=True)
class Problem(_Report):
    """One thing wrong with an imported zone file or table.

    `feature_index` is the 0-based position in the `features` array (or the row number of an
    NPR geometry table); both it and `feature_id` are None for collection-level problems.
    `field` is a dotted path such as `properties.schedule[1].start` or `geometry`.
    `message` is the English the CLI and the API show; `code` and `values` say the same as
    data (what is wrong, and the values the message names) for a text in another language.
    """

    code: ProblemCode = dataclasses.field(kw_only=True)


@dataclass(frozen=True)
class Notice(_Report):
    """Something the importer changed or simplified (a `--fix` repair, a dropped NPR day type).

    Like `Problem`: `message` in English, `code` and `values` the same as data.
    """

    code: NoticeCode = dataclasses.field(kw_only=True)


class ZoneFileError(ZonesError, ValueError):
    """A zone file or NPR import was rejected; nothing of it was imported."""

    code = "invalid_zone_file"

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        head = "; ".join(str(p) for p in self.problems[:3])
        more = f" (+{len(self.problems) - 3} more)" if len(self.problems) > 3 else ""
        super().__init__(f"{len(self.problems)} problem(s): {head}{more}")
