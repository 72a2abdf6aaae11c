"""What the permit desk (vergunningenbalie) reads: the inbox of applications with filters and
counts, an application with the rules that apply to it, the waiting lists per area, and the
permit search. Read-only queries; the decisions go through ``api.permits.service``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import Select

from api.permits import service
from api.permits.db import AreaQuotaRow, PermitApplicationRow, PermitPlateRow, PermitRow
from api.permits.quota import quota_row_for
from api.residents.addresses import format_address
from api.residents.db import AddressRow
from api.rights.repository import split_areas
from permits.model import Permit, PermitStatus, PermitType
from permits.plates import normalise_plate
from permits.quota import AreaQuota

# the inbox's queries: rows of two tables, or a status and a count
SelectT = TypeVar("SelectT", bound=Select)  # type: ignore[type-arg]

LOCAL = ZoneInfo("Europe/Amsterdam")
PAGE_SIZE = 50

# the inbox's tabs: which permit statuses each shows
INBOX_GROUPS: dict[str, tuple[PermitStatus, ...]] = {
    "open": (PermitStatus.APPLIED, PermitStatus.IN_REVIEW),
    "waitlisted": (PermitStatus.WAITLISTED,),
    "granted": (
        PermitStatus.GRANTED,
        PermitStatus.ACTIVE,
        PermitStatus.SUSPENDED,
        PermitStatus.EXPIRED,
        PermitStatus.REVOKED,
    ),
    "refused": (PermitStatus.REFUSED,),
}


@dataclass(frozen=True, slots=True)
class InboxFilter:
    group: str = "open"
    area_code: str | None = None
    permit_type: PermitType | None = None
    received_from: date | None = None  # local dates, both inclusive
    received_to: date | None = None
    offset: int = 0


@dataclass(frozen=True, slots=True)
class InboxRow:
    application_id: int
    permit_id: str
    type: PermitType
    status: PermitStatus
    applicant_name: str
    address: str | None
    area_codes: tuple[str, ...]
    received_at: datetime
    waiting_position: int | None


@dataclass(frozen=True, slots=True)
class Inbox:
    rows: list[InboxRow]
    total: int  # rows of the chosen group under the filters
    counts: dict[str, int]  # per group, under the same filters but the group
    areas: list[str]  # area codes to filter by


def _local_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=LOCAL)


def _filtered(stmt: SelectT, f: InboxFilter) -> SelectT:
    if f.area_code:
        stmt = stmt.where(_has_area(f.area_code))
    if f.permit_type is not None:
        stmt = stmt.where(col(PermitRow.type) == f.permit_type.value)
    if f.received_from is not None:
        stmt = stmt.where(col(PermitApplicationRow.created_at) >= _local_start(f.received_from))
    if f.received_to is not None:
        end = _local_start(f.received_to + timedelta(days=1))
        stmt = stmt.where(col(PermitApplicationRow.created_at) < end)
    return stmt


def _has_area(code: str) -> Any:
    """``permits.area_codes`` (';'-joined) contains ``code`` as a whole item."""
    joined = ";" + col(PermitRow.area_codes) + ";"
    return joined.contains(f";{code};")


def applicant_of(app: PermitApplicationRow) -> dict[str, Any]:
    try:
        data = json.loads(app.applicant_json)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def applicant_name(app: PermitApplicationRow, holder_ref: str) -> str:
    data = applicant_of(app)
    name = data.get("company_name") or data.get("name") or ""
    return str(name) or holder_ref


def inbox(session: Session, f: InboxFilter) -> Inbox:
    base = select(PermitApplicationRow, PermitRow).join(
        PermitRow, col(PermitRow.id) == PermitApplicationRow.permit_id
    )
    counts_stmt = _filtered(
        select(PermitRow.status, func.count())
        .select_from(PermitApplicationRow)
        .join(PermitRow, col(PermitRow.id) == PermitApplicationRow.permit_id),
        f,
    ).group_by(PermitRow.status)
    by_status = {str(s): int(n) for s, n in session.exec(counts_stmt).all()}
    counts = {
        group: sum(by_status.get(s.value, 0) for s in statuses)
        for group, statuses in INBOX_GROUPS.items()
    }
    statuses = [s.value for s in INBOX_GROUPS.get(f.group, INBOX_GROUPS["open"])]
    stmt = _filtered(base, f).where(col(PermitRow.status).in_(statuses))
    order = (
        (col(PermitApplicationRow.waiting_order),)
        if f.group == "waitlisted"
        else (col(PermitApplicationRow.created_at), col(PermitApplicationRow.id))
    )
    found = session.exec(stmt.order_by(*order).offset(f.offset).limit(PAGE_SIZE)).all()
    addresses = _addresses(session, [a.address_id for a, _ in found if a.address_id])
    rows = [
        InboxRow(
            application_id=app.id or 0,
            permit_id=permit.id,
            type=PermitType(permit.type),
            status=PermitStatus(permit.status),
            applicant_name=applicant_name(app, permit.holder_ref),
            address=format_address(addresses[app.address_id])
            if app.address_id in addresses
            else applicant_of(app).get("address"),
            area_codes=tuple(sorted(split_areas(permit.area_codes))),
            received_at=app.created_at,
            waiting_position=service.waiting_position(session, app),
        )
        for app, permit in found
    ]
    return Inbox(rows, counts.get(f.group, 0), counts, known_areas(session))


def known_areas(session: Session) -> list[str]:
    """Area codes of the current permits and quotas (for the filters)."""
    codes: set[str] = set(session.exec(select(AreaQuotaRow.area_code)).all())
    for joined in session.exec(select(PermitRow.area_codes).distinct()).all():
        codes |= split_areas(joined)
    return sorted(codes)


def _addresses(session: Session, ids: Sequence[int | None]) -> dict[int | None, AddressRow]:
    wanted = sorted({i for i in ids if i})
    if not wanted:
        return {}
    rows = session.exec(select(AddressRow).where(col(AddressRow.id).in_(wanted))).all()
    return {r.id: r for r in rows}


# --------------------------------------------------------------------------- one application
@dataclass(frozen=True, slots=True)
class QuotaState:
    area_code: str
    capacity: int
    holders: int
    free_places: int
    waiting: int

    @classmethod
    def of(cls, quota: AreaQuota) -> QuotaState:
        return cls(
            quota.area_code,
            quota.capacity,
            len(quota.holders),
            quota.free_places,
            len(quota.waiting),
        )

    @property
    def is_open(self) -> bool:
        return self.free_places > 0 and self.waiting == 0


@dataclass(frozen=True, slots=True)
class RelatedPermit:
    permit_id: str
    type: PermitType
    status: PermitStatus
    holder: str
    why: str  # "address" | "plate"


@dataclass(frozen=True, slots=True)
class ApplicationView:
    """An application with what the clerk needs to decide it."""

    application: PermitApplicationRow
    permit: Permit
    applicant: dict[str, Any]
    address: AddressRow | None
    quota: QuotaState | None  # the quota the permit would count against
    waiting_position: int | None
    related: list[RelatedPermit]
    events: list[Any]

    @property
    def grant_waitlists(self) -> bool:
        """Granting now puts the application on the waiting list (the area is full)."""
        return (
            self.permit.status in (PermitStatus.APPLIED, PermitStatus.IN_REVIEW)
            and self.quota is not None
            and not self.quota.is_open
        )

    @property
    def is_open(self) -> bool:
        return self.permit.status in (
            PermitStatus.APPLIED,
            PermitStatus.IN_REVIEW,
            PermitStatus.WAITLISTED,
        )


def application_view(session: Session, application_id: int) -> ApplicationView:
    app = service.get_application(session, application_id)
    permit = service.load_permit(session, app.permit_id)
    qrow = quota_row_for(session, permit)
    quota = QuotaState.of(service.load_quota(session, qrow)) if qrow is not None else None
    address = session.get(AddressRow, app.address_id) if app.address_id else None
    return ApplicationView(
        application=app,
        permit=permit,
        applicant=applicant_of(app),
        address=address,
        quota=quota,
        waiting_position=service.waiting_position(session, app),
        related=related_permits(session, permit, app.address_id),
        events=service.events(session, permit.id),
    )


def related_permits(
    session: Session, permit: Permit, address_id: int | None
) -> list[RelatedPermit]:
    """Other live permits and applications at the same address or for the same plates."""
    live = [s.value for s in PermitStatus if s not in (PermitStatus.REFUSED,)]
    found: dict[str, RelatedPermit] = {}
    if address_id is not None:
        rows = session.exec(
            select(PermitRow)
            .join(PermitApplicationRow, col(PermitApplicationRow.permit_id) == PermitRow.id)
            .where(
                PermitApplicationRow.address_id == address_id,
                PermitRow.id != permit.id,
                col(PermitRow.status).in_(live),
            )
        ).all()
        for r in rows:
            found[r.id] = RelatedPermit(
                r.id, PermitType(r.type), PermitStatus(r.status), r.holder_ref, "address"
            )
    plates = sorted(permit.open_plates)
    if plates:
        rows = session.exec(
            select(PermitRow)
            .join(PermitPlateRow, col(PermitPlateRow.permit_id) == PermitRow.id)
            .where(
                col(PermitPlateRow.plate).in_(plates),
                col(PermitPlateRow.end).is_(None),
                PermitRow.id != permit.id,
                col(PermitRow.status).in_(live),
            )
        ).all()
        for r in rows:
            found.setdefault(
                r.id,
                RelatedPermit(
                    r.id, PermitType(r.type), PermitStatus(r.status), r.holder_ref, "plate"
                ),
            )
    return sorted(found.values(), key=lambda r: r.permit_id)


# --------------------------------------------------------------------------- waiting lists
@dataclass(frozen=True, slots=True)
class WaitingEntryView:
    position: int
    application_id: int
    permit_id: str
    applicant_name: str
    since: datetime


@dataclass(frozen=True, slots=True)
class AreaWaitingList:
    quota: QuotaState
    permit_types: tuple[str, ...]
    entries: list[WaitingEntryView]


def waiting_lists(session: Session) -> list[AreaWaitingList]:
    """Every area with a quota: its places and its waiting list in order."""
    result = []
    for qrow in session.exec(select(AreaQuotaRow).order_by(col(AreaQuotaRow.area_code))).all():
        quota = service.load_quota(session, qrow)
        entries = []
        for position, entry in enumerate(quota.waiting, start=1):
            app = service.application_of(session, entry.permit_id)
            holder = service.get_permit_row(session, entry.permit_id).holder_ref
            entries.append(
                WaitingEntryView(
                    position,
                    app.id or 0 if app else 0,
                    entry.permit_id,
                    applicant_name(app, holder) if app else holder,
                    entry.since,
                )
            )
        types = tuple(sorted(split_areas(qrow.permit_types)))
        result.append(AreaWaitingList(QuotaState.of(quota), types, entries))
    return result


# --------------------------------------------------------------------------- permit search
@dataclass(frozen=True, slots=True)
class PermitSearch:
    text: str = ""  # a permit number, a plate, a holder reference or an applicant's name
    area_code: str | None = None
    status: PermitStatus | None = None
    offset: int = 0


def search_permits(session: Session, q: PermitSearch) -> tuple[list[Permit], int]:
    stmt = select(PermitRow)
    text = q.text.strip()
    if text:
        needle = f"%{text.lower()}%"
        conditions = [
            func.lower(PermitRow.id) == text.lower(),
            func.lower(PermitRow.holder_ref).like(needle),
            col(PermitRow.id).in_(
                select(PermitApplicationRow.permit_id).where(
                    func.lower(PermitApplicationRow.applicant_json).like(needle)
                )
            ),
        ]
        try:
            plate = normalise_plate(text)
        except ValueError:
            plate = None
        if plate:
            conditions.append(
                col(PermitRow.id).in_(
                    select(PermitPlateRow.permit_id).where(PermitPlateRow.plate == plate)
                )
            )
        stmt = stmt.where(or_(*conditions))
    if q.area_code:
        stmt = stmt.where(_has_area(q.area_code))
    if q.status is not None:
        stmt = stmt.where(PermitRow.status == q.status.value)
    total = int(session.exec(select(func.count()).select_from(stmt.subquery())).one())
    rows = session.exec(
        stmt.order_by(col(PermitRow.created_at).desc(), col(PermitRow.id))
        .offset(q.offset)
        .limit(PAGE_SIZE)
    ).all()
    return [service.load_permit(session, r.id) for r in rows], total
