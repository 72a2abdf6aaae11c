"""Who may see the back-office, admin and control-room pages (page guards by role)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from api.auth.principal import Role
from api.ui.session import PageGuard, PageUser

BackOfficePage = Annotated[PageUser, Depends(PageGuard((Role.BACKOFFICE,)))]
ReaderPage = Annotated[PageUser, Depends(PageGuard((Role.BACKOFFICE, Role.ADMIN)))]
AdminPage = Annotated[PageUser, Depends(PageGuard((Role.ADMIN,)))]
# the cars: the back office and the administrator act on them, the control room looks
CarsPage = Annotated[PageUser, Depends(PageGuard((Role.BACKOFFICE, Role.ADMIN, Role.COORDINATOR)))]
CarsActPage = ReaderPage
ControlRoomPage = Annotated[PageUser, Depends(PageGuard((Role.COORDINATOR, Role.BACKOFFICE)))]
