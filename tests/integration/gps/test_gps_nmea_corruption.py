"""Real logs with seeded corruption: bit errors, binary bursts, lost bytes, odd chunking.

Whatever survives must be a fix the clean log also gives (same time, same place): corruption
may cost fixes, never invent or move one.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from scancar.gps.geometry import distance_m
from scancar.gps.nmea import NmeaConfig, NmeaParser, parse_text

SHARED = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "nmea"
LOGS = [
    *sorted((SHARED / "gpsd").glob("*.log")),
    SHARED / "genivi" / "20100411_Geko_Regensburg.nmea",
]

if not SHARED.is_dir():
    if os.environ.get("CI"):
        pytest.fail(f"shared NMEA data missing at {SHARED}")
    pytest.skip("shared NMEA data not available", allow_module_level=True)

CONFIG = NmeaConfig(max_hdop=100.0)
RATE = float(os.environ.get("NMEA_CORRUPTION_RATE", "0.0005"))


def corrupt(data: bytes, rng: random.Random, rate: float) -> bytes:
    out = bytearray()
    for byte in data:
        roll = rng.random()
        if roll < rate:  # bit error
            out.append(byte ^ (1 << rng.randrange(8)))
        elif roll < 2 * rate:  # byte lost
            continue
        elif roll < 2.2 * rate:  # burst of binary noise (e.g. UBX frames, line noise)
            out.append(byte)
            out.extend(rng.randbytes(rng.randrange(1, 40)))
        else:
            out.append(byte)
    return bytes(out)


def parse_in_chunks(data: bytes, rng: random.Random) -> list:  # type: ignore[type-arg]
    parser = NmeaParser(CONFIG)
    fixes = []
    i = 0
    while i < len(data):
        step = rng.randrange(1, 300)
        fixes.extend(parser.feed(data[i : i + step]))
        i += step
    fixes.extend(parser.flush())
    return fixes


@pytest.mark.parametrize("log", LOGS, ids=lambda p: p.name)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_corruption_never_invents_or_moves_a_fix(log: Path, seed: int) -> None:
    rng = random.Random(seed)
    clean = parse_text(log.read_bytes(), CONFIG).fixes
    by_time = {f.time: f for f in clean}
    damaged = parse_in_chunks(corrupt(log.read_bytes(), rng, RATE), rng)
    for fix in damaged:
        assert fix.time in by_time, fix
        twin = by_time[fix.time]
        assert distance_m(fix.lon, fix.lat, twin.lon, twin.lat) < 0.5, (fix, twin)
    if len(clean) > 20:
        assert len(damaged) > len(clean) // 2  # and most of the log survives
