"""LPR speed: 1280x720 JPEG frames with 1-3 plates through decode + find + read + vote.

Prints, in one run on this machine:

* pipeline fps, sequential (one thread);
* pipeline fps, two threads (decode + candidates one frame ahead, OCR + rules + voting in the
  main thread: :func:`scancar.lpr.stream.recognise_stream`);
* the floor: decode + one OCR call per true plate (crop from the ground truth), nothing else;
* the ratios pipeline / floor.

    python bench/lpr_speed.py [--frames 150] [--seed 3] [--model PATH]

Target: >= 60 frames/s and >= 0.5 of the floor.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fixtures.synth import FrameSpec, generate_frame  # noqa: E402
from fixtures.synth.dataset import frame_seed  # noqa: E402
from scancar.lpr.fastplate import FastPlateReader, load_plate_reader  # noqa: E402
from scancar.lpr.model import Frame  # noqa: E402
from scancar.lpr.recognizer import PlateRecognizer  # noqa: E402
from scancar.lpr.stream import recognise_stream  # noqa: E402
from scancar.lpr.tracking import PassTracker  # noqa: E402

DEFAULT_MODEL = ROOT / ".." / "shared" / "models" / "cct-xs-v2-global-model"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def make_frames(n: int, seed: int) -> list[tuple[bytes, list[tuple[int, int, int, int]]]]:
    out = []
    for i in range(n):
        frame = generate_frame(FrameSpec(conditions=("clear",)), frame_seed(seed, i))
        _, buf = cv2.imencode(".jpg", frame.image, [cv2.IMWRITE_JPEG_QUALITY, 90])
        out.append((buf.tobytes(), [p.bbox for p in frame.truth.plates]))
    return out


def decoded(jpegs: list[tuple[bytes, list[tuple[int, int, int, int]]]]) -> Iterator[Frame]:
    for i, (data, _) in enumerate(jpegs):
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        yield Frame(image, T0 + timedelta(seconds=i / 10), "cam0", i, "bench")


def run_sequential(rec: PlateRecognizer, jpegs: list) -> float:
    tracker = PassTracker()
    t = time.perf_counter()
    for frame in decoded(jpegs):
        tracker.update(frame, rec.recognise(frame))
    tracker.flush()
    return len(jpegs) / (time.perf_counter() - t)


def run_threaded(rec: PlateRecognizer, jpegs: list) -> float:
    tracker = PassTracker()
    t = time.perf_counter()
    for frame, reads in recognise_stream(rec, decoded(jpegs)):
        tracker.update(frame, reads)
    tracker.flush()
    return len(jpegs) / (time.perf_counter() - t)


def run_floor(reader: FastPlateReader, jpegs: list) -> float:
    t = time.perf_counter()
    for data, boxes in jpegs:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        h, w = image.shape[:2]
        for x1, y1, x2, y2 in boxes:
            mx, my = (x2 - x1) // 12, (y2 - y1) // 5
            crop = image[max(0, y1 - my) : min(h, y2 + my), max(0, x1 - mx) : min(w, x2 + mx)]
            reader.read([crop])
    return len(jpegs) / (time.perf_counter() - t)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=150)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--model", default=os.environ.get("SCANCAR_OCR_MODEL", str(DEFAULT_MODEL)))
    parser.add_argument("--rounds", type=int, default=3, help="best of this many runs each")
    args = parser.parse_args()

    jpegs = make_frames(args.frames, args.seed)
    plates = sum(len(b) for _, b in jpegs)
    reader = load_plate_reader(args.model, threads=1)
    rec = PlateRecognizer(reader)
    print(
        f"{len(jpegs)} frames 1280x720 JPEG, {plates} plates ({plates / len(jpegs):.2f}/frame), "
        f"{os.cpu_count()} CPUs, OCR threads 1"
    )
    run_floor(reader, jpegs[:10])  # warm-up
    run_sequential(rec, jpegs[:10])
    floor = max(run_floor(reader, jpegs) for _ in range(args.rounds))
    seq = max(run_sequential(rec, jpegs) for _ in range(args.rounds))
    thr = max(run_threaded(rec, jpegs) for _ in range(args.rounds))
    print(f"floor (decode + 1 OCR per true plate): {floor:7.1f} frames/s")
    print(
        f"pipeline, 1 thread  (decode+find+read+vote): {seq:7.1f} frames/s  ratio {seq / floor:.2f}"
    )
    print(
        f"pipeline, 2 threads (decode+find | read+vote): {thr:7.1f} frames/s  "
        f"ratio {thr / floor:.2f}"
    )
    print(
        f"target: >= 60 frames/s and >= 0.5 of the floor -> "
        f"{'MET' if thr >= 60 and thr / floor >= 0.5 else 'NOT MET'}"
    )


if __name__ == "__main__":
    main()
