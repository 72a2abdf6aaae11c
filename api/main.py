"""The backend's web app: ``create_app(backend)`` puts the routes, pages and middleware over a
``Backend`` (``api.backend``), or builds one from settings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from sqlalchemy.engine import Engine

from api import health
from api.audit import routes as audit_routes
from api.auth import routes as auth_routes
from api.backend import Backend, build_backend
from api.controlroom import routes as controlroom_routes
from api.devices import routes as device_routes
from api.errors import register_error_handlers
from api.fines import routes as fine_routes
from api.hits import routes as hit_routes
from api.metrics import MetricsMiddleware
from api.middleware import install_middleware
from api.observations import routes as observation_routes
from api.openapi import install_docs_pages, install_openapi
from api.permits import resident_routes
from api.permits import routes as permit_routes
from api.reports import routes as report_routes
from api.review import routes as review_routes
from api.review.ports import RightsChecker, ZoneRulesSource
from api.rights import routes as rights_routes
from api.settings import BackendSettings, load_backend_settings
from api.zones import routes as zone_routes

API_VERSION = "0.1.0"


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Open the check pool and run the background jobs while the app serves; close the
    backend after."""
    from api.retention.jobs import background_jobs

    backend: Backend = app.state.backend  # a test may have replaced a part
    check_pool = backend.check_pool
    if check_pool is not None:
        await check_pool.open()
    try:
        async with background_jobs(backend):
            yield
    finally:
        if check_pool is not None:
            await check_pool.close()
        backend.close()


def _routers() -> tuple[APIRouter, ...]:
    return (
        rights_routes.router,  # first: /rights/check is the hottest route
        health.router,
        health.metrics_router(),
        auth_routes.router,
        audit_routes.router,
        observation_routes.router,
        device_routes.router,
        hit_routes.router,
        review_routes.router,
        zone_routes.router,
        fine_routes.router,
        report_routes.router,
        permit_routes.router,
        resident_routes.router,
        controlroom_routes.router,
    )


def create_app(
    backend: Backend | BackendSettings | None = None,
    *,
    engine: Engine | None = None,
    rights_checker: RightsChecker | None = None,
    zone_rules: ZoneRulesSource | None = None,
) -> FastAPI:
    """The web app over ``backend`` (built here from settings, and then with the engine,
    rights checker or zone rules a test passes); the app's lifespan closes it."""
    if not isinstance(backend, Backend):
        backend = build_backend(
            backend or load_backend_settings(),
            engine=engine,
            rights_checker=rights_checker,
            zone_rules=zone_rules,
        )
    elif engine is not None or rights_checker is not None or zone_rules is not None:
        raise TypeError("create_app: pass the parts to build_backend, not with a Backend")
    app = FastAPI(
        title="Scan-car enforcement backend",
        version=API_VERSION,
        description=(
            "Ingest from scan cars, the BOA review queue, fines, permits, zones, reports. "
            'Every error body is {"detail": ..., "code": ...}.'
        ),
        lifespan=_lifespan,
        docs_url=None,  # install_docs_pages: the pages with the assets the package ships
        redoc_url=None,
    )
    app.state.backend = backend  # the only attribute: read it through api.deps
    register_error_handlers(app)
    install_openapi(app)
    install_docs_pages(app)
    install_middleware(app, backend.settings, backend.engine)
    app.add_middleware(MetricsMiddleware, metrics=backend.metrics)  # outermost: counts every answer
    for router in _routers():
        app.include_router(router)
    from api.ui.pages import install_pages

    install_pages(app)
    return app
