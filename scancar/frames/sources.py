"""OpenCV frame sources. Each yields :class:`~scancar.lpr.model.Frame` objects with a
timezone-aware UTC time and a camera id; a frame that cannot be read is logged, counted in
``skipped`` and skipped.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np

from scancar.frames.decode import DEFAULT_MAX_PIXELS, IMAGE_SUFFIXES, read_image
from scancar.frames.timestamps import capture_time_with_source
from scancar.lpr.errors import BadFrameError, FrameSourceError, InvalidSettingError
from scancar.lpr.model import Frame

log = logging.getLogger(__name__)

VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mkv", ".mov", ".m4v", ".webm", ".mjpeg", ".mjpg"})
_STREAM_SCHEMES = ("rtsp://", "rtsps://", "http://", "https://")


def is_live_spec(spec: str) -> bool:
    """A camera device (``0``, ``/dev/video0``) or a stream URL, as opposed to a recording."""
    return spec.isdigit() or spec.startswith("/dev/") or spec.lower().startswith(_STREAM_SCHEMES)


def _natural_key(path: Path) -> list[object]:
    return [int(p) if p.isdigit() else p.lower() for p in re.split(r"(\d+)", path.name)]


def _check_fps(fps: float | None) -> None:
    if fps is not None and not 0.0 < fps <= 1000.0:
        raise InvalidSettingError("fps", fps, "0 < fps <= 1000")


class ImageFilesSource:
    """Image files in the given order. Times come from a sidecar/file name/EXIF, else from
    ``start + index / fps``, else from the file's modification time."""

    def __init__(
        self,
        paths: Sequence[Path],
        camera: str = "cam0",
        *,
        start: datetime | None = None,
        fps: float | None = None,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        name: str | None = None,
    ) -> None:
        _check_fps(fps)
        if start is not None and start.tzinfo is None:
            raise InvalidSettingError("start", start, "a timezone-aware time")
        self.paths = list(paths)
        self.camera = camera
        self.start = start
        self.fps = fps
        self.max_pixels = max_pixels
        self.name = name or (str(self.paths[0]) if self.paths else "<no images>")
        self._skipped = 0
        self.time_sources: Counter[str] = Counter()  # where frame times came from

    @property
    def skipped(self) -> int:
        return self._skipped

    def time_span(self) -> tuple[datetime, datetime] | None:
        """The capture times of the first and last image (None: no images), without
        decoding any."""
        if not self.paths:
            return None
        return self._time_of(self.paths[0], 0), self._time_of(self.paths[-1], len(self.paths) - 1)

    def _time_of(self, path: Path, index: int) -> datetime:
        found = capture_time_with_source(path)
        if found is not None:
            self.time_sources[found[1]] += 1
            return found[0]
        if self.start is not None:
            self.time_sources["start+fps"] += 1
            return self.start + timedelta(seconds=index / (self.fps or 1.0))
        self.time_sources["modification time"] += 1
        return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)

    def __iter__(self) -> Iterator[Frame]:
        for index, path in enumerate(self.paths):
            try:
                image = read_image(path, self.max_pixels)
                captured_at = self._time_of(path, index)
            except (BadFrameError, OSError) as exc:
                self._skipped += 1
                log.warning("skipped frame %d of %s: %s", index, self.name, exc)
                continue
            yield Frame(image, captured_at, self.camera, index, str(path))


class ImageFolderSource(ImageFilesSource):
    """The images of a folder, in natural name order (``2.jpg`` before ``10.jpg``)."""

    def __init__(
        self,
        folder: Path,
        camera: str = "cam0",
        *,
        start: datetime | None = None,
        fps: float | None = None,
        max_pixels: int = DEFAULT_MAX_PIXELS,
    ) -> None:
        if not folder.is_dir():
            raise FrameSourceError(str(folder), "no such folder")
        paths = sorted(
            (p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()),
            key=_natural_key,
        )
        super().__init__(
            paths, camera, start=start, fps=fps, max_pixels=max_pixels, name=str(folder)
        )


