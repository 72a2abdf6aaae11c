"""The car refuses a bad OCR model setting with one line."""

from __future__ import annotations

import pytest

from scancar.settings import CarSettingsError, load_car_settings
from tests.conftest import MODEL_DIR, need_shared


def test_car_settings_accept_the_model_folder(monkeypatch):
    need_shared(MODEL_DIR)
    monkeypatch.setenv("SCANCAR_OCR_MODEL", str(MODEL_DIR))
    assert load_car_settings().ocr_model == str(MODEL_DIR)


def test_car_settings_accept_a_hub_name(monkeypatch):
    monkeypatch.setenv("SCANCAR_OCR_MODEL", "cct-xs-v2-global-model")
    assert load_car_settings().ocr_model == "cct-xs-v2-global-model"


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("missing", "does not exist"),
        ("empty", "lacks an .onnx model and a plate config .yaml"),
        ("no-yaml", "lacks a plate config .yaml"),
        ("unknown-name", "neither a folder nor a known hub model"),
    ],
)
def test_car_settings_refuse_bad_model(monkeypatch, tmp_path, setup, message):
    value = {
        "missing": str(tmp_path / "nope"),
        "empty": str(tmp_path),
        "no-yaml": str(tmp_path),
        "unknown-name": "my-model",
    }[setup]
    if setup == "no-yaml":
        (tmp_path / "m.onnx").write_bytes(b"x")
    monkeypatch.setenv("SCANCAR_OCR_MODEL", value)
    with pytest.raises(CarSettingsError) as err:
        load_car_settings()
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_car_settings_default_to_the_combined_plate_finder_and_the_packaged_detector(monkeypatch):
    monkeypatch.delenv("SCANCAR_PLATE_FINDER", raising=False)
    monkeypatch.delenv("SCANCAR_TEXT_DETECTOR_MODEL", raising=False)
    settings = load_car_settings()
    assert (settings.plate_finder, settings.text_detector_model) == ("combined", "")


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SCANCAR_PLATE_FINDER", "yolo", "SCANCAR_PLATE_FINDER"),
        ("SCANCAR_TEXT_DETECTOR_MODEL", "/no/such/det.onnx", "does not exist"),
    ],
)
def test_car_settings_refuse_a_bad_plate_finder_setting(monkeypatch, name, value, message):
    monkeypatch.setenv(name, value)
    with pytest.raises(CarSettingsError) as err:
        load_car_settings()
    assert message in str(err.value)
    assert "\n" not in str(err.value)
