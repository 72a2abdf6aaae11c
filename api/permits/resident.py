"""Permits as a resident or business sees them (the portal, /mijn/, and /api/v1/me/...).

Every function takes the calling resident's ``Principal`` and works only on permits that
account owns (``permits.owner_id``); another's permit is "not found", the same answer as a
permit that does not exist, so nothing leaks. The rules are the back office's: these
functions check ownership, fill in what the portal decides for the resident (the area from
the address, the validity, the visitor budget) and call ``api.permits.service``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from api.auth.principal import Principal, Role
from api.db import utcnow
from api.errors import Conflict, Forbidden, NotFound, Unprocessable
from api.permits import service
from api.permits.db import PermitApplicationRow, PermitRow, VisitorSessionRow
from api.residents.addresses import AddressArea, area_for_address, format_address
from api.residents.db import AddressRow, FavouritePlateRow
from api.settings import BackendSettings
from permits.dutch import entered_plate
from permits.lifecycle import PermitAction
from permits.model import Permit, PermitStatus, PermitType
from permits.plates import normalise_plate
from zones import ZoneIndex

# what a resident may apply for in the portal (GPK and exemptions go through the back office)
PORTAL_TYPES = (PermitType.RESIDENT, PermitType.BUSINESS, PermitType.CARE, PermitType.VISITOR)
OPEN_STATUSES = (
    PermitStatus.APPLIED,
    PermitStatus.IN_REVIEW,
    PermitStatus.WAITLISTED,
    PermitStatus.GRANTED,
    PermitStatus.ACTIVE,
    PermitStatus.SUSPENDED,
)
VALIDITY = timedelta(days=365)
MAX_PLATES = 2
MAX_FAVOURITES = 10


def _require_resident(owner: Principal) -> None:
    if owner.role is not Role.RESIDENT:
        raise Forbidden("only residents and businesses have their own permits")


def _owned_row(session: Session, owner: Principal, permit_id: str) -> PermitRow:
    _require_resident(owner)
    row = session.get(PermitRow, permit_id)
    if row is None or row.owner_id != owner.id:
        raise NotFound(f"no permit with id {permit_id!r}")
    return row


def own_permit(session: Session, owner: Principal, permit_id: str) -> Permit:
    """One of the resident's own permits (404 for anyone else's)."""
    _owned_row(session, owner, permit_id)
    return service.load_permit(session, permit_id)


@dataclass(frozen=True, slots=True)
class OwnPermit:
    permit: Permit
    application: PermitApplicationRow | None
    address: AddressRow | None
    waiting_position: int | None
    visitor_remaining_minutes: int | None


def describe(session: Session, permit: Permit) -> OwnPermit:
    row = service.get_permit_row(session, permit.id)
    app = service.application_of(session, permit.id)
    address = session.get(AddressRow, app.address_id) if app and app.address_id else None
    remaining = None
    if permit.type is PermitType.VISITOR:
        remaining = max(0, (row.visitor_budget_minutes or 0) - row.visitor_used_minutes)
    return OwnPermit(
        permit,
        app,
        address,
        service.waiting_position(session, app) if app else None,
        remaining,
    )


def own_permits(session: Session, owner: Principal) -> list[OwnPermit]:
    """The resident's permits and applications, newest first."""
    _require_resident(owner)
    ids = session.exec(
        select(PermitRow.id)
        .where(PermitRow.owner_id == owner.id)
        .order_by(col(PermitRow.created_at).desc(), col(PermitRow.id))
    ).all()
    return [describe(session, service.load_permit(session, pid)) for pid in ids]


# --------------------------------------------------------------------------- applying
@dataclass(frozen=True, slots=True)
class ResidentApplication:
    """What a resident fills in: the type, the address, the plates (none for a visitor
    permit) and, for a business, the company; for a care permit, whom they care for."""

    type: PermitType
    address_id: int
    plates: tuple[str, ...] = ()
    company_name: str = ""
    kvk_number: str = ""
    cared_for_name: str = ""


def area_of(index: ZoneIndex, address: AddressRow, permit_type: PermitType) -> AddressArea:
    return area_for_address(index, address.lon, address.lat, permit_type)


def apply(
    session: Session,
    owner: Principal,
    full_name: str,
    data: ResidentApplication,
    index: ZoneIndex,
    settings: BackendSettings,
) -> PermitApplicationRow:
    """File the resident's application; it waits for the permit desk (``in_review``).

    The area follows from the address through the zones (422 ``address_outside_permit_area``
    when no zone there takes this permit type); a second open application or permit of the
    same type for the same address is 409 ``already_applied``.
    """
    _require_resident(owner)
    if data.type not in PORTAL_TYPES:
        allowed = ", ".join(t.value for t in PORTAL_TYPES)
        raise Unprocessable(f"permit type {data.type.value!r}; allowed: {allowed}")
    address = session.get(AddressRow, data.address_id)
    if address is None:
        raise NotFound(f"no address with id {data.address_id}", code="unknown_address")
    area = area_of(index, address, data.type)
    if not area.area_codes:
        raise Unprocessable(
            f"{format_address(address)} lies in no parking area for {data.type.value} permits",
            code="address_outside_permit_area",
        )
    _refuse_second_application(session, owner, data)
    plates = _checked_plates(data)
    now = utcnow()
    budget = None
    if data.type is PermitType.VISITOR:
        budget = settings.visitor_budget_hours_per_year * 60
    applicant = {"name": full_name, "address": format_address(address), "account": owner.name}
    if data.type is PermitType.BUSINESS:
        applicant |= {"company_name": data.company_name, "kvk_number": data.kvk_number}
    if data.type is PermitType.CARE:
        applicant |= {"cared_for_name": data.cared_for_name}
    app = service.apply_for_permit(
        session,
        service.NewPermit(
            type=data.type,
            holder_ref=f"R-{owner.id}",
            plates=plates,
            area_codes=area.area_codes,
            valid_from=now,
            valid_to=now + VALIDITY,
            visitor_budget_minutes=budget,
        ),
        applicant,
        [],
        owner,
    )
    app.address_id = address.id
    session.add(app)
    row = service.get_permit_row(session, app.permit_id)
    row.owner_id = owner.id
    session.add(row)
    session.flush()
    return app