class VideoSource:
    """A video file, camera device (``"0"``) or stream URL through ``cv2.VideoCapture``.

    File times are ``start`` (default: the file's modification time) plus the frame's position;
    live sources are stamped with the UTC clock when the frame arrived (after ``grab``, before
    decoding). Streams open and read with ``timeout_s`` bounds. A file that ends before its
    announced frame count is reported in the log (``ended_early``).
    """

    def __init__(
        self,
        spec: str,
        camera: str = "cam0",
        start: datetime | None = None,
        max_failed_reads: int = 25,
        timeout_s: float = 5.0,
    ) -> None:
        if start is not None and start.tzinfo is None:
            raise InvalidSettingError("start", start, "a timezone-aware time")
        self.spec = spec
        self.timeout_s = timeout_s
        self.camera = camera
        self.is_live = is_live_spec(spec)
        if not self.is_live and not Path(spec).is_file():
            raise FrameSourceError(spec, "no such video file")
        self.start = start
        self.max_failed_reads = max_failed_reads
        self._skipped = 0
        self.ended_early = False

    @property
    def skipped(self) -> int:
        return self._skipped

    def _open(self) -> cv2.VideoCapture:
        if self.spec.isdigit():
            cap = cv2.VideoCapture(int(self.spec))
        elif self.spec.startswith("/dev/"):
            cap = cv2.VideoCapture(self.spec, cv2.CAP_V4L2)
        elif self.is_live:  # a stream: bounded waits, so a dead camera is noticed
            cap = cv2.VideoCapture(
                self.spec,
                cv2.CAP_FFMPEG,
                [
                    cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
                    int(self.timeout_s * 1000),
                    cv2.CAP_PROP_READ_TIMEOUT_MSEC,
                    int(self.timeout_s * 1000),
                ],
            )
        else:
            cap = cv2.VideoCapture(self.spec)
        if not cap.isOpened():
            cap.release()
            raise FrameSourceError(self.spec, "OpenCV cannot open it (not a video or unreachable)")
        return cap

    def __iter__(self) -> Iterator[Frame]:
        cap = self._open()
        try:
            start = self.start
            if start is None and not self.is_live:
                start = datetime.fromtimestamp(Path(self.spec).stat().st_mtime, tz=UTC)
            announced = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) if not self.is_live else 0
            fps = float(cap.get(cv2.CAP_PROP_FPS)) or 25.0
            index = 0
            failed = 0
            while True:
                ok = cap.grab()  # returns when the frame is there: stamp before decoding
                arrived = datetime.now(tz=UTC)
                image = cap.retrieve()[1] if ok else None
                if not ok or image is None:
                    if self.is_live and failed < self.max_failed_reads:
                        failed += 1
                        self._skipped += 1
                        index += 1
                        continue
                    break
                failed = 0
                if self.is_live or start is None:
                    captured_at = arrived
                else:
                    msec = float(cap.get(cv2.CAP_PROP_POS_MSEC))
                    offset = msec / 1000.0 if msec > 0 else index / fps
                    captured_at = start + timedelta(seconds=offset)
                yield Frame(
                    np.asarray(image, dtype=np.uint8), captured_at, self.camera, index, self.spec
                )
                index += 1
            if announced > 0 and index < announced - 1:
                self.ended_early = True
                log.warning(
                    "video %s ended after %d of its %d announced frames",
                    self.spec,
                    index,
                    announced,
                )
        finally:
            cap.release()


def open_frame_source(
    spec: str,
    camera: str = "cam0",
    start: datetime | None = None,
    fps: float | None = None,
) -> ImageFilesSource | VideoSource:
    """A source for a folder of images, an image file, a video file, a device number or a URL."""
    if spec.isdigit() or spec.lower().startswith(_STREAM_SCHEMES):
        return VideoSource(spec, camera, start)
    path = Path(spec)
    if path.is_dir():
        return ImageFolderSource(path, camera, start=start, fps=fps)
    if not path.exists():
        raise FrameSourceError(spec, "no such file or folder")
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        return ImageFilesSource([path], camera, start=start, fps=fps)
    if suffix in VIDEO_SUFFIXES:
        return VideoSource(spec, camera, start)
    allowed = ", ".join(sorted(IMAGE_SUFFIXES | VIDEO_SUFFIXES))
    raise FrameSourceError(spec, f"unknown file type {suffix or '(none)'!r}; allowed: {allowed}")
