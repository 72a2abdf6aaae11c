"""Parking rights: permits, paid and visitor sessions, and the flattened ``Right`` view.

Everything here is a frozen dataclass validated in its constructor. Plates are stored in
normalised form only (see ``permits.plates``); every time is timezone-aware.

Glossary (Dutch term once):
- ``Permit``: parkeervergunning (bewonersvergunning, bedrijfsvergunning, bezoekersvergunning,
  mantelzorgvergunning, GPK op kenteken = gehandicaptenparkeerkaart, ontheffing).
- ``PaidSession``: a parking-app session (a right in the NPR, Nationaal Parkeerregister).
- ``Right``: one plate-bound entitlement to park in some areas for some time, whatever its source.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from datetime import datetime

from permits.bounds import (
    AREA_CODE_MAX,
    AREA_CODES_MAX_CHARS,
    EARLIEST_TIME,
    HOLDER_REF_MAX,
    LATEST_TIME,
    PERMIT_ID_MAX,
    VISITOR_BUDGET_MAX,
    is_plausible_time,
)
from permits.errors import InvalidPermitError, NaiveDatetimeError
from permits.plates import is_normalised_plate


def require_aware(name: str, value: datetime) -> datetime:
    """Return ``value`` when it carries a time zone; raise ``NaiveDatetimeError`` otherwise."""
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise NaiveDatetimeError(name, value)
    return value


def _require_plate(name: str, plate: str) -> None:
    if not is_normalised_plate(plate):
        raise InvalidPermitError(
            name, plate, "plates must be normalised (A-Z0-9, 1-10 characters); use normalise_plate"
        )


def _require_plausible(name: str, value: datetime) -> None:
    if not is_plausible_time(value):
        raise InvalidPermitError(
            name,
            value.isoformat(),
            f"must lie from {EARLIEST_TIME.date()} up to {LATEST_TIME.date()}",
        )


def _require_window(start: datetime, end: datetime | None) -> None:
    require_aware("start", start)
    _require_plausible("start", start)
    if end is not None:
        require_aware("end", end)
        _require_plausible("end", end)
        if end < start:
            raise InvalidPermitError("end", end, f"must not be before start {start.isoformat()}")


class PermitType(enum.StrEnum):
    """Kinds of permit. Which of them a zone accepts is the zone's business (``permit_types``)."""

    RESIDENT = "resident"  # bewonersvergunning
    BUSINESS = "business"  # bedrijfsvergunning
    VISITOR = "visitor"  # bezoekersvergunning: an hour budget, sessions for a visitor's plate
    CARE = "care"  # mantelzorgvergunning
    DISABLED = "disabled"  # GPK op kenteken (gehandicaptenparkeerkaart), plate-bound
    EXEMPTION = "exemption"  # ontheffing: emergency / municipal vehicles


# Permit types that are valid in the whole city when no area codes are given.
CITY_WIDE_PERMIT_TYPES: frozenset[PermitType] = frozenset(
    {PermitType.DISABLED, PermitType.EXEMPTION}
)


class PermitStatus(enum.StrEnum):
    APPLIED = "applied"
    IN_REVIEW = "in_review"
    WAITLISTED = "waitlisted"  # area quota full; waits in FIFO order (wachtlijst)
    GRANTED = "granted"
    REFUSED = "refused"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    REVOKED = "revoked"
    EXPIRED = "expired"


class RightKind(enum.StrEnum):
    PERMIT = "permit"
    VISITOR = "visitor"
    EXEMPTION = "exemption"
    PAID = "paid"


