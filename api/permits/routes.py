"""Permits, applications with the waiting list, quotas, provider sessions and visitor sessions.

Routes validate, call ``api.permits.service`` and commit; the rules live in ``permits``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlmodel import Session

from api.auth.principal import Principal, Role
from api.deps import RowId, SessionDep, allow
from api.limits import OFFSET_MAX, AreaCodePath, PermitIdPath
from api.permits import service
from api.permits.db import PaidSessionRow, PermitApplicationRow, PermitRow, VisitorSessionRow
from api.permits.schemas import (
    ActionIn,
    ApplicationCreate,
    ApplicationOut,
    ChangePlateIn,
    DecisionIn,
    DocumentRef,
    PaidSessionIn,
    PaidSessionOut,
    PermitCreate,
    PermitDetailOut,
    PermitEventOut,
    PermitOut,
    PermitsPage,
    PermitUpdate,
    PlatePeriodOut,
    QuotaIn,
    QuotaOut,
    StopIn,
    VisitorSessionIn,
    VisitorSessionOut,
    WaitingOut,
)
from api.rights.repository import split_areas
from permits.lifecycle import PermitAction, allowed_actions
from permits.model import Permit, PermitStatus, PermitType

router = APIRouter(prefix="/api/v1", tags=["permits"])
BACKOFFICE = (Role.BACKOFFICE,)
Backoffice = Annotated[Principal, allow(*BACKOFFICE)]
Provider = Annotated[Principal, allow(Role.PROVIDER)]


# --------------------------------------------------------------------------- output helpers
def permit_out(session: Session, permit: Permit) -> PermitOut:
    row = session.get(PermitRow, permit.id)
    return PermitOut(
        id=permit.id,
        type=permit.type,
        status=permit.status,
        holder=permit.holder_ref,
        plates=sorted(permit.open_plates),
        plate_periods=[
            PlatePeriodOut(plate=p.plate, start=p.start, end=p.end) for p in permit.plate_periods
        ],
        area_codes=sorted(permit.area_codes),
        valid_from=permit.valid_from,
        valid_to=permit.valid_to,
        visitor_budget_minutes=permit.visitor_budget_minutes,
        visitor_used_minutes=row.visitor_used_minutes
        if row is not None and permit.type is PermitType.VISITOR
        else None,
        allowed_actions=[a.value for a in allowed_actions(permit.status)],
    )


def permit_detail(session: Session, permit: Permit) -> PermitDetailOut:
    app = service.application_of(session, permit.id)
    return PermitDetailOut(
        **permit_out(session, permit).model_dump(),
        events=[
            PermitEventOut.model_validate(e, from_attributes=True)
            for e in service.events(session, permit.id)
        ],
        application_id=app.id if app else None,
    )


def application_out(session: Session, app: PermitApplicationRow) -> ApplicationOut:
    permit_row = service.get_permit_row(session, app.permit_id)
    return ApplicationOut(
        id=app.id or 0,
        permit_id=app.permit_id,
        status=PermitStatus(permit_row.status),
        applicant=json.loads(app.applicant_json),
        documents=[DocumentRef(**d) for d in json.loads(app.documents_json)],
        waiting_list_area_code=app.waiting_area_code,
        waiting_list_position=service.waiting_position(session, app),
        decision=app.decision,
        decision_reason=app.decision_reason,
        decided_by=app.decided_by,
        decided_at=app.decided_at,
        created_at=app.created_at,
    )


def paid_out(row: PaidSessionRow) -> PaidSessionOut:
    return PaidSessionOut(
        id=row.id or 0,
        provider_session_id=row.provider_session_id,
        plate=row.plate,
        area_code=row.area_code,
        start=row.start,
        end=row.end,
        amount_cents=row.amount_cents,
        stopped_at=row.stopped_at,
        right_id=service.paid_domain(row).right_id,
    )


def visitor_out(session: Session, row: VisitorSessionRow) -> VisitorSessionOut:
    prow = service.get_permit_row(session, row.permit_id)
    return VisitorSessionOut(
        id=row.id or 0,
        permit_id=row.permit_id,
        plate=row.plate,
        area_codes=sorted(split_areas(row.area_codes)),
        start=row.start,
        end=row.end,
        charged_minutes=row.charged_minutes,
        remaining_minutes=max(0, (prow.visitor_budget_minutes or 0) - prow.visitor_used_minutes),
        right_id=f"visitor:{row.id}",
    )


def _new_permit(body: PermitCreate) -> service.NewPermit:
    return service.NewPermit(
        type=body.type,
        holder_ref=body.holder,
        plates=tuple(body.plates),
        area_codes=frozenset(body.area_codes),
        valid_from=body.valid_from,
        valid_to=body.valid_to,
        visitor_budget_minutes=body.visitor_budget_minutes,
    )


# --------------------------------------------------------------------------- permits
@router.post("/permits", response_model=PermitOut, status_code=201)
def create_permit(session: SessionDep, actor: Backoffice, body: PermitCreate) -> PermitOut:
    """Grant a permit directly (status ``active``); 409 when the area's quota is full."""
    permit = service.create_permit(session, _new_permit(body), actor)
    session.commit()
    return permit_out(session, permit)


