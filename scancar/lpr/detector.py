"""Optional ONNX plate detector (off by default): a :class:`~scancar.lpr.ports.PlateFinder`.

No detector ships with the project (see ``../shared/models/PROVENANCE.md``). A model plugged in
here must follow the format of the open-image-models YOLO "end2end" plate detectors:

* **input**: one tensor, float32 ``[1, 3, S, S]`` (NCHW), RGB scaled to 0..1, the frame
  letterboxed into ``S x S`` (aspect kept, centred, padding grey 114/255). ``S`` is read from
  the model's input shape (a fixed size such as 384 or 640).
* **output**: the first output, float32 ``[N, 7]`` (or ``[1, N, 7]``), one row per plate:
  ``[batch, x1, y1, x2, y2, class, score]`` in letterboxed input pixels, non-maximum
  suppression already done inside the model.

Boxes are mapped back to frame pixels; rows below ``min_score`` are dropped. Turn it on by
passing ``OnnxPlateDetector`` as the ``finder`` of :class:`~scancar.lpr.recognizer.PlateRecognizer`
(``load_plate_detector(path)``); the OCR and the plate rules still verify every box.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np
import numpy.typing as npt

from scancar.lpr.candidates import to_bgr
from scancar.lpr.errors import InvalidSettingError, ModelNotFoundError
from scancar.lpr.model import BBox, Candidate, Image

PAD_VALUE = 114


class OnnxSession(Protocol):
    """The part of ``onnxruntime.InferenceSession`` the detector uses."""

    def get_inputs(self) -> list[Any]: ...

    def run(self, output_names: list[str] | None, feed: dict[str, Any]) -> list[Any]: ...


@dataclass(frozen=True, slots=True)
class Letterbox:
    scale: float
    pad_x: int
    pad_y: int


def letterbox(image: Image, size: int) -> tuple[npt.NDArray[np.float32], Letterbox]:
    """The model input ``[1, 3, size, size]`` float32 RGB 0..1 and how to undo the letterbox."""
    bgr = to_bgr(image)
    h, w = bgr.shape[:2]
    scale = min(size / w, size / h)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    canvas = np.full((size, size, 3), PAD_VALUE, dtype=np.uint8)
    pad_x, pad_y = (size - nw) // 2, (size - nh) // 2
    canvas[pad_y : pad_y + nh, pad_x : pad_x + nw] = cv2.resize(bgr, (nw, nh))
    rgb = cv2.cvtColor(canvas, cv2.COLOR_BGR2RGB)
    tensor = (rgb.astype(np.float32) / 255.0).transpose(2, 0, 1)[np.newaxis]
    return np.ascontiguousarray(tensor), Letterbox(scale, pad_x, pad_y)


def boxes_from_output(
    rows: npt.NDArray[np.float32], box: Letterbox, width: int, height: int, min_score: float
) -> list[Candidate]:
    """Detector rows ``[batch, x1, y1, x2, y2, class, score]`` -> candidates in frame pixels."""
    out: list[Candidate] = []
    for row in np.asarray(rows, dtype=np.float32).reshape(-1, 7):
        score = float(row[6])
        if score < min_score:
            continue
        x1 = (float(row[1]) - box.pad_x) / box.scale
        y1 = (float(row[2]) - box.pad_y) / box.scale
        x2 = (float(row[3]) - box.pad_x) / box.scale
        y2 = (float(row[4]) - box.pad_y) / box.scale
        ix1, iy1 = max(0, int(x1)), max(0, int(y1))
        ix2, iy2 = min(width, int(np.ceil(x2))), min(height, int(np.ceil(y2)))
        if ix2 > ix1 and iy2 > iy1:
            out.append(Candidate(BBox(ix1, iy1, ix2, iy2), score, "detector"))
    return sorted(out, key=lambda c: c.score, reverse=True)


class OnnxPlateDetector:
    def __init__(self, session: OnnxSession, min_score: float = 0.4, max_candidates: int = 8):
        if not 0.0 <= min_score <= 1.0:
            raise InvalidSettingError("detector min_score", min_score, "0.0..1.0")
        self._session = session
        inp = session.get_inputs()[0]
        self._input = str(inp.name)
        shape = list(inp.shape)
        size = shape[-1]
        if not isinstance(size, int) or shape[-2] != size or shape[1] != 3:
            raise InvalidSettingError(
                "detector input shape", shape, "[1, 3, S, S] with a fixed size S"
            )
        self.size = size
        self.min_score = min_score
        self.max_candidates = max_candidates

    def find(self, image: Image) -> list[Candidate]:
        tensor, box = letterbox(image, self.size)
        rows = self._session.run(None, {self._input: tensor})[0]
        h, w = image.shape[:2]
        return boxes_from_output(rows, box, w, h, self.min_score)[: self.max_candidates]


def load_plate_detector(path: str | Path, min_score: float = 0.4) -> OnnxPlateDetector:
    """An :class:`OnnxPlateDetector` from an ``.onnx`` file (CPU, one thread)."""
    import onnxruntime as ort  # noqa: PLC0415 - only when the optional detector is used

    model = Path(path)
    if not model.is_file():
        raise ModelNotFoundError(model, "no such detector .onnx file")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    session = ort.InferenceSession(str(model), opts, providers=["CPUExecutionProvider"])
    return OnnxPlateDetector(session, min_score)
