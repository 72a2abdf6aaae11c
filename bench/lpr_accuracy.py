"""LPR accuracy per plate finder, side by side: synthetic frames per condition, vehicle passes,
and the real Dutch development frames.

Per frame, a true plate counts as *exact* when it is among the frame's hit-eligible reads
(valid for its country and no character below the confidence floor). A *wrong-but-valid* read
is a hit-eligible read whose plate is not in the frame: the dangerous error (an innocent
citizen's plate). *Missed* plates are readable true plates that are not read exactly. *Sign
reads* are reads on distractor text (shop and street signs, dealer frames, stickers, badges)
away from any true plate; the hit-eligible ones among them are wrong-but-valid too.

    python bench/lpr_accuracy.py [--finders opencv,combined] [--per-condition 40] [--seed 7]
                                 [--model PATH] [--verbose] [--conditions clear,night]

Every finder reads the same frames in the same run; the first finder is the "before" column.
Targets (issue #15): real Dutch frames every plate, 0 wrong; synthetic clear >= 99.5 %,
degraded >= 97 %, two-line >= 95 %, night/IR >= 90 %, wrong-but-valid <= 0.1 %.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fixtures.synth import (  # noqa: E402
    CONDITIONS,
    DEGRADED_CONDITIONS,
    FOREIGN_STYLES,
    FrameSpec,
    FrameTruth,
    PlateRequest,
    generate_frame,
    random_plate_text,
    render_vehicle_pass,
)
from fixtures.synth.dataset import encode_jpeg, frame_seed  # noqa: E402
from fixtures.synth.plates import TWO_LINE_STYLES  # noqa: E402
from scancar.lpr.fastplate import load_plate_reader  # noqa: E402
from scancar.lpr.finder import (  # noqa: E402
    DEFAULT_DETECTOR_EVERY,
    DEFAULT_DETECTOR_ROI_TOP,
    DEFAULT_DETECTOR_SIZE,
    DEFAULT_FINDER,
    FINDER_KINDS,
    build_plate_finder,
)
from scancar.lpr.model import BBox, Frame, PlateRead  # noqa: E402
from scancar.lpr.recognizer import PlateRecognizer  # noqa: E402
from scancar.lpr.tracking import PassTracker  # noqa: E402

SHARED = ROOT / ".." / "shared"
DEV = SHARED / "data" / "plates-nl-dev"
DEFAULT_MODEL = SHARED / "models" / "cct-xs-v2-global-model"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NIGHT = ("low_light", "ir", "night")
GROUPS = {
    "clear-like": lambda c: c not in DEGRADED_CONDITIONS,
    "degraded": lambda c: c in DEGRADED_CONDITIONS,
    "night/IR": lambda c: c in NIGHT,
    "all": lambda _c: True,
}
TARGETS = {"clear": 99.5, "degraded": 97.0, "two_line": 95.0, "night/IR": 90.0}


@dataclass
class Tally:
    frames: int = 0
    plates: int = 0
    exact: int = 0
    eligible_reads: int = 0
    wrong_valid: int = 0
    wrong_low_conf: int = 0  # valid text not in the frame, but low confidence (not a hit)
    sign_reads: int = 0
    sign_hits: int = 0
    examples: list[str] = field(default_factory=list)

    def add(self, truth: FrameTruth | None, plates: set[str], reads: list[PlateRead]) -> None:
        truths = {p.text for p in truth.plates} if truth else plates
        readable = {p.text for p in truth.plates if p.readable} if truth else plates
        self.frames += 1
        self.plates += len(readable)
        eligible = {r.plate for r in reads if r.is_hit_eligible}
        self.exact += len(readable & eligible)
        self.eligible_reads += sum(1 for r in reads if r.is_hit_eligible)
        wrong = [p for p in eligible if p not in truths]
        self.wrong_valid += len(wrong)
        self.wrong_low_conf += sum(
            1 for r in reads if r.valid and r.low_confidence and r.plate not in truths
        )
        if truth is not None:
            for r in _on_signs(truth, reads):
                self.sign_reads += 1
                self.sign_hits += r.is_hit_eligible
        missed = readable - eligible
        if (wrong or missed) and len(self.examples) < 12:
            self.examples.append(f"truth={sorted(truths)} wrong={wrong} missed={sorted(missed)}")

    @property
    def rate(self) -> float:
        return 100.0 * self.exact / self.plates if self.plates else float("nan")

    def cell(self) -> str:
        return f"{self.rate:5.1f}% {self.plates - self.exact:>3} miss {self.wrong_valid:>2} wrong"


def _on_signs(truth: FrameTruth, reads: list[PlateRead]) -> list[PlateRead]:
    plates = [BBox(*p.bbox) for p in truth.plates if p.bbox[2] > p.bbox[0]]
    signs = [BBox(*d.bbox) for d in truth.distractors if d.bbox[2] > d.bbox[0]]
    return [
        r
        for r in reads
        if any(r.bbox.overlap_of_smaller(s) >= 0.5 for s in signs)
        and all(r.bbox.overlap_of_smaller(p) < 0.3 for p in plates)
    ]


def _decoded(frame) -> np.ndarray:  # type: ignore[no-untyped-def]
    return cv2.imdecode(np.frombuffer(encode_jpeg(frame), np.uint8), cv2.IMREAD_COLOR)


def _print_rows(names: list[str], rows: dict[str, dict[str, Tally]]) -> None:
    print(f"{'set':<14}" + "".join(f"{n:>34}" for n in names))
    for key, per in rows.items():
        print(f"{key:<14}" + "".join(f"{per[n].cell():>34}" for n in names))


def run_synthetic(
    recs: dict[str, PlateRecognizer], per_condition: int, seed: int, verbose: bool, only: set[str]
) -> None:
    names = list(recs)
    print(f"== synthetic frames (1280x720 JPEG, {per_condition} per condition, seed {seed}) ==")
    rows: dict[str, dict[str, Tally]] = {}
    groups = {g: {n: Tally() for n in names} for g in GROUPS}
    for ci, condition in enumerate(CONDITIONS):
        if only and condition not in only:
            continue
        per = {n: Tally() for n in names}
        for i in range(per_condition):
            frame = generate_frame(
                FrameSpec(conditions=(condition,)), frame_seed(seed, ci * 10_000 + i)
            )
            image = _decoded(frame)
            for n, rec in recs.items():
                reads = rec.recognise(image)
                per[n].add(frame.truth, set(), reads)
                for g, member in GROUPS.items():
                    if member(condition):
                        groups[g][n].add(frame.truth, set(), reads)
        rows[condition] = per
        if verbose:
            for n in names:
                for e in per[n].examples:
                    print(f"    {condition} [{n}] {e}")
    rows.update(groups)
    _print_rows(names, rows)
    for n in names:
        a = groups["all"][n]
        share = 100.0 * a.wrong_valid / a.eligible_reads if a.eligible_reads else 0.0
        print(
            f"[{n}] wrong-but-valid {a.wrong_valid} of {a.eligible_reads} hit reads "
            f"({share:.2f} %), low-confidence wrong {a.wrong_low_conf}; reads on sign text "
            f"{a.sign_reads} (hit-eligible {a.sign_hits})"
        )
    for key, target in TARGETS.items():
        if key in rows:
            got = ", ".join(f"{n} {rows[key][n].rate:.1f}" for n in names)
            print(f"target {key} >= {target} %: {got}")


def run_passes(recs: dict[str, PlateRecognizer], n_passes: int, seed: int) -> None:
    """Vehicle passes (render_vehicle_pass): one voted read per car through PassTracker."""
    names = list(recs)
    print(f"== synthetic vehicle passes ({n_passes} per condition, voted by PassTracker) ==")
    conditions = ("clear", "blur", "low_light", "glare", "dirt", "far", "night", "foreign",
                  "two_line")  # fmt: skip
    for ci, condition in enumerate(conditions):
        cells = {n: [0, 0, 0] for n in names}  # exact, wrong, hit passes
        for k in range(n_passes):
            pass_seed = frame_seed(seed, 900_000 + ci * 1000 + k)
            styles = {"foreign": FOREIGN_STYLES, "two_line": TWO_LINE_STYLES}.get(condition)
            target_plate = None
            if styles:  # the passing car carries a foreign / two-line plate
                rng = np.random.default_rng(pass_seed)
                text = random_plate_text(rng, styles[int(rng.integers(0, len(styles)))])
                target_plate = PlateRequest(text.display, text.style.value)
            frames = render_vehicle_pass(
                pass_seed,
                conditions=(condition,) if condition not in ("foreign", "two_line") else ("clear",),
                plate=target_plate,
            )
            images = [_decoded(f) for f in frames]
            truths = {p.text for f in frames for p in f.truth.plates}
            target = frames[0].truth.plates[0].text
            for n, rec in recs.items():
                tracker = PassTracker()
                passes = []
                for i, image in enumerate(images):
                    frame = Frame(image, T0 + timedelta(seconds=i / 10), "cam", i, "synth")
                    passes += tracker.update(frame, rec.recognise(frame))
                passes += tracker.flush()
                hits = {p.plate for p in passes if p.is_hit_eligible}
                cells[n][0] += target in hits
                cells[n][1] += len(hits - truths)
                cells[n][2] += len(hits)
        print(
            f"{condition:<14}"
            + "".join(
                f"   [{n}] {100.0 * c[0] / n_passes:5.1f}% ({c[1]} wrong of {c[2]})"
                for n, c in cells.items()
            )
        )


def run_real(recs: dict[str, PlateRecognizer], verbose: bool) -> None:
    labels = DEV / "labels.csv"
    if not labels.is_file():
        print(f"== real Dutch frames: {labels} not found, skipped ==")
        return
    names = list(recs)
    by_image: dict[str, list[str]] = defaultdict(list)
    with labels.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            by_image[row["image"]].append(row["plate_text"])
    print("== real Dutch development set (plates-nl-dev) ==")
    rows: dict[str, dict[str, Tally]] = {}
    for kind, label in (
        ("localisationFrames", "real frames"),
        ("recognitionPlates", "tight crops"),
    ):
        per = {n: Tally() for n in names}
        for image, plates in by_image.items():
            if kind not in image:
                continue
            picture = cv2.imread(str(DEV / image))
            for n, rec in recs.items():
                per[n].add(None, set(plates), rec.recognise(picture))
        rows[label] = per
        if verbose:
            for n in names:
                for e in per[n].examples:
                    print(f"    {label} [{n}] {e}")
    _print_rows(names, rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--finders", default=f"opencv,{DEFAULT_FINDER}")
    parser.add_argument("--per-condition", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--model", default=os.environ.get("SCANCAR_OCR_MODEL", str(DEFAULT_MODEL)))
    parser.add_argument("--text-model", default=os.environ.get("SCANCAR_TEXT_DETECTOR_MODEL"))
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--skip-synthetic", action="store_true")
    parser.add_argument("--skip-real", action="store_true")
    parser.add_argument("--conditions", default="", help="comma-separated subset")
    parser.add_argument("--passes", type=int, default=10, help="vehicle passes per condition")
    args = parser.parse_args()
    names = list(dict.fromkeys(n for n in args.finders.split(",") if n))
    reader = load_plate_reader(args.model)
    recs = {}
    for n in names:  # kind[@size[/roi_top[/every]]], e.g. combined@640/0 or combined@512/0.3/2
        kind, _, rest = n.partition("@")
        size, _, rest = rest.partition("/")
        roi, _, every = rest.partition("/")
        if kind not in FINDER_KINDS:
            parser.error(
                f"unknown finder {n!r}; allowed: {', '.join(FINDER_KINDS)}[@SIZE[/ROI[/EVERY]]]"
            )
        finder = build_plate_finder(
            kind,
            text_model=args.text_model,
            detector_size=int(size or DEFAULT_DETECTOR_SIZE),
            roi_top=float(roi or DEFAULT_DETECTOR_ROI_TOP),
            detector_every=int(every or DEFAULT_DETECTOR_EVERY),
        )
        recs[n] = PlateRecognizer(reader, finder)
    print(f"finders: {', '.join(names)} (first = before); default finder: {DEFAULT_FINDER}")
    if not args.skip_real:
        run_real(recs, args.verbose)
    if not args.skip_synthetic:
        only = {c for c in args.conditions.split(",") if c}
        run_synthetic(recs, args.per_condition, args.seed, args.verbose, only)
        if args.passes:
            run_passes(recs, args.passes, args.seed)


if __name__ == "__main__":
    main()
