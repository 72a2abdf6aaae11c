"""``POST /api/v1/auth/token``: OAuth2 password login returning a short-lived JWT."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from api.audit.service import record
from api.auth.principal import Principal, Role
from api.auth.service import login_over_http, principal_for_user
from api.deps import PUBLIC, SessionDep, SettingsDep, allow, client_of

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105
    expires_in: int


class MeOut(BaseModel):
    kind: str
    id: int
    name: str
    role: str


@router.post("/token", response_model=TokenOut, dependencies=[PUBLIC])
async def token(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    settings: SettingsDep,
) -> TokenOut:
    result = await login_over_http(
        session, settings, username=form.username, password=form.password, client=client_of(request)
    )

    def audit() -> None:
        record(session, principal_for_user(result.user), "auth.login", "user", result.user.id)
        session.commit()

    await run_in_threadpool(audit)
    return TokenOut(access_token=result.token.token, expires_in=result.token.expires_in)


@router.get("/me", response_model=MeOut)
def me(principal: Annotated[Principal, allow(*Role)]) -> MeOut:
    """Who am I (any authenticated caller)."""
    return MeOut(kind=principal.kind, id=principal.id, name=principal.name, role=principal.role)