def _checked_plates(data: ResidentApplication) -> tuple[str, ...]:
    if data.type is PermitType.VISITOR:
        return ()
    plates = tuple(normalise_plate(p) for p in data.plates if p.strip())
    if not 1 <= len(plates) <= MAX_PLATES:
        raise Unprocessable(
            f"give 1 to {MAX_PLATES} plates for a {data.type.value} permit", code="plates_count"
        )
    if data.type is PermitType.BUSINESS and not (
        data.company_name.strip() and len(data.kvk_number) == 8 and data.kvk_number.isdigit()
    ):
        raise Unprocessable(
            "a business permit needs the company name and its 8-digit KvK number",
            code="business_details",
        )
    if data.type is PermitType.CARE and not data.cared_for_name.strip():
        raise Unprocessable(
            "a care permit needs the name of the person cared for", code="care_details"
        )
    return plates


def _refuse_second_application(
    session: Session, owner: Principal, data: ResidentApplication
) -> None:
    existing = session.exec(
        select(PermitRow.id)
        .join(PermitApplicationRow, col(PermitApplicationRow.permit_id) == PermitRow.id)
        .where(
            PermitRow.owner_id == owner.id,
            PermitRow.type == data.type.value,
            PermitApplicationRow.address_id == data.address_id,
            col(PermitRow.status).in_([s.value for s in OPEN_STATUSES]),
        )
    ).first()
    if existing is not None:
        raise Conflict(
            f"you already have a {data.type.value} permit or application for this address "
            f"({existing})",
            code="already_applied",
        )


# --------------------------------------------------------------------------- changes
def change_plate(
    session: Session, owner: Principal, permit_id: str, old_plate: str, new_plate: str
) -> Permit:
    """The holder moves an active permit to another plate, from now on."""
    _owned_row(session, owner, permit_id)
    return service.change_plate(
        session, permit_id, old_plate, new_plate, "plate changed by the holder", owner
    )


def end_permit(session: Session, owner: Principal, permit_id: str) -> Permit:
    """The holder ends a permit now (it expires; a quota place goes to the waiting list)."""
    _owned_row(session, owner, permit_id)
    return service.apply_action(
        session, permit_id, PermitAction.EXPIRE, "ended by the holder", owner
    )


# --------------------------------------------------------------------------- visitors
def start_visit(
    session: Session,
    owner: Principal,
    permit_id: str,
    plate: str,
    end: datetime,
    *,
    foreign: bool = False,
) -> VisitorSessionRow:
    """A visitor session from now until ``end`` on the resident's visitor permit; the rights
    check and the cars' change feed see it at once. The plate must be Dutch unless the
    resident says it is foreign or saved it as a favourite (checked when it was saved)."""
    _owned_row(session, owner, permit_id)
    saved = {f.plate for f in favourites(session, owner)}
    plate = entered_plate(plate, foreign=foreign or normalise_plate(plate) in saved)
    return service.start_visitor(
        session, permit_id, plate=plate, start=utcnow(), end=end, area_codes=None, actor=owner
    )


def stop_visit(
    session: Session, owner: Principal, permit_id: str, session_id: int
) -> VisitorSessionRow:
    _owned_row(session, owner, permit_id)
    return service.stop_visitor(session, permit_id, session_id, None, owner)


def recent_visits(
    session: Session, owner: Principal, permit_id: str, limit: int = 10
) -> list[VisitorSessionRow]:
    _owned_row(session, owner, permit_id)
    return list(
        session.exec(
            select(VisitorSessionRow)
            .where(VisitorSessionRow.permit_id == permit_id)
            .order_by(col(VisitorSessionRow.start).desc(), col(VisitorSessionRow.id).desc())
            .limit(limit)
        )
    )


def favourites(session: Session, owner: Principal) -> list[FavouritePlateRow]:
    _require_resident(owner)
    return list(
        session.exec(
            select(FavouritePlateRow)
            .where(FavouritePlateRow.user_id == owner.id)
            .order_by(col(FavouritePlateRow.label), col(FavouritePlateRow.plate))
        )
    )


def add_favourite(
    session: Session, owner: Principal, plate: str, label: str, *, foreign: bool = False
) -> FavouritePlateRow:
    """Save a visitor's plate (Dutch unless ``foreign``) under a label."""
    _require_resident(owner)
    plate = entered_plate(plate, foreign=foreign)
    existing = {f.plate: f for f in favourites(session, owner)}
    row = existing.get(plate)
    if row is None:
        if len(existing) >= MAX_FAVOURITES:
            raise Conflict(f"at most {MAX_FAVOURITES} favourite plates", code="too_many_favourites")
        row = FavouritePlateRow(user_id=owner.id, plate=plate)
    row.label = label.strip()[:40]
    session.add(row)
    session.flush()
    return row


def remove_favourite(session: Session, owner: Principal, favourite_id: int) -> None:
    _require_resident(owner)
    row = session.get(FavouritePlateRow, favourite_id)
    if row is None or row.user_id != owner.id:
        raise NotFound(f"no favourite plate with id {favourite_id}")
    session.delete(row)
    session.flush()


def applicant_of(app: PermitApplicationRow) -> dict[str, object]:
    data = json.loads(app.applicant_json)
    return data if isinstance(data, dict) else {}
