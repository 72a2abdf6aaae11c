"""LPR accuracy: synthetic frames per condition, and the real Dutch development frames.

Per frame, a true plate counts as *exact* when it is among the frame's hit-eligible reads
(valid for its country and no character below the confidence floor). A *wrong-but-valid* read
is a hit-eligible read whose plate is not in the frame: the dangerous error (an innocent
citizen's plate). *Missed* plates are readable true plates that are not read exactly.

    python bench/lpr_accuracy.py [--per-condition 40] [--seed 7] [--model PATH] [--verbose]

Targets: real Dutch frames >= 95% exact and 0 wrong-but-valid; synthetic clear >= 99%,
degraded >= 90%, wrong-but-valid <= 0.2% of hit-eligible reads.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fixtures.synth import (  # noqa: E402
    CONDITIONS,
    DEGRADED_CONDITIONS,
    FrameSpec,
    generate_frame,
    render_vehicle_pass,
)
from fixtures.synth.dataset import encode_jpeg, frame_seed  # noqa: E402
from scancar.lpr.fastplate import load_plate_reader  # noqa: E402
from scancar.lpr.model import Frame  # noqa: E402
from scancar.lpr.recognizer import PlateRecognizer, RecognizerSettings  # noqa: E402
from scancar.lpr.tracking import PassTracker  # noqa: E402

SHARED = ROOT / ".." / "shared"
DEV = SHARED / "data" / "plates-nl-dev"
DEFAULT_MODEL = SHARED / "models" / "cct-xs-v2-global-model"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass
class Tally:
    frames: int = 0
    plates: int = 0
    exact: int = 0
    eligible_reads: int = 0
    wrong_valid: int = 0
    wrong_low_conf: int = 0  # valid text not in the frame, but low confidence (not a hit)
    examples: list[str] = field(default_factory=list)

    def add(
        self, truths: set[str], readable: set[str], reads: list[tuple[str, bool, bool]]
    ) -> None:
        self.frames += 1
        self.plates += len(readable)
        eligible = {p for p, valid, low in reads if valid and not low}
        self.exact += len(readable & eligible)
        self.eligible_reads += sum(1 for _, valid, low in reads if valid and not low)
        wrong = [p for p in eligible if p not in truths]
        self.wrong_valid += len(wrong)
        self.wrong_low_conf += sum(1 for p, v, low in reads if v and low and p not in truths)
        missed = readable - eligible
        if (wrong or missed) and len(self.examples) < 12:
            self.examples.append(f"truth={sorted(truths)} wrong={wrong} missed={sorted(missed)}")

    def row(self, name: str) -> str:
        exact = 100.0 * self.exact / self.plates if self.plates else float("nan")
        wrong = 100.0 * self.wrong_valid / self.eligible_reads if self.eligible_reads else 0.0
        return (
            f"{name:<14} frames {self.frames:>4}  plates {self.plates:>4}  exact {exact:6.1f}%  "
            f"missed {self.plates - self.exact:>4}  wrong-but-valid {self.wrong_valid:>3} "
            f"({wrong:.2f}% of {self.eligible_reads} hit reads)  "
            f"low-conf wrong {self.wrong_low_conf}"
        )


def run_synthetic(
    rec: PlateRecognizer, per_condition: int, seed: int, verbose: bool, only: set[str]
) -> None:
    print(f"== synthetic frames (1280x720 JPEG, {per_condition} per condition, seed {seed}) ==")
    totals = {"clear-like": Tally(), "degraded": Tally(), "all": Tally()}
    for ci, condition in enumerate(CONDITIONS):
        if only and condition not in only:
            continue
        tally = Tally()
        for i in range(per_condition):
            frame = generate_frame(
                FrameSpec(conditions=(condition,)), frame_seed(seed, ci * 10_000 + i)
            )
            image = cv2.imdecode(np.frombuffer(encode_jpeg(frame), np.uint8), cv2.IMREAD_COLOR)
            reads = [(r.plate, r.valid, r.low_confidence) for r in rec.recognise(image)]
            truths = {p.text for p in frame.truth.plates}
            readable = {p.text for p in frame.truth.plates if p.readable}
            tally.add(truths, readable, reads)
            group = "degraded" if condition in DEGRADED_CONDITIONS else "clear-like"
            totals[group].add(truths, readable, reads)
            totals["all"].add(truths, readable, reads)
        print(tally.row(condition))
        if verbose:
            for e in tally.examples:
                print("    ", e)
    for name, tally in totals.items():
        print(tally.row(name))


def run_passes(rec: PlateRecognizer, n_passes: int, seed: int) -> None:
    """Vehicle passes (render_vehicle_pass): one voted read per car through PassTracker."""
    print(f"== synthetic vehicle passes ({n_passes} per condition, voted by PassTracker) ==")
    for ci, condition in enumerate(("clear", "blur", "low_light", "glare", "dirt", "far")):
        cars = exact = wrong = eligible = 0
        for k in range(n_passes):
            frames = render_vehicle_pass(frame_seed(seed, 900_000 + ci * 1000 + k),
                                         conditions=(condition,))  # fmt: skip
            tracker = PassTracker()
            passes = []
            truths: set[str] = set()
            for i, f in enumerate(frames):
                image = cv2.imdecode(np.frombuffer(encode_jpeg(f), np.uint8), cv2.IMREAD_COLOR)
                frame = Frame(image, T0 + timedelta(seconds=i / 10), "cam", i, "synth")
                passes += tracker.update(frame, rec.recognise(frame))
                truths |= {p.text for p in f.truth.plates}
            passes += tracker.flush()
            target = frames[0].truth.plates[0].text
            hits = {p.plate for p in passes if p.is_hit_eligible}
            cars += 1
            exact += target in hits
            eligible += len(hits)
            wrong += len(hits - truths)
        print(
            f"{condition:<14} passes {cars:>4}  target car read {100.0 * exact / cars:6.1f}%  "
            f"wrong-but-valid passes {wrong} of {eligible} hit passes"
        )


def run_real(rec: PlateRecognizer, verbose: bool) -> None:
    labels = DEV / "labels.csv"
    if not labels.is_file():
        print(f"== real Dutch frames: {labels} not found, skipped ==")
        return
    by_image: dict[str, list[str]] = defaultdict(list)
    with labels.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            by_image[row["image"]].append(row["plate_text"])
    for kind in ("localisationFrames", "recognitionPlates"):
        tally = Tally()
        for image, plates in by_image.items():
            if kind not in image:
                continue
            reads = rec.recognise(cv2.imread(str(DEV / image)))
            tally.add(
                set(plates), set(plates), [(r.plate, r.valid, r.low_confidence) for r in reads]
            )
        label = "frames" if kind == "localisationFrames" else "tight crops"
        print(f"== real Dutch development set: {label} ==")
        print(tally.row("real " + label.split(maxsplit=1)[0]))
        if verbose:
            for e in tally.examples:
                print("    ", e)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-condition", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--model", default=os.environ.get("SCANCAR_OCR_MODEL", str(DEFAULT_MODEL)))
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--skip-synthetic", action="store_true")
    parser.add_argument("--skip-real", action="store_true")
    parser.add_argument("--conditions", default="", help="comma-separated subset")
    parser.add_argument("--passes", type=int, default=15, help="vehicle passes per condition")
    parser.add_argument("--min-char-blobs", type=int, default=None)
    parser.add_argument("--char-floor", type=float, default=None)
    args = parser.parse_args()
    settings = RecognizerSettings()
    if args.min_char_blobs is not None:
        settings = replace(
            settings, finder=replace(settings.finder, min_char_blobs=args.min_char_blobs)
        )
    if args.char_floor is not None:
        settings = replace(settings, rules=replace(settings.rules, char_floor=args.char_floor))
    rec = PlateRecognizer(load_plate_reader(args.model), settings=settings)
    if not args.skip_real:
        run_real(rec, args.verbose)
    if not args.skip_synthetic:
        only = {c for c in args.conditions.split(",") if c}
        run_synthetic(rec, args.per_condition, args.seed, args.verbose, only)
        if args.passes:
            run_passes(rec, args.passes, args.seed)


if __name__ == "__main__":
    main()
