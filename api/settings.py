"""Backend settings: one pydantic-settings object, built in the composition root only."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from api.db_timeouts import DbTimeouts

if TYPE_CHECKING:
    from api.netaddr import Network

DEVELOPMENT_SECRET_KEY = "development-only-secret-key-do-not-use-in-production"  # noqa: S105


PDOK_BRT_TILES = (
    "https://service.pdok.nl/brt/achtergrondkaart/wmts/v2_0/standaard/EPSG:3857/{z}/{x}/{y}.png"
)


def tile_origin(url: str) -> str | None:
    """``https://host[:port]`` of an XYZ tile URL template, or None when it is not one."""
    from urllib.parse import urlsplit

    if not all(part in url for part in ("{z}", "{x}", "{y}")):
        return None
    import re

    parts = urlsplit(url)
    host_ok = re.fullmatch(r"[A-Za-z0-9.-]+(:[0-9]{1,5})?", parts.netloc) is not None
    if parts.scheme not in ("http", "https") or not host_ok or any(c in url for c in " ;'\""):
        return None
    return f"{parts.scheme}://{parts.netloc}"


class SettingsError(ValueError):
    """A setting is wrong; the message is one line that says which and why."""


class BackendSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SCANCAR_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    env: Literal["production", "development", "test"] = "production"
    database_url: str = "sqlite:///./data/scancar.db"
    # PostgreSQL connections each server process keeps open (as many again may be opened for
    # bursts and closed after). Too small a pool makes connections come and go under load, and
    # a new PostgreSQL connection costs more than a hundred queries.
    database_pool_size: int = Field(default=20, ge=1, le=500)
    # PostgreSQL: GET /rights/check runs on the event loop with its own async connections, at
    # most this many per server process (a check holds one for its three statements)
    rights_check_pool_size: int = Field(default=8, ge=1, le=500)
    # PostgreSQL time limits: a database that is slow, locked or frozen makes requests
    # answer 503 within about database_statement_timeout_s + 2 s instead of hanging
    database_connect_timeout_s: float = Field(default=5.0, ge=1, le=120)
    database_statement_timeout_s: float = Field(default=10.0, ge=0.1, le=3600)
    database_lock_timeout_s: float = Field(default=5.0, ge=0.1, le=3600)
    data_dir: Path = Path("./data")
    secret_key: str = DEVELOPMENT_SECRET_KEY
    access_token_minutes: int = Field(default=15, ge=1, le=24 * 60)
    session_cookie_minutes: int = Field(default=8 * 60, ge=5, le=24 * 60)

    # /readyz reports the evidence disk as (nearly) full below this much free space
    evidence_min_free_mb: float = Field(default=512.0, ge=0)

    # uploads
    max_image_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    max_request_bytes: int = Field(default=32 * 1024 * 1024, ge=1024)
    max_image_pixels: int = Field(default=40_000_000, ge=10_000)
    # memory an image would take decoded (pixels x channels x bytes per sample): a small
    # PNG can declare a huge canvas; refused above this before anything is decoded
    max_image_decoded_bytes: int = Field(default=64 * 1024 * 1024, ge=1024 * 1024)
    image_checks_concurrent: int = Field(default=2, ge=1, le=64)  # per server process

    # page sessions (server-side): ended by logout, by disabling the user or changing the
    # role, after this long unused, and at the latest after session_cookie_minutes
    session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)

    # login brute-force protection: failed logins are counted per (user, client address) and
    # per client address; a bucket that reaches its limit refuses logins (429) for the
    # lockout. Failures for one user from anywhere only slow that user's logins down (at
    # most login_user_max_delay_s), so guessing names cannot lock anyone out.
    login_max_failures: int = Field(default=5, ge=1, le=1000)  # per (user, address)
    login_client_max_failures: int = Field(default=20, ge=1, le=100_000)  # per address
    login_user_slowdown_after: int = Field(default=10, ge=1, le=100_000)
    login_user_max_delay_s: float = Field(default=3.0, ge=0, le=30)
    login_window_minutes: int = Field(default=15, ge=1, le=24 * 60)
    login_lockout_minutes: int = Field(default=15, ge=1, le=24 * 60)

    # reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (addresses or
    # networks, comma-separated, e.g. "10.0.0.5,10.1.0.0/16"); empty: the headers are ignored
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Host names the server answers to (comma-separated; "*" = any). Other Host headers
    # get 400, so nothing the server writes can carry a foreign host name.
    allowed_hosts: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["*"])
    # slow clients: a request body must keep coming (a piece at least every
    # body_read_timeout_s) and, after that long, at body_min_bytes_per_s on average;
    # otherwise the connection is closed with 408
    body_read_timeout_s: float = Field(default=30.0, gt=0, le=3600)
    body_min_bytes_per_s: float = Field(default=1024.0, gt=0)

    # review (BOA)
    claim_minutes: int = Field(default=10, ge=1, le=120)
    on_site_max_distance_m: float = Field(default=50.0, gt=0, le=1000)
    default_grace_minutes: int = Field(default=10, ge=0, le=60)

    # background work in the server process (grace step, purge); off in tests that drive it
    run_background_jobs: bool = True
    background_interval_s: float = Field(default=30.0, gt=0)

    # fines (back office)
    fine_tax_charged_minutes: int = Field(default=60, ge=1, le=24 * 60)
    objection_weeks: int = Field(default=6, ge=1, le=52)
    avalanche_max_fines: int = Field(default=3, ge=1)  # more than N fines in M days for one
    avalanche_window_days: int = Field(default=30, ge=1)  # plate need a second approval

    # retention (purge job)
    retention_rejected_evidence_hours: int = Field(default=24, ge=1)
    retention_rights_check_days: int = Field(default=7, ge=1)
    # the plate and position of a not-allowed rights check (allowed checks store none)
    retention_unallowed_check_hours: int = Field(default=24, ge=1, le=24 * 31)
    retention_closed_hit_days: int = Field(default=7, ge=1)  # plates of dismissed/rejected hits
    retention_closed_fine_days: int = Field(default=91, ge=1)  # after the objection term
    # the purge and the exports work in chunks of this many rows (one statement / transaction
    # each): bounded memory and statement size at any table size
    chunk_size: int = Field(default=1000, ge=1, le=10_000)
    # a background purge run stops after this long; the next run goes on where it stopped
    purge_max_seconds: float = Field(default=20.0, gt=0)

    # resident portal (/mijn/): OpenID Connect login (authorization code + PKCE) at the
    # municipality's broker for DigiD / eHerkenning; unset issuer: no OpenID login
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = Field(default=None, repr=False)
    oidc_scopes: str = "openid profile"
    oidc_login_label: str = "Inloggen met DigiD"
    # the portal's password login, for demo residents only (never in production)
    portal_password_login: bool = False
    # visitor parking (bezoekersparkeren): the yearly budget of a visitor permit, shown in hours
    # or in euros (at the visitor rate per hour); sessions are counted in minutes either way
    visitor_budget_unit: Literal["hours", "euros"] = "hours"
    visitor_budget_hours_per_year: int = Field(default=40, ge=0, le=8760)
    visitor_rate_cents_per_hour: int = Field(default=150, ge=1, le=10_000)

    # pages: the NL Design System tokens file and the class it is scoped to (a municipality's
    # own theme); None: the vendored neutral "voorbeeld" theme (api/ui/static/nlds/)
    ui_theme_css: Path | None = None
    ui_theme_class: str = Field(default="voorbeeld-theme", pattern=r"^[A-Za-z][A-Za-z0-9_-]*$")

    # maps (zone pages, control room): the base map's XYZ tile URL ({z}/{x}/{y}); its origin
    # is added to the pages' img-src. Empty: no base map (zones, cars and hits on a plain
    # background). Default: PDOK BRT-Achtergrondkaart, WMTS in EPSG:3857 (web mercator).
    map_tile_url: str = Field(default=PDOK_BRT_TILES, max_length=500)
    map_tile_attribution: str = Field(
        default="Kaart: BRT-Achtergrondkaart, © Kadaster", max_length=200
    )
    # control room: a BOA's shared position older than this is no longer shown (and purged)
    boa_position_max_age_minutes: int = Field(default=15, ge=1, le=24 * 60)

    log_json: bool | None = None  # None: JSON when stderr is not a TTY

    # GET /metrics (Prometheus): served to these client addresses, or to any client that
    # sends "Authorization: Bearer <metrics_token>" when a token is set
    metrics_allow_from: str = "127.0.0.1,::1"
    metrics_token: str | None = Field(default=None, repr=False, min_length=16)

    # scan-car rights feed: the plate key (hex, >= 32 bytes); None: derived from secret_key
    rights_feed_key: str | None = Field(default=None, repr=False)
    rights_snapshot_page_size: int = Field(default=10_000, ge=1, le=100_000)
    # the cars' plate key is derived from it per period (from 02:00 UTC); 0: never rotated
    rights_key_rotation_hours: int = Field(default=24, ge=0, le=24 * 366)

    # scan-car health flags on the device list (GET /api/v1/devices)
    device_silent_after_s: int = Field(default=300, ge=10, le=7 * 24 * 3600)
    device_blind_after_s: int = Field(default=60, ge=5, le=24 * 3600)
    device_lost_after_s: int = Field(default=60, ge=5, le=24 * 3600)
    device_reading_nothing_minutes: int = Field(default=30, ge=1, le=24 * 60)

    @field_validator("trusted_proxies", "allowed_hosts", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        import ipaddress

        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(
                    f"{item!r} is not an IP address or network; give addresses or networks "
                    "like 10.0.0.5 or 10.1.0.0/16, comma-separated"
                ) from None
        return value

    @field_validator("map_tile_url")
    @classmethod
    def _tile_url(cls, value: str) -> str:
        value = value.strip()
        if value and tile_origin(value) is None:
            raise ValueError(
                f"{value!r} is not a tile URL; give an http(s) URL with {{z}}, {{x}} and {{y}}, "
                "e.g. https://tiles.example.nl/{z}/{x}/{y}.png, or leave it empty for no base map"
            )
        return value

    @property
    def map_tile_origin(self) -> str | None:
        """The origin the base map's tiles come from (for the pages' img-src), or None."""
        return tile_origin(self.map_tile_url) if self.map_tile_url else None

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        from api.dburl import normalise_database_url

        return normalise_database_url(value)

    @field_validator("metrics_allow_from")
    @classmethod
    def _metrics_networks(cls, value: str) -> str:
        from api.netaddr import parse_networks

        parse_networks(value)
        return value

    @property
    def metrics_networks(self) -> tuple[Network, ...]:
        from api.netaddr import parse_networks

        return parse_networks(self.metrics_allow_from)

    @model_validator(mode="after")
    def _refuse_development_key(self) -> BackendSettings:
        if self.secret_key == DEVELOPMENT_SECRET_KEY and self.env == "production":
            raise SettingsError(
                "SCANCAR_SECRET_KEY is the built-in development key; set a secret of at least "
                "32 characters, or SCANCAR_ENV=development for a local demo"
            )
        if self.oidc_issuer and not (self.oidc_client_id and self.oidc_client_secret):
            raise SettingsError(
                "SCANCAR_OIDC_ISSUER is set: set SCANCAR_OIDC_CLIENT_ID and "
                "SCANCAR_OIDC_CLIENT_SECRET too (from the OpenID provider's registration)"
            )
        if self.portal_password_login and self.env == "production":
            raise SettingsError(
                "SCANCAR_PORTAL_PASSWORD_LOGIN is for demo residents only; residents log in "
                "through OpenID Connect in production (SCANCAR_OIDC_ISSUER)"
            )
        if self.ui_theme_css is not None and not self.ui_theme_css.is_file():
            raise SettingsError(
                f"SCANCAR_UI_THEME_CSS={self.ui_theme_css}: no such file; give the path of your "
                "NL Design System tokens CSS, or leave it unset for the built-in theme"
            )
        if len(self.secret_key) < 32:
            raise SettingsError("SCANCAR_SECRET_KEY must be at least 32 characters long")
        if self.rights_feed_key is not None:
            try:
                key = bytes.fromhex(self.rights_feed_key)
            except ValueError:
                key = b""
            if len(key) < 32:
                raise SettingsError(
                    "SCANCAR_RIGHTS_FEED_KEY must be at least 64 hex characters (32 random "
                    "bytes), e.g. from `python -c 'import secrets; print(secrets.token_hex(32))'`"
                )
        return self

    @property
    def db_timeouts(self) -> DbTimeouts:
        return DbTimeouts(
            connect_s=self.database_connect_timeout_s,
            statement_s=self.database_statement_timeout_s,
            lock_s=self.database_lock_timeout_s,
        )

    @property
    def evidence_dir(self) -> Path:
        return self.data_dir / "evidence"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def load_backend_settings(**overrides: object) -> BackendSettings:
    """Build settings from env/.env; a bad value raises ``SettingsError`` with one line."""
    from pydantic import ValidationError

    try:
        return BackendSettings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        msg = first["msg"].removeprefix("Value error, ")
        if not first["loc"]:
            raise SettingsError(msg) from None
        field = ".".join(str(p) for p in first["loc"])
        raise SettingsError(f"SCANCAR_{field.upper()}: {msg}") from None


def ensure_data_dir(path: Path) -> Path:
    """Make the data folder (evidence lives under it) or raise ``SettingsError`` in one line:
    a file in its place, no right to make it, or a folder this user cannot write to."""
    import os

    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise SettingsError(f"SCANCAR_DATA_DIR {path} is a file, not a folder") from None
    except OSError as exc:
        raise SettingsError(f"SCANCAR_DATA_DIR {path} cannot be made: {exc.strerror}") from None
    if not path.is_dir():
        raise SettingsError(f"SCANCAR_DATA_DIR {path} is not a folder")
    if not os.access(path, os.W_OK | os.X_OK):
        raise SettingsError(
            f"SCANCAR_DATA_DIR {path} is not writable for this user (uid {os.getuid()})"
        )
    return path
