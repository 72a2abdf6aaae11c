"""The deployment files agree with the code: compose.yaml's services, volumes and health
checks, deploy/example.env, and every SCANCAR_ setting docs/deploy.md names."""

from __future__ import annotations

import re
import secrets

import pytest
import yaml

from api.settings import BackendSettings
from tests.conftest import REPO

COMPOSE = yaml.safe_load((REPO / "compose.yaml").read_text())
EXAMPLE_ENV = REPO / "deploy" / "example.env"
COMPOSE_ONLY = {"SCANCAR_DB_PASSWORD"}  # used by compose.yaml itself, not a backend setting
SETTINGS = {f"SCANCAR_{name.upper()}" for name in BackendSettings.model_fields}


def _env_lines(text: str) -> dict[str, str]:
    """``NAME=value`` lines, commented-out examples (``# NAME=value``) included."""
    found = {}
    for line in text.splitlines():
        match = re.match(r"^#?\s*(SCANCAR_[A-Z0-9_]+)=(.*)$", line.strip())
        if match:
            found[match.group(1)] = match.group(2)
    return found


def test_deploy_compose_services_volumes_and_health_checks():
    services = COMPOSE["services"]
    assert set(services) == {"db", "api"}
    db, api = services["db"], services["api"]
    dockerfile = (REPO / "Dockerfile").read_text()
    assert f"AS {api['build']['target']}\n" in dockerfile
    assert api["depends_on"] == {"db": {"condition": "service_healthy"}}
    # the evidence volume is mounted where SCANCAR_DATA_DIR points, and declared
    data_dir = api["environment"]["SCANCAR_DATA_DIR"]
    mounts = dict(v.split(":", 1) for v in api["volumes"])
    assert mounts == {"evidence": data_dir}
    assert dict(v.split(":", 1) for v in db["volumes"]) == {"pgdata": "/var/lib/postgresql/data"}
    assert set(COMPOSE["volumes"]) == {"evidence", "pgdata"}
    # health checks: pg_isready for the user and database the backend uses; the backend's
    # own readiness route on the port the image exposes
    assert "pg_isready -U scancar -d scancar" in " ".join(db["healthcheck"]["test"])
    env = db["environment"]
    assert (env["POSTGRES_USER"], env["POSTGRES_DB"]) == ("scancar", "scancar")
    check = " ".join(api["healthcheck"]["test"])
    exposed = re.search(r"^EXPOSE (\d+)$", dockerfile, re.M).group(1)
    assert f"http://127.0.0.1:{exposed}/readyz" in check
    assert api["ports"] == [f"127.0.0.1:{exposed}:{exposed}"]  # only the proxy reaches it


def test_deploy_compose_database_url_points_at_the_db_service():
    from sqlalchemy.engine import make_url

    url = COMPOSE["services"]["api"]["environment"]["SCANCAR_DATABASE_URL"]
    url = url.replace("${SCANCAR_DB_PASSWORD}", "pw")
    settings = BackendSettings(
        env="production", secret_key="k" * 40, database_url=url, _env_file=None
    )
    parsed = make_url(settings.database_url)
    db_env = COMPOSE["services"]["db"]["environment"]
    assert parsed.host == "db"
    assert (parsed.username, parsed.database) == (db_env["POSTGRES_USER"], db_env["POSTGRES_DB"])
    assert parsed.drivername == "postgresql+psycopg"


def test_deploy_routes_in_health_checks_exist(tmp_path):
    from api.main import create_app
    from api.routetable import iter_api_routes

    settings = BackendSettings(
        env="test",
        secret_key="k" * 40,
        database_url=f"sqlite:///{tmp_path / 'x.db'}",
        data_dir=tmp_path,
        _env_file=None,
    )
    paths = {e.path for e in iter_api_routes(create_app(settings))}
    assert {"/readyz", "/healthz", "/metrics"} <= paths


def test_deploy_example_env_holds_real_settings_and_validates(monkeypatch):
    text = EXAMPLE_ENV.read_text()
    named = _env_lines(text)
    assert set(named) - COMPOSE_ONLY <= SETTINGS, set(named) - COMPOSE_ONLY - SETTINGS
    values = {k: v for k, v in named.items() if f"\n{k}=" in f"\n{text}"}  # not commented out
    for key, value in values.items():
        monkeypatch.setenv(key, secrets.token_hex(32) if value == "CHANGE_ME" else value)
    settings = BackendSettings(_env_file=None)
    assert settings.env == "production"
    assert settings.allowed_hosts == ["parkeren.gemeente.nl"]


def test_deploy_docs_name_only_real_settings():
    text = (REPO / "docs" / "deploy.md").read_text()
    named = set(re.findall(r"SCANCAR_[A-Z0-9_]+", text)) - COMPOSE_ONLY
    car_only = {"SCANCAR_OCR_MODEL", "SCANCAR_CAR_DATA_DIR"}
    unknown = named - SETTINGS - car_only
    assert unknown == set(), unknown
    for compose_key in COMPOSE["services"]["api"]["environment"]:
        assert compose_key in SETTINGS


@pytest.mark.parametrize("name", ["prometheus.yml", "alerts.yml"])
def test_deploy_prometheus_files_parse(name):
    doc = yaml.safe_load((REPO / "deploy" / "prometheus" / name).read_text())
    assert doc


def test_deploy_alerts_use_metrics_the_backend_exports():
    from api.metrics import BackendMetrics

    exported = {
        "scancar_database_up",
        "scancar_hits",
        "scancar_fines",
        "scancar_car_last_heartbeat_timestamp_seconds",
        "scancar_car_reported_outbox_backlog",
        "scancar_car_reported_rights_cache_age_seconds",
    }
    for metric in BackendMetrics().registry.collect():
        exported |= {sample.name for sample in metric.samples} | {metric.name}
        exported.add(metric.name + "_total")
    rules = yaml.safe_load((REPO / "deploy" / "prometheus" / "alerts.yml").read_text())
    used = {
        name
        for group in rules["groups"]
        for rule in group["rules"]
        for name in re.findall(r"scancar_[a-z_]+", rule["expr"])
    }
    assert used
    assert used <= exported, used - exported


def test_deploy_car_example_has_every_key_and_validates():
    import tomllib

    from pydantic import BaseModel

    from scancar.config import CarConfig

    path = REPO / "deploy" / "car.example.toml"
    text = path.read_text()
    config = CarConfig.model_validate(tomllib.loads(text))
    assert config.backend is not None
    assert [c.side for c in config.cameras] == ["right", "left"]

    def keys(model: type[BaseModel], prefix: str = "") -> list[str]:
        out = []
        for name, field in model.model_fields.items():
            inner = field.annotation
            args = getattr(inner, "__args__", ())
            nested = next(
                (a for a in (inner, *args) if isinstance(a, type) and issubclass(a, BaseModel)),
                None,
            )
            out += keys(nested, f"{prefix}{name}.") if nested else [f"{prefix}{name}"]
        return out

    missing = []
    for key in keys(CarConfig):
        section, _, name = key.rpartition(".")
        header = f"[[{section}]]" if section == "cameras" else f"[{section}]"
        block = text if not section else text.split(header, 1)[-1].split("\n[", 1)[0]
        if not re.search(rf"^#?\s*{name} = ", block, re.M):
            missing.append(key)
    assert missing == []
