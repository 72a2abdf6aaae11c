"""The fast-plate-ocr adapter: the only module that imports ``fast_plate_ocr``.

``load_plate_reader`` accepts either a local folder holding exactly one ``.onnx`` model and one
``*plate_config*.yaml`` (the layout of fast-plate-ocr's cache directory), or a hub model name
(downloaded into ``~/.cache/fast-plate-ocr`` on first use).
"""

from __future__ import annotations

import typing
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort
from fast_plate_ocr import LicensePlateRecognizer
from fast_plate_ocr.inference.hub import OcrModel

from scancar.lpr.errors import InvalidSettingError, ModelNotFoundError, UnknownModelError
from scancar.lpr.model import Image, OcrText

HUB_MODELS: tuple[str, ...] = typing.get_args(OcrModel)


class FastPlateReader:
    """Reads plate crops (BGR) with a fast-plate-ocr ONNX model, in one batch per call."""

    def __init__(self, recognizer: LicensePlateRecognizer, name: str) -> None:
        self._recognizer = recognizer
        self.name = name
        config = recognizer.config
        self._pad = str(config.pad_char)
        self._max_slots = int(config.max_plate_slots)
        self._rgb = config.image_color_mode == "rgb"

    def read(self, crops: Sequence[Image]) -> list[OcrText]:
        """One :class:`OcrText` per crop, in order. Empty input gives an empty list."""
        if not crops:
            return []
        inputs = [
            cv2.cvtColor(c, cv2.COLOR_BGR2RGB) if self._rgb else cv2.cvtColor(c, cv2.COLOR_BGR2GRAY)
            for c in crops
        ]
        preds = self._recognizer.run(inputs, return_confidence=True, remove_pad_char=False)
        out: list[OcrText] = []
        for pred in preds:
            probs = (
                np.asarray(pred.char_probs, dtype=np.float64)
                if pred.char_probs is not None
                else np.ones(len(pred.plate))
            )
            chars: list[str] = []
            confs: list[float] = []
            length_conf = 1.0
            for ch, p in zip(pred.plate, probs, strict=False):
                if ch == self._pad:
                    length_conf = float(p)
                    break
                chars.append(ch)
                confs.append(float(p))
            out.append(
                OcrText(
                    text="".join(chars),
                    char_confidences=tuple(round(c, 4) for c in confs),
                    length_confidence=round(length_conf, 4),
                    region=pred.region,
                    region_confidence=(
                        round(float(pred.region_prob), 4) if pred.region_prob is not None else None
                    ),
                )
            )
        return out


def _session_options(threads: int) -> ort.SessionOptions:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    return opts


def load_plate_reader(model: str, threads: int = 1) -> FastPlateReader:
    """Build a :class:`FastPlateReader` from a model folder or a fast-plate-ocr hub name.

    Raises :class:`ModelNotFoundError` naming the path and what is missing, or
    :class:`UnknownModelError` for a name that is neither a folder nor a hub model.
    """
    if not 1 <= threads <= 64:
        raise InvalidSettingError("ocr threads", threads, "1..64")
    path = Path(model).expanduser()
    looks_like_path = path.is_absolute() or model.startswith(".") or "/" in model or path.exists()
    if looks_like_path:
        if not path.is_dir():
            raise ModelNotFoundError(path, "no such folder")
        onnx = sorted(path.glob("*.onnx"))
        configs = sorted(path.glob("*plate_config*.yaml"))
        if len(onnx) != 1:
            raise ModelNotFoundError(path, f"expected exactly one .onnx file, found {len(onnx)}")
        if len(configs) != 1:
            raise ModelNotFoundError(
                path, f"expected exactly one *plate_config*.yaml file, found {len(configs)}"
            )
        recognizer = LicensePlateRecognizer(
            onnx_model_path=onnx[0],
            plate_config_path=configs[0],
            device="cpu",
            sess_options=_session_options(threads),
        )
        return FastPlateReader(recognizer, onnx[0].stem)
    if model not in HUB_MODELS:
        raise UnknownModelError(model, HUB_MODELS)
    try:
        recognizer = LicensePlateRecognizer(
            typing.cast(OcrModel, model), device="cpu", sess_options=_session_options(threads)
        )
    except OSError as exc:  # not cached and the download failed
        raise ModelNotFoundError(
            model, f"hub model is not in the cache and cannot be downloaded ({exc})"
        ) from exc
    return FastPlateReader(recognizer, model)
