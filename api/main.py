"""The backend's composition root: ``create_app(settings)`` builds everything it needs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.engine import Engine

from api import health
from api.audit import routes as audit_routes
from api.auth import routes as auth_routes
from api.devices import routes as device_routes
from api.errors import register_error_handlers
from api.evidence.images import ImageChecker, ImageLimits
from api.evidence.store import EvidenceStore
from api.fines import routes as fine_routes
from api.fines.service import SqlFineDrafts
from api.hits import routes as hit_routes
from api.metrics import BackendMetrics, MetricsMiddleware, metrics_router
from api.middleware import install_middleware
from api.observations import routes as observation_routes
from api.openapi import install_docs_pages, install_openapi
from api.permits import resident_routes
from api.permits import routes as permit_routes
from api.reports import routes as report_routes
from api.residents.oidc import OidcClient, OidcConfig
from api.review import routes as review_routes
from api.review.ports import RightsChecker, ZoneRulesSource
from api.rights import routes as rights_routes
from api.rights.check_pg import CheckPool
from api.rights.checker import DbRightsChecker
from api.rights.feed import FeedKeys
from api.settings import BackendSettings, load_backend_settings
from api.zones import routes as zone_routes
from api.zones.service import CatalogZoneRules, ZoneCatalog

API_VERSION = "0.1.0"


def _oidc_client(settings: BackendSettings) -> OidcClient | None:
    """The residents' OpenID Connect login, when an issuer is configured."""
    if not (settings.oidc_issuer and settings.oidc_client_id and settings.oidc_client_secret):
        return None
    return OidcClient(
        OidcConfig(
            settings.oidc_issuer,
            settings.oidc_client_id,
            settings.oidc_client_secret,
            settings.oidc_scopes,
        )
    )


def create_app(
    settings: BackendSettings | None = None,
    *,
    engine: Engine | None = None,
    rights_checker: RightsChecker | None = None,
    zone_rules: ZoneRulesSource | None = None,
) -> FastAPI:
    settings = settings or load_backend_settings()
    if engine is None:
        from api.db import make_engine

        engine = make_engine(
            settings.database_url,
            pool_size=settings.database_pool_size,
            timeouts=settings.db_timeouts,
        )
    store = EvidenceStore(settings.evidence_dir)
    metrics = BackendMetrics()
    metrics.watch_pool(engine, settings.database_pool_size)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from api.retention.jobs import background_jobs

        check_pool: CheckPool | None = app.state.check_pool
        if check_pool is not None:
            await check_pool.open()
        try:
            async with background_jobs(app.state):
                yield
        finally:
            if check_pool is not None:
                await check_pool.close()
            engine.dispose()
            metrics.close()

    app = FastAPI(
        title="Scan-car enforcement backend",
        version=API_VERSION,
        description=(
            "Ingest from scan cars, the BOA review queue, fines, permits, zones, reports. "
            'Every error body is {"detail": ..., "code": ...}.'
        ),
        lifespan=lifespan,
        docs_url=None,  # install_docs_pages: the pages with the assets the package ships
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.engine = engine
    app.state.evidence_store = store
    app.state.image_checker = ImageChecker(
        ImageLimits(settings.max_image_pixels, settings.max_image_decoded_bytes),
        max_concurrent=settings.image_checks_concurrent,
    )
    app.state.zone_catalog = ZoneCatalog()
    app.state.rights_checker = rights_checker or DbRightsChecker(
        app.state.zone_catalog, settings.default_grace_minutes
    )
    app.state.check_pool = CheckPool.for_engine(engine, settings.rights_check_pool_size)
    app.state.feed_keys = FeedKeys.from_settings(settings)
    app.state.zone_rules = zone_rules or CatalogZoneRules(app.state.zone_catalog)
    app.state.oidc_client = _oidc_client(settings)
    app.state.fine_drafts = SqlFineDrafts(app.state.zone_catalog, app.state.zone_rules, settings)

    register_error_handlers(app)
    install_openapi(app)
    install_docs_pages(app)
    install_middleware(app, settings, engine)
    app.add_middleware(MetricsMiddleware, metrics=metrics)  # outermost: counts every answer

    for router in (
        rights_routes.router,  # first: /rights/check is the hottest route
        health.router,
        metrics_router(),
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
    ):
        app.include_router(router)
    from api.ui.pages import install_pages

    install_pages(app)
    return app
