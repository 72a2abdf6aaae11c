"""The backend's composition root: ``build_backend(settings)`` makes every long-lived part once.

The server (``api.main.create_app``), the background jobs (``api.retention.jobs``) and the
admin commands take the same ``Backend``, so a command runs the server's own wiring without a
web app. The parts are imported inside ``build_backend``: importing this module (for the type,
e.g. in ``api.deps``) loads neither FastAPI nor the features.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from api.evidence.images import ImageChecker
    from api.evidence.store import EvidenceStore
    from api.metrics import BackendMetrics
    from api.residents.oidc import OidcClient
    from api.review.ports import FineDrafts, RightsChecker, ZoneRulesSource
    from api.review.service import Review
    from api.rights.check_pg import CheckPool
    from api.rights.checker import RecentZoneSet
    from api.rights.feed import FeedKeys
    from api.settings import BackendSettings
    from api.zones.service import ZoneCatalog


@dataclass(frozen=True, slots=True)
class Backend:
    """Everything a backend process shares between requests and jobs (no request state)."""

    settings: BackendSettings
    engine: Engine
    evidence_store: EvidenceStore
    image_checker: ImageChecker
    metrics: BackendMetrics
    zone_catalog: ZoneCatalog
    recent_zone_set: RecentZoneSet  # the catalog's zone set for /rights/check, at most 1 s old
    rights_checker: RightsChecker
    zone_rules: ZoneRulesSource
    fine_drafts: FineDrafts
    check_pool: CheckPool | None  # PostgreSQL only: connections for /rights/check on the loop
    feed_keys: FeedKeys
    oidc_client: OidcClient | None  # the residents' OpenID Connect login, when configured

    def review(self) -> Review:
        """The BOA's review actions on these parts (cheap: made per request)."""
        from api.review.service import Review

        return Review(
            rights=self.rights_checker,
            zones=self.zone_rules,
            drafts=self.fine_drafts,
            settings=self.settings,
            evidence=self.evidence_store,
            images=self.image_checker,
            observer=self.metrics,
        )

    def close(self) -> None:
        """Give back the database connections and end this process's metrics. The check
        pool is async: the app's lifespan opens and closes it."""
        self.engine.dispose()
        self.metrics.close()


def build_backend(
    settings: BackendSettings,
    *,
    engine: Engine | None = None,
    rights_checker: RightsChecker | None = None,
    zone_rules: ZoneRulesSource | None = None,
) -> Backend:
    """The parts for ``settings``; tests pass their own engine, rights checker or zone rules."""
    from api.evidence.images import ImageChecker, ImageLimits
    from api.evidence.store import EvidenceStore
    from api.fines.service import SqlFineDrafts
    from api.metrics import BackendMetrics
    from api.rights.check_pg import CheckPool
    from api.rights.checker import DbRightsChecker, RecentZoneSet
    from api.rights.feed import FeedKeys
    from api.zones.service import CatalogZoneRules, ZoneCatalog

    if engine is None:
        from api.db import make_engine

        engine = make_engine(
            settings.database_url,
            pool_size=settings.database_pool_size,
            timeouts=settings.db_timeouts,
        )
    metrics = BackendMetrics()
    metrics.watch_pool(engine, settings.database_pool_size)
    catalog = ZoneCatalog()
    zone_rules = zone_rules or CatalogZoneRules(catalog)
    return Backend(
        settings=settings,
        engine=engine,
        evidence_store=EvidenceStore(settings.evidence_dir),
        image_checker=ImageChecker(
            ImageLimits(settings.max_image_pixels, settings.max_image_decoded_bytes),
            max_concurrent=settings.image_checks_concurrent,
        ),
        metrics=metrics,
        zone_catalog=catalog,
        recent_zone_set=RecentZoneSet(catalog, engine),
        rights_checker=rights_checker or DbRightsChecker(catalog, settings.default_grace_minutes),
        zone_rules=zone_rules,
        fine_drafts=SqlFineDrafts(catalog, zone_rules, settings),
        check_pool=CheckPool.for_engine(engine, settings.rights_check_pool_size),
        feed_keys=FeedKeys.from_settings(settings),
        oidc_client=_oidc_client(settings),
    )


def _oidc_client(settings: BackendSettings) -> OidcClient | None:
    """The residents' OpenID Connect login, when an issuer is configured."""
    if not (settings.oidc_issuer and settings.oidc_client_id and settings.oidc_client_secret):
        return None
    from api.residents.oidc import OidcClient, OidcConfig

    return OidcClient(
        OidcConfig(
            settings.oidc_issuer,
            settings.oidc_client_id,
            settings.oidc_client_secret,
            settings.oidc_scopes,
        )
    )
