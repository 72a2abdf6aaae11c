"""How the pages answer a missing login, a wrong role or a failed CSRF check."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from api.ui.routes import NO_STORE, login_redirect, templates
from api.ui.session import CsrfFailed, LoginRequired, PageForbidden


def register_page_handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def _login(_: Request, exc: LoginRequired) -> Response:
        return login_redirect(exc.next_url)

    @app.exception_handler(PageForbidden)
    async def _forbidden(request: Request, exc: PageForbidden) -> HTMLResponse:
        msg = f"Uw rol ({exc.role.value}) heeft geen toegang tot deze pagina."
        return templates.TemplateResponse(
            request, "error.html", {"message": msg}, status_code=403, headers=NO_STORE
        )

    @app.exception_handler(CsrfFailed)
    async def _csrf(request: Request, _: CsrfFailed) -> HTMLResponse:
        msg = "Het formulier is verlopen of komt niet van deze site. Laad de pagina opnieuw."
        return templates.TemplateResponse(
            request, "error.html", {"message": msg}, status_code=403, headers=NO_STORE
        )