class DecisionReason(enum.StrEnum):
    """Why a plate may (or may not) park. Listed from strongest to weakest."""

    EXEMPTION = "exemption"
    PERMIT = "permit"
    VISITOR = "visitor"
    PAID = "paid"
    LATE_PAYMENT_WITHIN_GRACE = "late_payment_within_grace"
    LOOKALIKE_RIGHT = "lookalike_right"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class PlatePeriod:
    """A plate registered on a permit from ``start`` until ``end`` (None: until further notice)."""

    plate: str
    start: datetime
    end: datetime | None = None

    def __post_init__(self) -> None:
        _require_plate("plate", self.plate)
        _require_window(self.start, self.end)


@dataclass(frozen=True, slots=True)
class Permit:
    """A permit (parkeervergunning) held by ``holder_ref`` for its registered plates only.

    ``area_codes`` empty means the whole city, which only disabled (GPK) and exemption permits
    may have. Visitor permits have no plates; they carry a minute budget instead and their
    rights come from ``VisitorSession``s.
    """

    id: str
    type: PermitType
    holder_ref: str
    plate_periods: tuple[PlatePeriod, ...]
    area_codes: frozenset[str]
    valid_from: datetime
    valid_to: datetime | None
    status: PermitStatus = PermitStatus.APPLIED
    visitor_budget_minutes: int | None = None
    applied_at: datetime | None = None

    def __post_init__(self) -> None:
        if not self.id:
            raise InvalidPermitError("id", self.id, "a permit needs a non-empty id")
        if not isinstance(self.type, PermitType):
            raise InvalidPermitError(
                "type", self.type, f"allowed: {', '.join(t.value for t in PermitType)}"
            )
        if not isinstance(self.status, PermitStatus):
            raise InvalidPermitError(
                "status", self.status, f"allowed: {', '.join(s.value for s in PermitStatus)}"
            )
        if not self.holder_ref:
            raise InvalidPermitError("holder_ref", self.holder_ref, "a permit needs a holder")
        _require_window(self.valid_from, self.valid_to)
        if self.applied_at is not None:
            require_aware("applied_at", self.applied_at)
        if not self.area_codes and self.type not in CITY_WIDE_PERMIT_TYPES:
            raise InvalidPermitError(
                "area_codes",
                sorted(self.area_codes),
                f"a {self.type.value} permit needs at least one area code; only "
                f"{', '.join(sorted(t.value for t in CITY_WIDE_PERMIT_TYPES))} may be city-wide",
            )
        if any(not code for code in self.area_codes):
            raise InvalidPermitError("area_codes", sorted(self.area_codes), "empty area code")
        self._check_lengths()
        self._check_plates_and_budget()

    def _check_lengths(self) -> None:
        for name, value, most in (
            ("id", self.id, PERMIT_ID_MAX),
            ("holder_ref", self.holder_ref, HOLDER_REF_MAX),
        ):
            if len(value) > most or "\x00" in value:
                raise InvalidPermitError(
                    name, value[:80], f"at most {most} characters, no NUL character"
                )
        codes = sorted(self.area_codes)
        if any(len(c) > AREA_CODE_MAX or "\x00" in c for c in codes):
            raise InvalidPermitError(
                "area_codes", [c[:80] for c in codes], f"at most {AREA_CODE_MAX} characters each"
            )
        if len(";".join(codes)) > AREA_CODES_MAX_CHARS:
            raise InvalidPermitError(
                "area_codes",
                f"{len(codes)} codes",
                f"at most {AREA_CODES_MAX_CHARS} characters together (joined by ';')",
            )
        budget = self.visitor_budget_minutes
        if budget is not None and budget > VISITOR_BUDGET_MAX:
            raise InvalidPermitError(
                "visitor_budget_minutes", budget, f"at most {VISITOR_BUDGET_MAX} minutes"
            )

    def _check_plates_and_budget(self) -> None:
        if self.type is PermitType.VISITOR:
            if self.plate_periods:
                raise InvalidPermitError(
                    "plate_periods",
                    [p.plate for p in self.plate_periods],
                    "a visitor permit has no plates; visitors get rights through sessions",
                )
            if self.visitor_budget_minutes is None or self.visitor_budget_minutes < 0:
                raise InvalidPermitError(
                    "visitor_budget_minutes",
                    self.visitor_budget_minutes,
                    "a visitor permit needs a budget of 0 or more minutes",
                )
        else:
            if not self.plate_periods:
                raise InvalidPermitError(
                    "plate_periods", (), f"a {self.type.value} permit needs at least one plate"
                )
            if self.visitor_budget_minutes is not None:
                raise InvalidPermitError(
                    "visitor_budget_minutes",
                    self.visitor_budget_minutes,
                    "only visitor permits have a minute budget",
                )

    @property
    def is_city_wide(self) -> bool:
        return not self.area_codes

    def current_plates(self, at: datetime) -> frozenset[str]:
        """Plates registered at ``at`` (both ends inclusive)."""
        require_aware("at", at)
        return frozenset(
            p.plate for p in self.plate_periods if p.start <= at and (p.end is None or at <= p.end)
        )

    @property
    def open_plates(self) -> frozenset[str]:
        """Plates whose registration has not been ended."""
        return frozenset(p.plate for p in self.plate_periods if p.end is None)


