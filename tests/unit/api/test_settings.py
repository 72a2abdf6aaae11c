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
