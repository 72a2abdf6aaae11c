"""Replays of the fixture route into the outbox only (real frames, OCR model, SQLite)."""

from __future__ import annotations

import shutil
from collections import Counter
from datetime import UTC, datetime, timedelta

from scancar.chalk import SqliteChalkStore
from scancar.cli.replay import parse_camera, run_replay
from tests.integration.pipeline.car_support import demo_route, options, outbox_plates


def test_replay_route_into_outbox_only(tmp_path):
    route = demo_route()
    report = run_replay(options(route, tmp_path / "car"))
    plates = outbox_plates(tmp_path / "car")
    assert Counter(plates) == Counter(route.expected_hits)
    assert (report.outbox_pending, report.outbox_sent, report.suspects_stored) == (
        len(route.expected_hits),
        0,
        len(route.expected_hits),
    )
    assert report.frames == route.frames
    assert report.frame_times == {"file name": route.frames}
    assert report.outcomes["suspect"] == len(route.expected_hits)


def test_replay_twice_reports_nothing_new(tmp_path):
    route = demo_route()
    run_replay(options(route, tmp_path / "car"))
    again = run_replay(options(route, tmp_path / "car"))
    assert again.outcomes.get("suspect", 0) == 0
    assert again.outcomes["discard_repeat"] == len(route.expected_hits)
    assert again.outbox_pending == len(route.expected_hits)


def _garbage_nmea(clean: str) -> str:
    lines = clean.splitlines()
    out: list[str] = []
    for i, line in enumerate(lines):
        out.append(line)
        if i % 17 == 5:
            out.append(
                "$GPRMC,101010.00,A,5200.000,N,00421.000,E,1.0,90.0,030326,,,A*00"
            )  # bad sum
        if i % 23 == 7:
            out.append("\x00\xff\x13garbage$$$*ZZ")
        if i % 31 == 3:
            out.append("$GPGGA,1010")  # truncated, no checksum
    return "\r\n".join(out) + "\r\n"


def test_replay_skips_corrupt_frames_and_garbage_nmea(tmp_path):
    route = demo_route()
    frames = tmp_path / "frames"
    shutil.copytree(route.frames_dir, frames)
    names = sorted(p.name for p in frames.glob("*.jpg"))
    good = (frames / names[40]).read_bytes()
    t0 = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
    bad = {
        t0 + timedelta(seconds=1.05): good[: len(good) // 2],  # truncated JPEG
        t0 + timedelta(seconds=2.05): b"",  # empty file
        t0 + timedelta(seconds=3.05): bytes(range(256)) * 40,  # not an image
    }
    for at, data in bad.items():
        name = at.strftime("%Y%m%dT%H%M%S") + f".{at.microsecond // 1000:03d}Z.jpg"
        (frames / name).write_bytes(data)
    gps = tmp_path / "gps.nmea"
    gps.write_text(_garbage_nmea(route.gps_file.read_text(encoding="ascii")), encoding="latin-1")
    report = run_replay(
        options(
            route,
            tmp_path / "car",
            cameras=(parse_camera(f"cam-right={frames}", "right:3"),),
            gps=gps,
        )
    )
    assert report.frames_skipped == 3
    assert report.frames == route.frames
    assert report.gps_dropped > 0
    assert Counter(outbox_plates(tmp_path / "car")) == Counter(route.expected_hits)


def test_chalk_store_keeps_keyed_hashes_only_and_expires(tmp_path):
    path = tmp_path / "chalk.sqlite3"
    key = b"s" * 32
    store = SqliteChalkStore(path, key)
    t0 = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
    first = store.sight(
        "GZ123T", 4.35, 52.01, t0, max_distance_m=8, keep_until=t0 + timedelta(hours=2)
    )
    store.close()
    store = SqliteChalkStore(path, key)  # survives a restart
    again = store.sight(
        "GZ123T",
        4.35001,
        52.01,
        t0 + timedelta(hours=1),
        max_distance_m=8,
        keep_until=t0 + timedelta(hours=3),
    )
    assert (first.is_new, again.is_new, again.first_seen_at) == (True, False, t0)
    assert store.purge(t0 + timedelta(hours=2, seconds=1)) == 1
    assert len(store) == 0
    store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert b"GZ123T" not in raw
    assert b"GZ-123-T" not in raw