@router.get("/permits", response_model=PermitsPage)
def list_permits(
    session: SessionDep,
    _: Backoffice,
    holder: Annotated[str | None, Query(max_length=128)] = None,
    plate: Annotated[str | None, Query(max_length=20)] = None,
    status: PermitStatus | None = None,
    type: PermitType | None = None,
    offset: Annotated[int, Query(ge=0, le=OFFSET_MAX)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> PermitsPage:
    permits, count = service.list_permits(
        session,
        holder_ref=holder,
        plate=plate,
        status=status,
        permit_type=type,
        offset=offset,
        limit=limit,
    )
    return PermitsPage(data=[permit_out(session, p) for p in permits], count=count)


@router.get("/permits/{permit_id}", response_model=PermitDetailOut)
def get_permit(session: SessionDep, _: Backoffice, permit_id: PermitIdPath) -> PermitDetailOut:
    """A permit with its plate history, event history and the actions allowed now."""
    return permit_detail(session, service.load_permit(session, permit_id))


@router.patch("/permits/{permit_id}", response_model=PermitDetailOut)
def update_permit(
    session: SessionDep, actor: Backoffice, permit_id: PermitIdPath, body: PermitUpdate
) -> PermitDetailOut:
    """Change the holder, areas, validity or visitor budget, with a reason. Adding an area
    whose quota is full is 409 ``area_quota_full``; giving up the area of the permit's quota
    place grants it to the first waiting application."""
    changes = service.PermitChanges(
        holder_ref=body.holder,
        area_codes=frozenset(body.area_codes) if body.area_codes is not None else None,
        valid_from=body.valid_from,
        valid_to=body.valid_to,
        clear_valid_to=body.clear_valid_to,
        visitor_budget_minutes=body.visitor_budget_minutes,
    )
    permit = service.update_permit(session, permit_id, changes, body.reason, actor)
    session.commit()
    return permit_detail(session, permit)


def _action_route(action: PermitAction) -> Callable[..., PermitDetailOut]:
    def act(
        session: SessionDep, actor: Backoffice, permit_id: PermitIdPath, body: ActionIn
    ) -> PermitDetailOut:
        permit = service.apply_action(session, permit_id, action, body.reason, actor)
        session.commit()
        return permit_detail(session, permit)

    act.__name__ = f"{action.value}_permit"
    act.__doc__ = f"{action.value.capitalize()} a permit (409 when not allowed from its status)."
    return act


for _action in service.LIFECYCLE_ACTIONS:
    router.add_api_route(
        f"/permits/{{permit_id}}/{_action.value}",
        _action_route(_action),
        methods=["POST"],
        response_model=PermitDetailOut,
    )


@router.post("/permits/{permit_id}/change-plate", response_model=PermitDetailOut)
def change_plate(
    session: SessionDep, actor: Backoffice, permit_id: PermitIdPath, body: ChangePlateIn
) -> PermitDetailOut:
    """Move an active permit to another plate: the old plate's right ends at ``at``."""
    permit = service.change_plate(
        session, permit_id, body.old_plate, body.new_plate, body.reason, actor, body.at
    )
    session.commit()
    return permit_detail(session, permit)


# --------------------------------------------------------------------------- visitor sessions
@router.post(
    "/permits/{permit_id}/visitor-sessions", response_model=VisitorSessionOut, status_code=201
)
def start_visitor_session(
    session: SessionDep, actor: Backoffice, permit_id: PermitIdPath, body: VisitorSessionIn
) -> VisitorSessionOut:
    """Start a session for a visitor's plate on a visitor permit (409 when over budget)."""
    row = service.start_visitor(
        session,
        permit_id,
        plate=body.plate,
        start=body.start,
        end=body.end,
        area_codes=frozenset(body.area_codes) if body.area_codes is not None else None,
        actor=actor,
    )
    session.commit()
    return visitor_out(session, row)


@router.get("/permits/{permit_id}/visitor-sessions", response_model=list[VisitorSessionOut])
def list_visitor_sessions(
    session: SessionDep, _: Backoffice, permit_id: PermitIdPath
) -> list[VisitorSessionOut]:
    service.get_permit_row(session, permit_id)
    return [visitor_out(session, r) for r in service.visitor_sessions(session, permit_id)]


@router.post(
    "/permits/{permit_id}/visitor-sessions/{session_id}/stop", response_model=VisitorSessionOut
)
def stop_visitor_session(
    session: SessionDep, actor: Backoffice, permit_id: PermitIdPath, session_id: RowId, body: StopIn
) -> VisitorSessionOut:
    """End a visitor session early; the unused minutes go back to the budget."""
    row = service.stop_visitor(session, permit_id, session_id, body.at, actor)
    session.commit()
    return visitor_out(session, row)


# --------------------------------------------------------------------------- applications
@router.post("/permit-applications", response_model=ApplicationOut, status_code=201)
def create_application(
    session: SessionDep, actor: Backoffice, body: ApplicationCreate
) -> ApplicationOut:
    """File an application on behalf of an applicant; it waits for a decision (``in_review``)."""
    app = service.apply_for_permit(
        session,
        _new_permit(body),
        body.applicant,
        [d.model_dump() for d in body.documents],
        actor,
    )
    session.commit()
    return application_out(session, app)


@router.get("/permit-applications/{application_id}", response_model=ApplicationOut)
def get_application(session: SessionDep, _: Backoffice, application_id: RowId) -> ApplicationOut:
    """An application with its status and, while waitlisted, its waiting-list position."""
    return application_out(session, service.get_application(session, application_id))


@router.post("/permit-applications/{application_id}/decide", response_model=ApplicationOut)
def decide_application(
    session: SessionDep, actor: Backoffice, application_id: RowId, body: DecisionIn
) -> ApplicationOut:
    """``grant``: granted and active when the area has room, else on the waiting list (FIFO);
    ``refuse``: refused with the reason."""
    app = service.decide_application(session, application_id, body.decision, body.reason, actor)
    session.commit()
    return application_out(session, app)


# --------------------------------------------------------------------------- quotas
def quota_out(session: Session, area_code: str) -> QuotaOut:
    from api.errors import NotFound
    from api.permits.db import AreaQuotaRow

    row = session.get(AreaQuotaRow, area_code)
    if row is None:
        raise NotFound(f"area {area_code!r} has no permit quota")
    quota = service.load_quota(session, row)
    return QuotaOut(
        area_code=area_code,
        capacity=quota.capacity,
        permit_types=sorted(quota.permit_types),
        holders=len(quota.holders),
        free_places=quota.free_places,
        waiting=[
            WaitingOut(position=i, permit_id=e.permit_id, since=e.since)
            for i, e in enumerate(quota.waiting, start=1)
        ],
    )


@router.put("/permit-quotas/{area_code}", response_model=QuotaOut)
def put_quota(
    session: SessionDep, actor: Backoffice, area_code: AreaCodePath, body: QuotaIn
) -> QuotaOut:
    """Set an area's permit quota; raising it grants waiting applications in FIFO order."""
    service.set_quota(session, area_code, body.capacity, body.permit_types, actor)
    session.commit()
    return quota_out(session, area_code)


@router.get("/permit-quotas/{area_code}", response_model=QuotaOut)
def get_quota(session: SessionDep, _: Backoffice, area_code: AreaCodePath) -> QuotaOut:
    return quota_out(session, area_code)


# --------------------------------------------------------------------------- provider sessions
@router.post(
    "/parking-sessions",
    response_model=PaidSessionOut,
    status_code=201,
    responses={200: {"model": PaidSessionOut, "description": "a repeat (same id)"}},
)
def report_parking_session(
    session: SessionDep, provider: Provider, body: PaidSessionIn, response: Response
) -> PaidSessionOut:
    """A provider reports a paid session: 201 the first time, 200 (same id) for the same
    ``provider_session_id`` again (its fields are updated to the latest report)."""
    row, created = service.report_paid_session(
        session,
        provider,
        service.NewPaidSession(
            provider_session_id=body.provider_session_id,
            plate=body.plate,
            area_code=body.area_code,
            start=body.start,
            end=body.end,
            amount_cents=body.amount_cents,
        ),
    )
    session.commit()
    if not created:
        response.status_code = 200
    return paid_out(row)


@router.get("/parking-sessions/{session_id}", response_model=PaidSessionOut)
def get_parking_session(
    session: SessionDep, provider: Provider, session_id: RowId
) -> PaidSessionOut:
    """One of the calling provider's own sessions (404 for another provider's)."""
    return paid_out(service.get_own_paid_session(session, provider, session_id))


@router.post("/parking-sessions/{session_id}/stop", response_model=PaidSessionOut)
def stop_parking_session(
    session: SessionDep, provider: Provider, session_id: RowId, body: StopIn | None = None
) -> PaidSessionOut:
    """Stop one of the calling provider's sessions at ``at`` (default now)."""
    row = service.stop_paid_session(session, provider, session_id, body.at if body else None)
    session.commit()
    return paid_out(row)
