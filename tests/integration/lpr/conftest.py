"""Fixtures for the plate-reading integration tests: the real OCR model and dev frames."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from scancar.lpr.fastplate import FastPlateReader, load_plate_reader
from scancar.lpr.recognizer import PlateRecognizer

REPO = Path(__file__).resolve().parents[3]
SHARED = (REPO / ".." / "shared").resolve()
MODEL_DIR = SHARED / "models" / "cct-xs-v2-global-model"
DEV_DIR = SHARED / "data" / "plates-nl-dev"


def need(path: Path) -> Path:
    """Skip (outside CI) or fail (in CI) when a file from ../shared is absent."""
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"CI needs {path}")
        pytest.skip(f"{path} not present")
    return path


@pytest.fixture(scope="session")
def plate_reader() -> FastPlateReader:
    return load_plate_reader(str(need(MODEL_DIR)))


@pytest.fixture(scope="session")
def recognizer(plate_reader: FastPlateReader) -> PlateRecognizer:
    return PlateRecognizer(plate_reader)
