"""``scancar read PATH... [--json]``: find and read the plates on images, folders and videos.

Images (and each image of a folder) give one result per image; a video gives one result per
vehicle pass (plates followed across frames and voted). Bad input (a missing path, a corrupt or
empty file, a huge image, a video that ends early) is reported with a one-line reason; the
other inputs are still read. Exit code 0 when every input was read, 1 when some could not be,
2 when the OCR model cannot be loaded.

The root CLI registers this with :func:`register`; :func:`read_command` is the plain function.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Protocol, TextIO

import typer

if TYPE_CHECKING:  # OpenCV and numpy load inside the command (``scancar.cli.root``)
    from scancar.lpr.model import PlateRead, VehiclePass
    from scancar.lpr.recognizer import PlateRecognizer

DEFAULT_MODEL = "cct-xs-v2-global-model"


class HasOcrModel(Protocol):
    """The part of the car settings this command needs (``SCANCAR_OCR_MODEL``,
    ``SCANCAR_PLATE_FINDER``, ``SCANCAR_TEXT_DETECTOR_MODEL``)."""

    @property
    def ocr_model(self) -> str: ...

    @property
    def plate_finder(self) -> str: ...

    @property
    def text_detector_model(self) -> str: ...


@dataclass(frozen=True, slots=True)
class _Item:
    path: Path
    kind: str  # "image" | "video" | "error"
    error: str | None = None


def _suffixes() -> tuple[frozenset[str], frozenset[str]]:
    """The image and the video file suffixes the frame readers take."""
    from scancar.frames.decode import IMAGE_SUFFIXES
    from scancar.frames.sources import VIDEO_SUFFIXES

    return frozenset(IMAGE_SUFFIXES), frozenset(VIDEO_SUFFIXES)


def _expand(paths: Sequence[Path], recursive: bool = False) -> Iterator[_Item]:
    images, videos = _suffixes()
    for path in paths:
        if path.is_dir():
            yield from _expand_folder(path, recursive)
        elif not path.exists():
            yield _Item(path, "error", "no such file or folder")
        elif path.suffix.lower() in videos:
            yield _Item(path, "video")
        elif path.suffix.lower() in images:
            yield _Item(path, "image")
        else:
            allowed = ", ".join(sorted(images | videos))
            yield _Item(path, "error", f"unknown file type; allowed: {allowed}, or a folder")


def _expand_folder(folder: Path, recursive: bool) -> Iterator[_Item]:
    images, _ = _suffixes()
    found = folder.rglob("*") if recursive else folder.iterdir()
    pictures = sorted(
        (p for p in found if p.is_file() and p.suffix.lower() in images),
        key=lambda p: [
            int(t) if t.isdigit() else t for t in _split_digits(str(p.relative_to(folder)))
        ],
    )
    if not pictures:
        has_subfolders = any(p.is_dir() for p in folder.iterdir())
        why = (
            "the folder holds no images, only subfolders: add -r to read them"
            if has_subfolders and not recursive
            else "the folder holds no images"
        )
        yield _Item(folder, "error", why)
    for p in pictures:
        yield _Item(p, "image")


def _split_digits(name: str) -> list[str]:
    out: list[str] = []
    for ch in name:
        if out and out[-1][-1].isdigit() == ch.isdigit():
            out[-1] += ch
        else:
            out.append(ch)
    return out


def plate_json(read: PlateRead | VehiclePass) -> dict[str, Any]:
    """The JSON form of one plate (a frame read or a vehicle pass)."""
    return {
        "plate": read.plate,
        "display": read.display,
        "country": read.country,
        "is_foreign": read.is_foreign,
        "confidence": round(read.confidence, 4),
        "char_confidences": [round(c, 4) for c in read.char_confidences],
        "valid": read.valid,
        "low_confidence": read.low_confidence,
        "sidecode": read.sidecode,
        "bbox": read.bbox.as_list(),
    }


def _table_rows(name: str, plates: list[dict[str, Any]], extra: str = "") -> list[str]:
    if not plates:
        return [f"{name}{extra}  (no plates)"]
    rows = []
    for p in plates:
        flags = ",".join(
            f for f, on in (("foreign", p["is_foreign"]), ("low-conf", p["low_confidence"])) if on
        )
        rows.append(
            f"{name}{extra}  {p['display']:<12} {p['country']:<3} "
            f"{'valid' if p['valid'] else 'INVALID':<8} sidecode {p['sidecode'] or '-':<3} "
            f"conf {p['confidence']:.2f}  {flags or '-':<17} bbox {p['bbox']}"
        )
    return rows


def _emit(out: TextIO, json_out: bool, obj: dict[str, Any], extra: str = "") -> None:
    if json_out:
        out.write(json.dumps(obj, ensure_ascii=False) + "\n")
    else:
        for row in _table_rows(str(obj["image"]), obj.get("plates", []), extra):
            out.write(row + "\n")
    out.flush()


def _read_video(
    recognizer: PlateRecognizer, path: Path, json_out: bool, out: TextIO, err: TextIO
) -> bool:
    from scancar.frames.sources import VideoSource
    from scancar.lpr.tracking import PassTracker, TrackerSettings

    source = VideoSource(str(path), camera=path.stem)
    tracker = PassTracker(TrackerSettings())

    def emit(passes: list[VehiclePass]) -> None:
        for vp in passes:
            obj = {
                "image": str(path),
                "frame": vp.overview_index,
                "captured_at": vp.overview_captured_at.isoformat(),
                "agreeing_frames": vp.agreeing_frames,
                "frames_seen": vp.frames_seen,
                "plates": [plate_json(vp)],
            }
            _emit(out, json_out, obj, f" frame {vp.overview_index}")

    frames = 0
    for frame in source:
        frames += 1
        emit(tracker.update(frame, recognizer.recognise(frame)))
    emit(tracker.flush())
    if frames == 0:
        err.write(f"error: {path}: no frame could be decoded\n")
        return False
    if source.ended_early or source.skipped:
        err.write(
            f"warning: {path}: video ended early or had unreadable frames "
            f"({frames} read, {source.skipped} skipped)\n"
        )
    return True


def build_recognizer(settings: HasOcrModel | None) -> PlateRecognizer:
    """The OCR model and the plate finder of the settings (None: the ``SCANCAR_`` environment).
    Raises ``LprError`` / ``OSError`` with one line when a model cannot be loaded."""
    from scancar.lpr.fastplate import load_plate_reader
    from scancar.lpr.finder import DEFAULT_FINDER, build_plate_finder
    from scancar.lpr.recognizer import PlateRecognizer
    from scancar.settings import local_ocr_model

    env = os.environ.get
    model = settings.ocr_model if settings else env("SCANCAR_OCR_MODEL", "")
    kind = settings.plate_finder if settings else env("SCANCAR_PLATE_FINDER", DEFAULT_FINDER)
    detector = settings.text_detector_model if settings else env("SCANCAR_TEXT_DETECTOR_MODEL", "")
    finder = build_plate_finder(kind or DEFAULT_FINDER, text_model=detector or None)
    # as the demo: the shared model folder next to the repository when nothing is set
    return PlateRecognizer(load_plate_reader(model or local_ocr_model() or DEFAULT_MODEL), finder)


def read_command(
    paths: Sequence[Path],
    json_out: bool = False,
    settings: HasOcrModel | None = None,
    *,
    recursive: bool = False,
    recognizer: PlateRecognizer | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Read every path; returns the exit code (0 all read, 1 some failed, 2 no model)."""
    from scancar.frames.decode import read_image
    from scancar.lpr.errors import BadFrameError, LprError

    out = out or sys.stdout
    err = err or sys.stderr
    if recognizer is None:
        from scancar.settings import MODEL_HINT

        try:
            recognizer = build_recognizer(settings)
        except (LprError, OSError) as exc:
            about_ocr = not any(w in str(exc).lower() for w in ("text detector", "finder"))
            err.write(f"error: {exc}" + (f"; {MODEL_HINT}\n" if about_ocr else "\n"))
            return 2
    failed = 0
    for item in _expand(paths, recursive):
        if item.kind == "error":
            failed += 1
            err.write(f"error: {item.path}: {item.error}\n")
            if json_out:
                _emit(out, True, {"image": str(item.path), "error": item.error, "plates": []})
            continue
        try:
            if item.kind == "video":
                failed += 0 if _read_video(recognizer, item.path, json_out, out, err) else 1
                continue
            image = read_image(item.path)
        except (BadFrameError, LprError) as exc:
            failed += 1
            err.write(f"error: {exc}\n")
            if json_out:
                _emit(out, True, {"image": str(item.path), "error": str(exc), "plates": []})
            continue
        reads = recognizer.recognise(image)
        _emit(out, json_out, {"image": str(item.path), "plates": [plate_json(r) for r in reads]})
    return 1 if failed else 0


def register(app: typer.Typer) -> None:
    """Add ``read`` to the root ``scancar`` command."""

    @app.command(
        "read", help="Find and read licence plates on images, folders of images or videos."
    )
    def read(
        paths: Annotated[list[Path], typer.Argument(help="images, folders of images or videos")],
        json_out: Annotated[
            bool, typer.Option("--json", help="one JSON object per line per image / pass")
        ] = False,
        recursive: Annotated[
            bool, typer.Option("--recursive", "-r", help="read the images of subfolders too")
        ] = False,
    ) -> None:
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
        raise typer.Exit(read_command(paths, json_out, None, recursive=recursive))
