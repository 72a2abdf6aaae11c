"""The whole car pipeline on a synthetic route: two cameras at 10 fps, GPS at 1 Hz.

Frames -> decode + find + OCR (``recognise_stream``) -> tracking/voting -> position -> zone ->
offline rights cache -> chalk/repeat guard -> evidence (JPEG, blurred) -> durable outbox
(fsync), as ``scancar replay`` runs it (fast-forward, no backend).

Prints, in one run on this machine:

* the route's length (seconds of driving) and frames per camera;
* frames/s processed and the ratio to real time (target >= 2x with two cameras at 10 fps);
* capture -> outbox latency of the suspects (median, max): from the moment the overview frame
  entered the pipeline until the suspect was durable in the outbox (a pass is only decided
  after its plate has left the view: 5 frames / 0.5 s of the track's end gap at 10 fps);
* the same-run baseline: JPEG decode only of the same frames (frames/s), and the ratio.

    python bench/car_pipeline.py [--seconds 120] [--cameras 2] [--model PATH] [--finder KIND]

``--finder`` (default: the car's default, ``SCANCAR_PLATE_FINDER`` or ``combined``: the OpenCV
finder and the learned text detector) sets the plate finder the car runs with. On a shared
machine the wall clock says little: the CPU time per frame and "if both cores were free" are
the figures to compare.

A 10-minute route (``--seconds 600``) takes about 8 minutes just to render on the shared
2-core machine; the default renders 2 minutes (cached under the temp dir for reruns). The
second camera sees the same rendered street (its own tracker, files and outbox entries).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fixtures.route.generator import _fix_sentences  # noqa: E402
from fixtures.synth import PlateRequest, random_dutch_plate, render_street  # noqa: E402
from fixtures.synth.dataset import encode_jpeg  # noqa: E402
from permits.feed import PlateKeyer, snapshot_pages  # noqa: E402
from permits.memory import InMemoryRightsRepository  # noqa: E402
from permits.model import PaidSession  # noqa: E402

FPS = 10.0
SPEED_KMH = 20.0
START = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
LOOP = [(4.3560, 52.0095), (4.3620, 52.0095), (4.3620, 52.0105), (4.3560, 52.0105)]  # centrum
VERSION = 1


def _loop_point(dist_m: float) -> tuple[float, float, float]:
    """Position and course after ``dist_m`` metres around the loop (lon, lat, course)."""
    from scancar.gps.geometry import bearing_deg, distance_m

    legs = [(LOOP[i], LOOP[(i + 1) % len(LOOP)]) for i in range(len(LOOP))]
    lengths = [distance_m(*a, *b) for a, b in legs]
    dist_m %= sum(lengths)
    for (a, b), length in zip(legs, lengths, strict=True):
        if dist_m <= length:
            f = dist_m / length
            return a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, bearing_deg(*a, *b)
        dist_m -= length
    raise AssertionError("unreachable")


def render_route(folder: Path, seconds: float, cameras: int, seed: int) -> tuple[int, list[str]]:
    """Frames for ``seconds`` of driving per camera + gps.nmea; returns (frames, plates)."""
    rng = np.random.default_rng(seed)
    need = int(seconds * FPS)
    dirs = [folder / f"cam{i}" for i in range(cameras)]
    for d in dirs:
        d.mkdir(parents=True)
    plates: list[str] = []
    index = 0
    street = 0
    while index < need:
        texts = [random_dutch_plate(rng) for _ in range(8)]
        plates.extend(texts)
        frames = render_street(
            seed * 1000 + street, plates=tuple(PlateRequest(t) for t in texts), speed_kmh=SPEED_KMH
        )
        street += 1
        for frame in frames:
            if index >= need:
                break
            data = encode_jpeg(frame)
            for cam, d in enumerate(dirs):
                at = START + timedelta(seconds=index / FPS + cam * 0.05)
                name = at.strftime("%Y%m%dT%H%M%S") + f".{at.microsecond // 1000:03d}Z.jpg"
                (d / name).write_bytes(data)
            index += 1
    v = SPEED_KMH / 3.6
    lines = []
    for s in range(-3, int(seconds) + 4):
        lon, lat, course = _loop_point(v * s)
        lines.append(_fix_sentences(START + timedelta(seconds=s), lon, lat, v, course))
    (folder / "gps.nmea").write_text("".join(lines), encoding="ascii")
    # paid sessions for about a third of the plates: the rest become suspects
    repo = InMemoryRightsRepository(log_id="bench")
    for i, plate in enumerate(plates):
        if i % 3 == 0:
            repo.put_paid_session(
                PaidSession(
                    "bench", f"s{i}", plate, "9999_CENTRUM", START, START + timedelta(hours=4)
                )
            )
    key = rng.bytes(32)
    (folder / "rights.key").write_bytes(key)
    pages = snapshot_pages(repo, PlateKeyer(key), START - timedelta(minutes=5))
    (folder / "rights.ndjson").write_text("".join(p.model_dump_json() + "\n" for p in pages))
    (folder / "done.json").write_text(json.dumps({"frames": need, "plates": len(plates)}))
    return need, plates


def main() -> None:
    from scancar.cli.replay import ReplayOptions, parse_camera, run_replay

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--cameras", type=int, default=2)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--finder", default=os.environ.get("SCANCAR_PLATE_FINDER", ""), help="opencv|text|combined"
    )
    parser.add_argument(
        "--model",
        default=os.environ.get(
            "SCANCAR_OCR_MODEL", str(ROOT / ".." / "shared" / "models" / "cct-xs-v2-global-model")
        ),
    )
    args = parser.parse_args()
    cache = (
        Path(tempfile.gettempdir())
        / "scancar-bench-car"
        / (f"v{VERSION}-s{args.seed}-{int(args.seconds)}s-{args.cameras}cam")
    )
    if not (cache / "done.json").exists():
        shutil.rmtree(cache, ignore_errors=True)
        t0 = time.perf_counter()
        render_route(cache, args.seconds, args.cameras, args.seed)
        print(f"rendered the route in {time.perf_counter() - t0:.1f} s (cached at {cache})")
    frames_per_cam = json.loads((cache / "done.json").read_text())["frames"]

    # same-run baseline: JPEG decode only
    files = sorted((cache / "cam0").glob("*.jpg")) * args.cameras
    t0 = time.perf_counter()
    for f in files:
        cv2.imread(str(f))
    decode_fps = len(files) / (time.perf_counter() - t0)

    from scancar.lpr.finder import DEFAULT_DETECTOR_ROI_TOP, DEFAULT_DETECTOR_SIZE, DEFAULT_FINDER

    finder = args.finder or DEFAULT_FINDER
    os.environ["SCANCAR_PLATE_FINDER"] = finder  # run_replay reads the car settings
    print(
        f"plate finder: {finder} (text detector {DEFAULT_DETECTOR_SIZE} px, from "
        f"{DEFAULT_DETECTOR_ROI_TOP:.0%} of the height down, every "
        f"{os.environ.get('SCANCAR_TEXT_DETECTOR_EVERY', '1')}. frame); load average before: "
        f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs"
    )
    data_dir = Path(tempfile.mkdtemp(prefix="scancar-bench-data-"))
    try:
        opts = ReplayOptions(
            cameras=tuple(
                parse_camera(f"cam{i}={cache / f'cam{i}'}", "right:3") for i in range(args.cameras)
            ),
            gps=cache / "gps.nmea",
            data_dir=data_dir,
            zones=ROOT / "fixtures" / "zones" / "town.geojson",
            rights_snapshot=cache / "rights.ndjson",
            rights_key=cache / "rights.key",
            progress=False,
            ocr_model=args.model,
        )
        t0, c0 = time.perf_counter(), time.process_time()
        report = run_replay(opts)
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    total = report.frames
    route_s = frames_per_cam / FPS
    fps = total / elapsed
    print(
        f"route: {route_s:.0f} s of driving, {args.cameras} cameras x {frames_per_cam} frames "
        f"at {FPS:.0f} fps = {total} frames"
    )
    print(
        f"pipeline: {elapsed:.1f} s wall (incl. model load), {fps:.1f} frames/s, "
        f"{route_s / elapsed:.2f}x real time (target >= 2x)"
    )
    print(
        f"passes {report.passes}, checks {report.checks}, suspects stored "
        f"{report.suspects_stored}, outcomes {report.outcomes}"
    )
    print(f"capture -> outbox latency: {report.latency_s}")
    print(
        f"CPU time of the process: {cpu:.1f} s = {1000 * cpu / total:.1f} ms per frame, "
        f"{total / cpu:.1f} frames per CPU-second (if both cores were free: about "
        f"{route_s / cpu * 2:.2f}x real time; target >= 2x)"
    )
    print(
        f"baseline JPEG decode only: {decode_fps:.1f} frames/s; pipeline / decode = "
        f"{fps / decode_fps:.3f}"
    )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    now_mb = _rss_mb()
    print(
        f"car process resident memory: {now_mb:.0f} MB after the run, {peak_mb:.0f} MB peak "
        "(the OCR model, the zone index and the rights cache loaded; the peak includes the "
        "rendering when this run rendered the route)"
    )
    print(f"load average: {os.getloadavg()}")


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


if __name__ == "__main__":
    main()
