"""Permits in bulk: the all-or-nothing CSV import (within the area quotas, applications for
rows still in the application process) and the export order that rebuilds waiting lists."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from api.audit.service import record
from api.db import utcnow
from api.errors import Conflict
from api.permits.db import PermitApplicationRow, PermitPlateRow, PermitRow
from api.permits.quota import fill_free_places, load_quotas
from api.permits.store import add_created_event, add_event, store_permit, to_domain
from api.rights.repository import lock_rights
from permits.csvio import CsvPermit
from permits.errors import CsvImportError, CsvRowError
from permits.lifecycle import PermitAction, transition
from permits.model import Permit, PermitStatus
from permits.quota import AreaLoad, LoadPlan, place_loaded_permits


@dataclass(frozen=True, slots=True)
class ImportReport:
    count: int
    areas_over_quota: tuple[AreaLoad, ...]  # only with allow_over_quota
    applications: int = 0  # rows in review or waitlisted: each now has an application
    waitlisted: int = 0  # of those, on a waiting list
    granted_from_waiting: tuple[str, ...] = ()  # waiting permits granted: places were free


IMPORTED_APPLICATION_STATES = (
    PermitStatus.APPLIED,
    PermitStatus.IN_REVIEW,
    PermitStatus.WAITLISTED,
)


def import_permits(
    session: Session,
    rows: Sequence[CsvPermit],
    actor_name_: str,
    *,
    allow_over_quota: bool = False,
) -> ImportReport:
    """Store permits read from CSV (all or nothing; ids must be new).

    Holders (granted, active, suspended) take a place in their quota area in file order
    (``permits.quota.place_loaded_permits``). A row beyond its area's capacity is a bad row
    (``CsvImportError``, nothing imported) unless ``allow_over_quota``: then it is imported
    and the areas over their quota are reported.

    Rows still in the application process get an application, so that the back office decides
    them like any other (``applied`` rows are taken into review, as a new application is).
    ``waitlisted`` rows join the end of their quota area's waiting list in file order (a row
    whose areas have no quota for its type is a bad row); where the load leaves places free,
    the first waiting applications are granted at once, as after any freed place.
    """
    lock_rights(session)
    permits = [r.permit for r in rows]
    ids = [p.id for p in permits]
    dupes = sorted({i for i in ids if ids.count(i) > 1}) if len(set(ids)) != len(ids) else []
    if dupes:
        raise Conflict(f"permit ids appear more than once in the file: {', '.join(dupes[:10])}")
    existing: list[str] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        existing += session.exec(select(PermitRow.id).where(col(PermitRow.id).in_(chunk))).all()
    if existing:
        raise Conflict(
            f"{len(existing)} permit id(s) already exist, nothing imported: "
            f"{', '.join(sorted(existing)[:10])}"
        )
    areas: set[str] = set()
    for permit in permits:
        areas |= permit.area_codes
    plan = place_loaded_permits(permits, load_quotas(session, areas))
    _refuse_bad_load(plan, rows, allow_over_quota=allow_over_quota)
    at = utcnow()
    last_order = int(session.exec(select(func.max(PermitApplicationRow.waiting_order))).one() or 0)
    applications = 0
    for permit in permits:
        store_permit(session, permit, quota_area_code=plan.places.get(permit.id, ""))
        add_created_event(session, permit, "imported from CSV", actor_name_)
        if permit.status in IMPORTED_APPLICATION_STATES:
            waiting_in = plan.waiting.get(permit.id)
            if waiting_in is not None:
                last_order += 1
            _import_application(session, permit, waiting_in, last_order, at, actor_name_)
            applications += 1
    session.flush()
    granted: list[str] = []
    for code in sorted(set(plan.waiting.values())):
        granted += fill_free_places(
            session, code, at, actor_name_, why=f"place free in area {code} at a CSV import"
        )
    over = plan.areas_over_quota
    detail = f"{len(permits)} permits by {actor_name_}"
    if applications:
        detail += f"; {applications} applications ({len(plan.waiting)} waiting)"
    if over:
        detail += "; over quota: " + ", ".join(
            f"{a.area_code} {a.held_after}/{a.capacity}" for a in over
        )
    record(session, None, "permit.imported", "permit", "csv", detail[:500])
    return ImportReport(len(permits), over, applications, len(plan.waiting), tuple(granted))


def _refuse_bad_load(plan: LoadPlan, rows: Sequence[CsvPermit], *, allow_over_quota: bool) -> None:
    """``CsvImportError`` for waitlisted rows with no waiting list to join, and for rows over
    a quota unless ``allow_over_quota``."""
    line_of = {r.permit.id: r.line for r in rows}
    if plan.nothing_to_wait_for:
        by_id = {r.permit.id: r.permit for r in rows}
        raise CsvImportError(
            [
                CsvRowError(
                    line_of[pid],
                    "status",
                    f"waitlisted, but none of its areas "
                    f"({', '.join(sorted(by_id[pid].area_codes)) or 'city-wide'}) has a quota "
                    f"for {by_id[pid].type.value} permits: there is no waiting list to join",
                )
                for pid in plan.nothing_to_wait_for
            ]
        )
    if plan.over_quota and not allow_over_quota:
        raise CsvImportError(
            [
                CsvRowError(
                    line_of[o.permit_id],
                    "area_codes",
                    f"area {o.area_code!r} is over its quota: {o.capacity} places, "
                    f"{o.held_before + o.loaded_before} taken ({o.held_before} in the "
                    f"database, {o.loaded_before} by earlier rows of this file)",
                )
                for o in plan.over_quota
            ]
        )


def _import_application(
    session: Session,
    permit: Permit,
    waiting_in: str | None,
    waiting_order: int,
    at: datetime,
    actor: str,
) -> None:
    """The application of an imported permit still in the application process (an
    ``applied`` one is taken into review); a waitlisted one joins ``waiting_in``'s list."""
    if permit.status is PermitStatus.APPLIED:
        review = transition(
            permit, PermitAction.START_REVIEW, "imported application received", at, actor
        )
        add_event(session, review.record)
        store_permit(session, review.permit)
    app = PermitApplicationRow(
        permit_id=permit.id,
        applicant_json=json.dumps({"holder_ref": permit.holder_ref, "source": "csv import"}),
        documents_json="[]",
        created_by=actor[:80],
        created_at=at,
    )
    if waiting_in is not None:
        app.waiting_area_code = waiting_in
        app.waiting_order = waiting_order
        app.waiting_since = at
    session.add(app)


