"""LPR speed per plate-finder configuration, side by side in one run: 1280x720 JPEG frames with
1-3 plates through decode + find + read + vote.

Prints, for each configuration, frames/s (wall clock, two threads: decode + find one frame
ahead, OCR + rules + voting in the main thread, as the car runs it) and CPU milliseconds per
frame, with the ratios to the same run's floor: decode + one OCR call per true plate (crop from
the ground truth), nothing else. Configurations run interleaved, best of ``--rounds``, so a
load spike of the shared machine hits all alike. Also: the text detector alone per frame (one
frame, or two cameras' frames in one batch), and with 2 onnxruntime threads.

    python bench/lpr_speed.py [--frames 100] [--seed 3] [--rounds 2] [--model PATH]

Target (issue #15): the car keeps up with two cameras at 10 frames/s with margin, i.e. more
than 40 frames/s on the two cores with the learned finder on (bench/car_pipeline.py runs the
whole car).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fixtures.synth import FrameSpec, generate_frame  # noqa: E402
from fixtures.synth.dataset import frame_seed  # noqa: E402
from scancar.lpr.candidates import FinderSettings  # noqa: E402
from scancar.lpr.fastplate import FastPlateReader, load_plate_reader  # noqa: E402
from scancar.lpr.finder import OpenCvPlateFinder  # noqa: E402
from scancar.lpr.model import Frame  # noqa: E402
from scancar.lpr.ports import PlateFinder  # noqa: E402
from scancar.lpr.recognizer import PlateRecognizer  # noqa: E402
from scancar.lpr.stream import recognise_stream  # noqa: E402
from scancar.lpr.textdetect import DbTextDetector, TextDetectorSettings  # noqa: E402
from scancar.lpr.textdetect import load_text_detector as load_detector  # noqa: E402
from scancar.lpr.textfinder import CombinedPlateFinder, TextPlateFinder  # noqa: E402
from scancar.lpr.tracking import PassTracker  # noqa: E402

DEFAULT_MODEL = ROOT / ".." / "shared" / "models" / "cct-xs-v2-global-model"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
Jpegs = list[tuple[bytes, list[tuple[int, int, int, int]]]]
Timing = tuple[float, float]  # (frames per second wall clock, CPU milliseconds per frame)


def make_frames(n: int, seed: int) -> Jpegs:
    out = []
    for i in range(n):
        frame = generate_frame(FrameSpec(conditions=("clear",)), frame_seed(seed, i))
        _, buf = cv2.imencode(".jpg", frame.image, [cv2.IMWRITE_JPEG_QUALITY, 90])
        out.append((buf.tobytes(), [p.bbox for p in frame.truth.plates]))
    return out


def decoded(jpegs: Jpegs) -> Iterator[Frame]:
    for i, (data, _) in enumerate(jpegs):
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        yield Frame(image, T0 + timedelta(seconds=i / 10), "cam0", i, "bench")


def _timed(fn: Callable[[], None], n: int) -> Timing:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return n / wall, 1000.0 * cpu / n


def run_threaded(rec: PlateRecognizer, jpegs: Jpegs) -> Timing:
    def go() -> None:
        tracker = PassTracker()
        for frame, reads in recognise_stream(rec, decoded(jpegs)):
            tracker.update(frame, reads)
        tracker.flush()

    return _timed(go, len(jpegs))


def run_floor(reader: FastPlateReader, jpegs: Jpegs) -> Timing:
    def go() -> None:
        for data, boxes in jpegs:
            image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
            h, w = image.shape[:2]
            for x1, y1, x2, y2 in boxes:
                mx, my = (x2 - x1) // 12, (y2 - y1) // 5
                crop = image[max(0, y1 - my) : min(h, y2 + my), max(0, x1 - mx) : min(w, x2 + mx)]
                reader.read([crop])

    return _timed(go, len(jpegs))


def run_detector(det: DbTextDetector, images: list[np.ndarray], batch: int) -> Timing:
    def go() -> None:
        for i in range(0, len(images) - batch + 1, batch):
            det.detect_many(images[i : i + batch])

    return _timed(go, len(images) - len(images) % batch)


def configurations(text_model: str | None) -> dict[str, PlateFinder]:
    """The finder configurations compared (name -> finder)."""
    opencv = OpenCvPlateFinder(FinderSettings())

    def combined(max_side: int, roi_top: float) -> PlateFinder:
        det = load_detector(
            text_model, settings=TextDetectorSettings(max_side=max_side, roi_top=roi_top)
        )
        return CombinedPlateFinder((opencv, TextPlateFinder(det)))

    return {
        "opencv (before)": opencv,
        "text 640": TextPlateFinder(load_detector(text_model)),
        "combined 640": combined(640, 0.0),
        "combined 640 roi 0.3": combined(640, 0.3),
        "combined 512 roi 0.3": combined(512, 0.3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--model", default=os.environ.get("SCANCAR_OCR_MODEL", str(DEFAULT_MODEL)))
    parser.add_argument("--text-model", default=os.environ.get("SCANCAR_TEXT_DETECTOR_MODEL"))
    parser.add_argument("--rounds", type=int, default=2, help="best of this many runs each")
    args = parser.parse_args()

    jpegs = make_frames(args.frames, args.seed)
    plates = sum(len(b) for _, b in jpegs)
    reader = load_plate_reader(args.model, threads=1)
    recs = {
        name: PlateRecognizer(reader, finder)
        for name, finder in configurations(args.text_model).items()
    }
    print(
        f"{len(jpegs)} frames 1280x720 JPEG, {plates} plates ({plates / len(jpegs):.2f}/frame), "
        f"{os.cpu_count()} CPUs, OCR and detector threads 1; load average before: "
        f"{os.getloadavg()[0]:.2f} (a shared machine: compare the ratios, not the figures)"
    )
    run_floor(reader, jpegs[:5])  # warm-up
    for rec in recs.values():
        run_threaded(rec, jpegs[:5])
    results: dict[str, list[Timing]] = {"floor": [], **{k: [] for k in recs}}
    for _ in range(args.rounds):
        results["floor"].append(run_floor(reader, jpegs))
        for name, rec in recs.items():
            results[name].append(run_threaded(rec, jpegs))
    best = {k: (max(f for f, _ in v), min(c for _, c in v)) for k, v in results.items()}
    floor_fps, floor_cpu = best["floor"]
    print(f"load average (1 min) after the run: {os.getloadavg()[0]:.2f}")
    for name, (fps, cpu) in best.items():
        label = "floor (decode + 1 OCR per true plate)" if name == "floor" else name
        print(
            f"{label:<38} {fps:6.1f} frames/s (x{fps / floor_fps:.2f} of the floor)   "
            f"CPU {cpu:5.1f} ms/frame (x{cpu / floor_cpu:.2f})   "
            f"-> {2000.0 / cpu:5.1f} frames/s if both cores were free"
        )

    images = [f.image for f in decoded(jpegs[:40])]
    print("text detector alone (CPU ms per frame):")
    for label, threads, batch in (
        ("1 thread", 1, 1),
        ("2 cameras batched", 1, 2),
        ("2 threads", 2, 1),
    ):
        det = load_detector(args.text_model, threads=threads)
        run_detector(det, images[:4], batch)
        _, cpu = min(
            (run_detector(det, images, batch) for _ in range(args.rounds)), key=lambda t: t[1]
        )
        print(f"  640 px, {label:<18} CPU {cpu:5.1f} ms/frame")


if __name__ == "__main__":
    main()