@dataclass(frozen=True, slots=True)
class PaidSession:
    """A paid parking session reported by a parking-app provider (an NPR right)."""

    provider: str
    provider_session_id: str
    plate: str
    area_code: str
    start: datetime
    end: datetime | None = None  # None: open-ended until the driver stops it
    amount_cents: int = 0

    def __post_init__(self) -> None:
        if not self.provider or not self.provider_session_id:
            raise InvalidPermitError(
                "provider_session_id",
                f"{self.provider}/{self.provider_session_id}",
                "provider and provider session id are both required",
            )
        _require_plate("plate", self.plate)
        if not self.area_code:
            raise InvalidPermitError("area_code", self.area_code, "a session needs an area code")
        _require_window(self.start, self.end)
        if self.amount_cents < 0:
            raise InvalidPermitError("amount_cents", self.amount_cents, "must be 0 or more")

    @property
    def right_id(self) -> str:
        return f"paid:{self.provider}:{self.provider_session_id}"

    def stopped(self, at: datetime) -> PaidSession:
        """The session stopped at ``at`` (never before its start; an earlier end is kept)."""
        require_aware("at", at)
        end = max(at, self.start)
        if self.end is not None and self.end <= end:
            return self
        return replace(self, end=end)


@dataclass(frozen=True, slots=True)
class VisitorSession:
    """A session a visitor-permit holder started for a visitor's plate (bezoekersregeling)."""

    id: str
    permit_id: str
    plate: str
    area_codes: frozenset[str]
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if not self.id:
            raise InvalidPermitError("id", self.id, "a visitor session needs an id")
        _require_plate("plate", self.plate)
        if not self.area_codes:
            raise InvalidPermitError("area_codes", (), "a visitor session needs an area code")
        _require_window(self.start, self.end)

    @property
    def right_id(self) -> str:
        return f"visitor:{self.id}"


