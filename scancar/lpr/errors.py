"""Errors of the plate-reading package. Each names the bad value and what is allowed."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


class LprError(Exception):
    """Base class for plate-finding and plate-reading errors."""

    code = "lpr_error"


class InvalidSettingError(LprError, ValueError):
    """A setting has a value outside its allowed range or choices."""

    code = "invalid_setting"

    def __init__(self, name: str, value: object, allowed: str) -> None:
        self.name = name
        self.value = value
        super().__init__(f"invalid {name} {value!r}; allowed: {allowed}")


class ModelNotFoundError(LprError, FileNotFoundError):
    """The OCR model folder, or a file it must contain, does not exist."""

    code = "model_not_found"

    def __init__(self, path: Path | str, missing: str) -> None:
        self.path = str(path)
        self.missing = missing
        super().__init__(f"OCR model {self.path!r}: {missing}")


class DetectorModelError(LprError, OSError):
    """The text detector's ``.onnx`` model is missing, unreadable or not a DB text detector."""

    code = "detector_model"

    def __init__(self, path: Path | str, why: str) -> None:
        self.path = str(path)
        self.why = why
        super().__init__(f"text detector model {self.path!r}: {why}")


class UnknownModelError(LprError, ValueError):
    """A hub model name that fast-plate-ocr does not know."""

    code = "unknown_model"

    def __init__(self, name: str, allowed: Iterable[str]) -> None:
        self.name = name
        super().__init__(
            f"unknown OCR model {name!r}; allowed: a folder with one .onnx and one "
            f"*plate_config*.yaml, or one of {', '.join(sorted(allowed))}"
        )


class FrameSourceError(LprError):
    """A frame source cannot be opened (missing file, unknown kind, unreadable device)."""

    code = "frame_source_error"

    def __init__(self, source: str, why: str) -> None:
        self.source = source
        super().__init__(f"cannot read frames from {source!r}: {why}")


class BadFrameError(LprError):
    """One frame cannot be decoded; sources log, count and skip it."""

    code = "bad_frame"

    def __init__(self, source: str, why: str) -> None:
        self.source = source
        super().__init__(f"bad frame {source!r}: {why}")