def iter_permits(session: Session, batch: int = 1000) -> Iterator[Permit]:
    """Every permit, for an export: by id, but the waitlisted ones last, in their waiting-list
    order, so that importing the file again rebuilds the same waiting lists."""
    last = ""
    waitlisted = PermitStatus.WAITLISTED.value
    while True:
        rows = session.exec(
            select(PermitRow)
            .where(PermitRow.id > last, PermitRow.status != waitlisted)
            .order_by(col(PermitRow.id))
            .limit(batch)
        ).all()
        if not rows:
            break
        yield from _with_plates(session, rows)
        last = rows[-1].id
    order = 0
    while True:
        waiting = session.exec(
            select(PermitRow, PermitApplicationRow.waiting_order)
            .join(PermitApplicationRow, col(PermitApplicationRow.permit_id) == PermitRow.id)
            .where(PermitRow.status == waitlisted, col(PermitApplicationRow.waiting_order) > order)
            .order_by(col(PermitApplicationRow.waiting_order))
            .limit(batch)
        ).all()
        if not waiting:
            break
        yield from _with_plates(session, [row for row, _ in waiting])
        order = int(waiting[-1][1] or 0)
    # waitlisted permits without a waiting position (none are made so; kept, not lost)
    yield from _with_plates(
        session,
        session.exec(
            select(PermitRow)
            .outerjoin(PermitApplicationRow, col(PermitApplicationRow.permit_id) == PermitRow.id)
            .where(
                PermitRow.status == waitlisted, col(PermitApplicationRow.waiting_order).is_(None)
            )
            .order_by(col(PermitRow.id))
        ).all(),
    )


def _with_plates(session: Session, rows: Sequence[PermitRow]) -> Iterator[Permit]:
    ids = [r.id for r in rows]
    plates: dict[str, list[PermitPlateRow]] = {i: [] for i in ids}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for p in session.exec(
            select(PermitPlateRow).where(col(PermitPlateRow.permit_id).in_(chunk))
        ):
            plates[p.permit_id].append(p)
    for r in rows:
        yield to_domain(r, plates[r.id])
