"""Wiring of all pages into the app: static files, the shared routes, every audience's
router, and the HTML error pages. ``create_app`` calls ``install_pages`` once, after the API's
error handlers are registered."""

from __future__ import annotations

from importlib import import_module

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.gzip import GZipMiddleware

from api.ui import routes
from api.ui.handlers import register_page_handlers
from api.ui.templating import AUDIENCES, UI


def install_pages(app: FastAPI) -> None:
    register_page_handlers(app)
    # the vendored CSS is large and compresses ~10x; only static files are compressed
    static = GZipMiddleware(StaticFiles(directory=str(UI / "static")), minimum_size=1024)
    app.mount("/static", static, name="static")
    app.include_router(routes.router)
    app.include_router(routes.favicon_router)
    for name in AUDIENCES:
        app.include_router(import_module(f"api.ui.{name}.routes").router)
