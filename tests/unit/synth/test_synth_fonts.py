"""Font lookup of the synthetic data generator."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixtures.synth.errors import FontNotFoundError
from fixtures.synth.fonts import PLATE_FONT, font_path


def test_font_path_finds_the_plate_font() -> None:
    assert font_path(PLATE_FONT).name == PLATE_FONT


def test_font_path_override_must_exist(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    missing = tmp_path / "nope.ttf"
    monkeypatch.setenv("SCANCAR_PLATE_FONT", str(missing))
    with pytest.raises(
        FontNotFoundError, match=r"SCANCAR_PLATE_FONT=.*nope\.ttf.*fonts-dejavu-core"
    ):
        font_path(PLATE_FONT)


def test_font_path_unknown_font_names_the_folders_tried() -> None:
    with pytest.raises(
        FontNotFoundError, match=r"no plate font found; tried .*/dejavu/NoSuch\.ttf"
    ):
        font_path("NoSuch.ttf")