@dataclass(frozen=True, slots=True)
class Right:
    """One plate-bound right: the flattened view the decision works on.

    ``plate_key`` is opaque to the decision: the normalised plate in the backend, its keyed
    hash (``permits.feed.plate_key``) on the car. ``area_codes`` empty means the whole city.
    ``permit_type`` is set for permit, visitor and exemption rights, ``None`` for paid ones.
    """

    id: str
    kind: RightKind
    plate_key: str
    area_codes: frozenset[str]
    start: datetime
    end: datetime | None
    permit_type: PermitType | None = None
    source_id: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not self.id:
            raise InvalidPermitError("id", self.id, "a right needs an id")
        if not self.plate_key:
            raise InvalidPermitError("plate_key", self.plate_key, "a right needs a plate key")
        _require_window(self.start, self.end)
        if self.kind is RightKind.PAID and self.permit_type is not None:
            raise InvalidPermitError("permit_type", self.permit_type, "paid rights have none")
        if self.kind is not RightKind.PAID and self.permit_type is None:
            raise InvalidPermitError(
                "permit_type", None, f"a {self.kind.value} right needs its permit type"
            )

    @property
    def is_city_wide(self) -> bool:
        return not self.area_codes

    def covers_area(self, area_code: str) -> bool:
        return not self.area_codes or area_code in self.area_codes


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer to "may this plate park here now, and why?".

    ``right_id`` names the right that decided (also for ``lookalike_right``, so a reviewer can
    look at it); ``valid_until`` is that right's end when the plate is allowed (None: open-ended
    or not allowed).
    """

    allowed: bool
    reason: DecisionReason
    right_id: str | None = None
    valid_until: datetime | None = None


NO_RIGHT = Decision(allowed=False, reason=DecisionReason.NONE)


def rights_from_permit(permit: Permit) -> tuple[Right, ...]:
    """The plate rights an active permit gives: one per registered plate period.

    Each right runs from the later of plate-period start and permit start to the earlier of
    their ends. Permits that are not ``active`` and visitor permits (whose rights come from
    sessions) give none. Ids are ``permit:<permit id>:<period index>`` and stay stable when a
    plate is changed (the old period's right gets an end, the new period's right is added).
    """
    if permit.status is not PermitStatus.ACTIVE or permit.type is PermitType.VISITOR:
        return ()
    kind = RightKind.EXEMPTION if permit.type is PermitType.EXEMPTION else RightKind.PERMIT
    rights: list[Right] = []
    for index, period in enumerate(permit.plate_periods):
        start = max(period.start, permit.valid_from)
        ends = [e for e in (period.end, permit.valid_to) if e is not None]
        end = min(ends) if ends else None
        if end is not None and end < start:
            continue
        rights.append(
            Right(
                id=f"permit:{permit.id}:{index}",
                kind=kind,
                plate_key=period.plate,
                area_codes=permit.area_codes,
                start=start,
                end=end,
                permit_type=permit.type,
                source_id=permit.id,
            )
        )
    return tuple(rights)


def right_from_paid_session(session: PaidSession) -> Right:
    return Right(
        id=session.right_id,
        kind=RightKind.PAID,
        plate_key=session.plate,
        area_codes=frozenset({session.area_code}),
        start=session.start,
        end=session.end,
        source_id=session.provider_session_id,
    )


def right_from_visitor_session(session: VisitorSession) -> Right:
    return Right(
        id=session.right_id,
        kind=RightKind.VISITOR,
        plate_key=session.plate,
        area_codes=session.area_codes,
        start=session.start,
        end=session.end,
        permit_type=PermitType.VISITOR,
        source_id=session.permit_id,
    )


class ChangeOp(enum.StrEnum):
    UPSERT = "upsert"
    REMOVE = "remove"


@dataclass(frozen=True, slots=True)
class RightChange:
    """One entry of the rights change log: a right added or changed, or a right removed."""

    op: ChangeOp
    right_id: str
    right: Right | None = None

    def __post_init__(self) -> None:
        if (self.op is ChangeOp.UPSERT) != (self.right is not None):
            raise InvalidPermitError(
                "right", self.right, "an upsert carries the right, a removal carries none"
            )
        if self.right is not None and self.right.id != self.right_id:
            raise InvalidPermitError("right_id", self.right_id, "must equal right.id")


@dataclass(frozen=True, slots=True)
class ChangeBatch:
    """Changes after a cursor, in order, with the cursor to ask from next time."""

    changes: tuple[RightChange, ...]
    cursor: str
    has_more: bool


@dataclass(frozen=True, slots=True)
class RightsSnapshotData:
    """All rights valid at some time in ``[start, end]``, and the change-log cursor they match."""

    rights: tuple[Right, ...]
    cursor: str
    start: datetime
    end: datetime
