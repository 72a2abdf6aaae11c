"""Backend settings refuse unsafe or wrong values with one line."""

from __future__ import annotations

import pytest

from api.settings import DEVELOPMENT_SECRET_KEY, SettingsError, load_backend_settings


def test_settings_refuse_development_key_in_production(monkeypatch):
    monkeypatch.delenv("SCANCAR_SECRET_KEY", raising=False)
    monkeypatch.setenv("SCANCAR_ENV", "production")
    with pytest.raises(SettingsError, match="SCANCAR_SECRET_KEY is the built-in development key"):
        load_backend_settings()


def test_settings_allow_development_key_in_development(monkeypatch):
    monkeypatch.delenv("SCANCAR_SECRET_KEY", raising=False)
    monkeypatch.setenv("SCANCAR_ENV", "development")
    assert load_backend_settings().secret_key == DEVELOPMENT_SECRET_KEY


@pytest.mark.parametrize(
    ("env", "value", "message"),
    [
        ("SCANCAR_SECRET_KEY", "short", "at least 32 characters"),
        ("SCANCAR_ACCESS_TOKEN_MINUTES", "0", "SCANCAR_ACCESS_TOKEN_MINUTES"),
        ("SCANCAR_ENV", "staging", "SCANCAR_ENV"),
        ("SCANCAR_MAX_IMAGE_BYTES", "lots", "SCANCAR_MAX_IMAGE_BYTES"),
    ],
)
def test_settings_bad_values_give_one_line(monkeypatch, env, value, message):
    monkeypatch.setenv("SCANCAR_ENV", "development")
    monkeypatch.setenv(env, value)
    with pytest.raises(SettingsError) as err:
        load_backend_settings()
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_settings_defaults(monkeypatch):
    monkeypatch.setenv("SCANCAR_ENV", "development")
    for var in ("SCANCAR_DATABASE_URL", "SCANCAR_DATA_DIR"):
        monkeypatch.delenv(var, raising=False)
    s = load_backend_settings()
    assert s.database_url == "sqlite:///./data/scancar.db"
    assert str(s.evidence_dir) == "data/evidence"
    assert s.max_image_bytes == 5 * 1024 * 1024


def test_settings_hosts_and_proxies_from_the_environment(monkeypatch):
    from api.settings import SettingsError, load_backend_settings

    monkeypatch.setenv("SCANCAR_ALLOWED_HOSTS", "a.example, b.example")
    monkeypatch.setenv("SCANCAR_TRUSTED_PROXIES", "10.0.0.5,10.1.0.0/16")
    s = load_backend_settings(env="test", secret_key="x" * 40)
    assert s.allowed_hosts == ["a.example", "b.example"]
    assert s.trusted_proxies == ["10.0.0.5", "10.1.0.0/16"]
    monkeypatch.setenv("SCANCAR_TRUSTED_PROXIES", "proxy.local")
    with pytest.raises(SettingsError, match="SCANCAR_TRUSTED_PROXIES"):
        load_backend_settings(env="test", secret_key="x" * 40)
