"""Zone files: GeoJSON FeatureCollections in, validated `Zone`s out (adapter; the way back is
`zones.geowriter`, a feature's geometry is read by `zones.georeader`).

The schema of a feature's `properties` is documented with an example in `docs/zones.md`.
`load_feature_collection` checks everything first and raises one `ZoneFileError` with every
problem found (feature index and id, field, what is wrong and what is allowed); it never
returns part of a file. With `fix=True` invalid geometry is repaired with `make_valid` and
unclosed rings are closed, each repair reported in `ZoneImport.repairs`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
)

from zones.crs import (
    WGS84,
    legacy_crs_member,
    normalise_crs,
    transform_geometry,
)
from zones.errors import (
    InvalidZoneError,
    Notice,
    NoticeCode,
    Problem,
    ProblemCode,
    UnknownCrsError,
    ZoneFileError,
    scalar,
)
from zones.georeader import GeometryReader
from zones.model import (
    MAX_STEP_MINUTES,
    DayType,
    FineTrack,
    HolidayPolicy,
    TimeWindow,
    Zone,
    ZoneKind,
    default_fine_track,
    parse_clock,
)
from zones.textfile import parse_json, read_text

ALL_DAYS: tuple[DayType, ...] = tuple(DayType)


class _Refused(ValueError):
    """A custom check of the schema failed; `problem` is its code (pydantic keeps the error)."""

    def __init__(self, message: str, problem: ProblemCode) -> None:
        super().__init__(message)
        self.problem = problem


def _number_only(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise _Refused(
            f"expected a number (cents), got {type(value).__name__}", ProblemCode.NOT_NUMBER
        )
    if isinstance(value, float) and not math.isfinite(value):
        raise _Refused("expected a finite number", ProblemCode.NOT_FINITE)
    return Decimal(str(value)) if isinstance(value, float) else value


Cents = Annotated[Decimal, BeforeValidator(_number_only), Field(ge=0, le=1_000_000)]

# what the backend's columns hold (zone ids are VARCHAR(128) in hits, fines and the check log;
# area codes VARCHAR(64)) and sane ranges: a zone file is refused with the problem named
# instead of a stored zone that fails every rights check later
ZONE_ID_MAX = 128
MINUTES_A_WEEK = 7 * 24 * 60


def _plausible_day(value: date) -> date:
    if not date(1970, 1, 1) <= value < date(2100, 1, 1):
        raise _Refused(
            f"{value.isoformat()} is not a plausible date (1970 up to 2100)",
            ProblemCode.DATE_IMPLAUSIBLE,
        )
    return value


class WindowSpec(BaseModel):
    """One entry of `properties.schedule`."""

    model_config = ConfigDict(extra="forbid")

    days: list[DayType] = Field(min_length=1)
    start: StrictStr
    end: StrictStr
    tariff_cents_per_hour: Cents = Decimal(0)
    step_minutes: StrictInt = Field(default=1, ge=1, le=MAX_STEP_MINUTES)
    max_stay_minutes: StrictInt | None = Field(default=None, gt=0, le=MINUTES_A_WEEK)


class ZoneProperties(BaseModel):
    """`properties` of a zone feature. Unknown keys are ignored with a warning."""

    model_config = ConfigDict(extra="ignore")

    name: StrictStr = Field(min_length=1, max_length=200)
    kind: ZoneKind
    area_code: StrictStr = Field(min_length=1, max_length=64)
    priority: StrictInt = Field(default=0, ge=-1_000_000, le=1_000_000)
    schedule: list[WindowSpec] = Field(max_length=200)
    holidays: HolidayPolicy = HolidayPolicy.REGULATED
    holiday_dates: list[Annotated[date, AfterValidator(_plausible_day)]] | None = Field(
        default=None, max_length=1000
    )
    max_stay_minutes: StrictInt | None = Field(default=None, gt=0, le=MINUTES_A_WEEK)
    grace_minutes: StrictInt = Field(default=10, ge=0, le=24 * 60)
    fine_track: FineTrack | None = None
    remote_enforcement_allowed: StrictBool = False
    permit_types: list[Annotated[StrictStr, Field(max_length=32)]] = Field(
        default_factory=list, max_length=32
    )


KNOWN_PROPERTIES = frozenset(ZoneProperties.model_fields)
ALWAYS_WINDOW: dict[str, Any] = {
    "days": [d.value for d in ALL_DAYS],
    "start": "00:00",
    "end": "24:00",
}


@dataclass(frozen=True)
class ZoneImport:
    """A successfully imported zone set: every zone valid, ids unique."""

    zones: tuple[Zone, ...]
    repairs: tuple[Notice, ...] = ()
    warnings: tuple[Notice, ...] = ()
    source_crs: str = WGS84


# -- reading ---------------------------------------------------------------------------


def read_json(data: dict[str, Any] | str | Path) -> Any:
    """`data` itself, or JSON parsed from text (a str starting with `{`) or from a file path."""
    if isinstance(data, dict):
        return data
    if isinstance(data, str) and data.lstrip().startswith(("{", "[")):
        text, source = data, "text"
    else:
        path = Path(data)
        text = read_text(path)
        source = str(path)
    return parse_json(text, source)


def _loc(prefix: str, loc: tuple[int | str, ...]) -> str:
    out = prefix
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


# pydantic's error types -> what is wrong; its limits (ctx) -> the values the problem names
_PYDANTIC_CODES: dict[str, ProblemCode] = {
    "missing": ProblemCode.FIELD_MISSING,
    "extra_forbidden": ProblemCode.UNKNOWN_FIELD,
    "string_type": ProblemCode.NOT_TEXT,
    "int_type": ProblemCode.NOT_INTEGER,
    "bool_type": ProblemCode.NOT_BOOLEAN,
    "list_type": ProblemCode.NOT_LIST,
    "dict_type": ProblemCode.NOT_OBJECT,
    "model_type": ProblemCode.NOT_OBJECT,
    "model_attributes_type": ProblemCode.NOT_OBJECT,
    "enum": ProblemCode.NOT_ALLOWED,
    "string_too_short": ProblemCode.TEXT_TOO_SHORT,
    "string_too_long": ProblemCode.TEXT_TOO_LONG,
    "too_short": ProblemCode.TOO_FEW_ITEMS,
    "too_long": ProblemCode.TOO_MANY_ITEMS,
    "greater_than_equal": ProblemCode.BELOW_MINIMUM,
    "less_than_equal": ProblemCode.ABOVE_MAXIMUM,
    "greater_than": ProblemCode.NOT_ABOVE,
    "date_type": ProblemCode.NOT_A_DATE,
    "date_parsing": ProblemCode.NOT_A_DATE,
    "date_from_datetime_parsing": ProblemCode.NOT_A_DATE,
    "date_from_datetime_inexact": ProblemCode.NOT_A_DATE,
    "decimal_type": ProblemCode.NOT_NUMBER,
    "decimal_parsing": ProblemCode.NOT_NUMBER,
    "finite_number": ProblemCode.NOT_FINITE,
}
_PYDANTIC_LIMITS = {
    "min_length": "minimum",
    "max_length": "maximum",
    "ge": "minimum",
    "le": "maximum",
    "gt": "limit",
    "expected": "allowed",
}


def _pydantic_code(err: Any) -> tuple[ProblemCode, dict[str, Any]]:
    """The problem code of one pydantic error and the values it names."""
    ctx = err.get("ctx") or {}
    error = ctx.get("error")
    if err["type"] == "value_error" and isinstance(error, _Refused):
        return error.problem, {}
    code = _PYDANTIC_CODES.get(err["type"], ProblemCode.INVALID_VALUE)
    values: dict[str, Any] = {
        _PYDANTIC_LIMITS[k]: v if isinstance(v, int | float) else str(v)
        for k, v in ctx.items()
        if k in _PYDANTIC_LIMITS
    }
    if "allowed" in values:  # "'paid', 'permit' or 'blue'": the list alone
        values["allowed"] = values["allowed"].replace(" or ", ", ")
    if code is ProblemCode.UNKNOWN_FIELD:
        values["allowed"] = ", ".join(WindowSpec.model_fields)
    if code is ProblemCode.INVALID_VALUE:
        values["reason"] = err["msg"]
    return code, values


def _pydantic_problems(
    exc: ValidationError, index: int, feature_id: str | None, prefix: str
) -> list[Problem]:
    problems = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        msg = err["msg"]
        code, values = _pydantic_code(err)
        if err["type"] == "missing":
            msg = "missing (required)"
        elif "input" in err and err["type"] != "extra_forbidden":
            msg = f"{msg} (got {err['input']!r})"
            values["got"] = scalar(err["input"])
        elif err["type"] == "extra_forbidden":
            msg = f"unknown field; allowed: {', '.join(WindowSpec.model_fields)}"
        problems.append(
            Problem(index, feature_id, _loc(prefix, loc), msg, code=code, values=values)
        )
    return _dedupe(problems)


def _dedupe(problems: list[Problem]) -> list[Problem]:
    seen: set[Problem] = set()
    out = []
    for p in problems:
        if p not in seen:
            seen.add(p)
            out.append(p)
    return out


# -- properties --------------------------------------------------------------------------


def _model_problem(
    exc: InvalidZoneError, index: int, feature_id: str | None, field: str
) -> Problem:
    """A check of the model (`Zone`, `TimeWindow`, `parse_clock`) as a problem of `field`."""
    return Problem(
        index,
        feature_id,
        field,
        f"{exc.value!r}: {exc.why}",
        code=exc.problem,
        values=exc.problem_values(),
    )


def _windows(
    props: ZoneProperties, index: int, feature_id: str | None
) -> tuple[tuple[TimeWindow, ...], list[Problem]]:
    windows: list[TimeWindow] = []
    problems: list[Problem] = []
    for i, spec in enumerate(props.schedule):
        field = f"properties.schedule[{i}]"
        try:
            start = parse_clock(spec.start)
        except InvalidZoneError as exc:
            problems.append(_model_problem(exc, index, feature_id, f"{field}.start"))
            continue
        try:
            end = parse_clock(spec.end, is_end=True)
        except InvalidZoneError as exc:
            problems.append(_model_problem(exc, index, feature_id, f"{field}.end"))
            continue
        try:
            windows.append(
                TimeWindow(
                    days=frozenset(spec.days),
                    start_minute=start,
                    end_minute=end,
                    tariff_cents_per_hour=spec.tariff_cents_per_hour,
                    step_minutes=spec.step_minutes,
                    max_stay_minutes=spec.max_stay_minutes,
                )
            )
        except InvalidZoneError as exc:
            problems.append(_model_problem(exc, index, feature_id, f"{field}.{exc.field}"))
    return tuple(windows), problems


def _feature_id(raw: Any) -> str | None:
    if isinstance(raw, str) and raw.strip():
        return raw
    if isinstance(raw, int) and not isinstance(raw, bool):
        return str(raw)
    return None


def _zone_from_feature(
    feature: Any,
    index: int,
    crs: str,
    fix: bool,
    default_holidays: frozenset[date] | None,
) -> tuple[Zone | None, list[Problem], list[Notice], list[Notice]]:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        got = feature.get("type") if isinstance(feature, dict) else type(feature).__name__
        problem = Problem(
            index,
            None,
            "type",
            f"{got!r}: each item must be a Feature",
            code=ProblemCode.NOT_A_FEATURE,
            values={"got": scalar(got)},
        )
        return None, [problem], [], []
    feature_id = _feature_id(feature.get("id"))
    problems: list[Problem] = []
    warnings: list[Notice] = []
    if feature_id is None:
        problems.append(
            Problem(
                index,
                None,
                "id",
                f"{feature.get('id')!r}: every feature needs an id (string)",
                code=ProblemCode.ID_MISSING,
                values={"got": scalar(feature.get("id"))},
            )
        )
    elif len(feature_id) > ZONE_ID_MAX:
        problems.append(
            Problem(
                index,
                None,
                "id",
                f"the id is {len(feature_id)} characters; at most {ZONE_ID_MAX}",
                code=ProblemCode.ID_TOO_LONG,
                values={"length": len(feature_id), "maximum": ZONE_ID_MAX},
            )
        )
        feature_id = None
    reader = GeometryReader(index, feature_id, crs, fix)
    geometry = reader.read(feature.get("geometry"))
    problems.extend(reader.problems)
    raw_props = feature.get("properties")
    props: ZoneProperties | None = None
    if not isinstance(raw_props, dict):
        problems.append(
            Problem(
                index,
                feature_id,
                "properties",
                "missing; must be an object",
                code=ProblemCode.PROPERTIES_MISSING,
            )
        )
    else:
        for key in sorted(set(raw_props) - KNOWN_PROPERTIES):
            warnings.append(
                Notice(
                    index,
                    feature_id,
                    f"properties.{key}",
                    "unknown; ignored",
                    code=NoticeCode.UNKNOWN_PROPERTY,
                )
            )
        if raw_props.get("schedule") == "always":  # shorthand: every day incl. holidays
            raw_props = raw_props | {"schedule": [ALWAYS_WINDOW]}
        try:
            props = ZoneProperties.model_validate(raw_props)
        except ValidationError as exc:
            problems.extend(_pydantic_problems(exc, index, feature_id, "properties"))
    if props is None or geometry is None or feature_id is None:
        return None, problems, reader.repairs, warnings
    windows, window_problems = _windows(props, index, feature_id)
    problems.extend(window_problems)
    if problems:
        return None, problems, reader.repairs, warnings
    if crs != WGS84:
        geometry = transform_geometry(geometry, crs, WGS84)
    holiday_dates = (
        frozenset(props.holiday_dates) if props.holiday_dates is not None else default_holidays
    )
    try:
        zone = Zone(
            id=feature_id,
            name=props.name,
            kind=props.kind,
            area_code=props.area_code,
            geometry=geometry,
            schedule=windows,
            priority=props.priority,
            holidays=props.holidays,
            holiday_dates=holiday_dates,
            max_stay_minutes=props.max_stay_minutes,
            grace_minutes=props.grace_minutes,
            fine_track=props.fine_track or default_fine_track(props.kind),
            remote_enforcement_allowed=props.remote_enforcement_allowed,
            permit_types=tuple(props.permit_types),
        )
    except InvalidZoneError as exc:
        field = "geometry" if exc.field == "geometry" else f"properties.{exc.field}"
        return None, [_model_problem(exc, index, feature_id, field)], [], warnings
    return zone, [], reader.repairs, warnings


def _source_crs(doc: dict[str, Any], crs: str | None, problems: list[Problem]) -> str:
    try:
        member = legacy_crs_member(doc)
        requested = normalise_crs(crs) if crs is not None else None
    except UnknownCrsError as exc:
        problems.append(
            Problem(
                None,
                None,
                "crs",
                str(exc),
                code=ProblemCode.CRS_UNKNOWN,
                values={"got": scalar(exc.value), "allowed": ", ".join(exc.allowed)},
            )
        )
        return WGS84
    if member is not None and requested is not None and member != requested:
        problems.append(
            Problem(
                None,
                None,
                "crs",
                f"the file says {member} but {requested} was requested",
                code=ProblemCode.CRS_CONFLICT,
                values={"file_crs": member, "requested": requested},
            )
        )
    return member or requested or WGS84


def _collection_holidays(doc: dict[str, Any], problems: list[Problem]) -> frozenset[date] | None:
    raw_dates = doc.get("holiday_dates")
    if raw_dates is None:
        return None
    try:
        return frozenset(date.fromisoformat(d) for d in raw_dates)
    except (TypeError, ValueError) as exc:
        problems.append(
            Problem(
                None,
                None,
                "holiday_dates",
                f"a list of YYYY-MM-DD dates: {exc}",
                code=ProblemCode.HOLIDAY_DATES_INVALID,
                values={"reason": str(exc)},
            )
        )
        return None


def load_feature_collection(
    data: dict[str, Any] | str | Path, crs: str | None = None, fix: bool = False
) -> ZoneImport:
    """Validate and import a zone FeatureCollection; all or nothing.

    `data`: a parsed dict, JSON text (a str starting with `{`) or a file path (str or Path).
    `crs`: the CRS of the coordinates when the file has no legacy `crs` member (default WGS84);
    `EPSG:28992` for RD New. Raises `ZoneFileError` listing every problem.
    """
    doc = read_json(data)
    if not isinstance(doc, dict):
        raise ZoneFileError(
            [
                Problem(
                    None,
                    None,
                    "type",
                    "the file must hold a JSON object",
                    code=ProblemCode.FILE_NOT_OBJECT,
                )
            ]
        )
    problems: list[Problem] = []
    if doc.get("type") != "FeatureCollection":
        problems.append(
            Problem(
                None,
                None,
                "type",
                f"{doc.get('type')!r}: must be 'FeatureCollection'",
                code=ProblemCode.NOT_FEATURE_COLLECTION,
                values={"got": scalar(doc.get("type"))},
            )
        )
    source_crs = _source_crs(doc, crs, problems)
    default_holidays = _collection_holidays(doc, problems)
    features = doc.get("features")
    if not isinstance(features, list):
        problems.append(
            Problem(
                None,
                None,
                "features",
                "missing; must be a list of Features",
                code=ProblemCode.FEATURES_MISSING,
            )
        )
        raise ZoneFileError(problems)
    if not features:
        problems.append(
            Problem(
                None,
                None,
                "features",
                "empty; at least one zone is required",
                code=ProblemCode.FEATURES_EMPTY,
            )
        )
        raise ZoneFileError(problems)
    zones: list[Zone] = []
    repairs: list[Notice] = []
    warnings: list[Notice] = []
    first_index: dict[str, int] = {}
    for index, feature in enumerate(features):
        zone, feature_problems, feature_repairs, feature_warnings = _zone_from_feature(
            feature, index, source_crs, fix, default_holidays
        )
        problems.extend(feature_problems)
        repairs.extend(feature_repairs)
        warnings.extend(feature_warnings)
        fid = _feature_id(feature.get("id")) if isinstance(feature, dict) else None
        if fid is not None:
            if fid in first_index:
                problems.append(
                    Problem(
                        index,
                        fid,
                        "id",
                        f"duplicate id; first used by feature {first_index[fid]}",
                        code=ProblemCode.ID_DUPLICATE,
                        values={"first_index": first_index[fid]},
                    )
                )
            else:
                first_index[fid] = index
        if zone is not None:
            zones.append(zone)
    if problems:
        raise ZoneFileError(problems)
    return ZoneImport(tuple(zones), tuple(repairs), tuple(warnings), source_crs)


def check_file(path: str | Path, crs: str | None = None) -> list[Problem]:
    """Every problem of the zone file at `path` (empty when it would import)."""
    try:
        load_feature_collection(Path(path), crs=crs)
    except ZoneFileError as exc:
        return exc.problems
    return []
