"""Load N generated rights straight into the backend's ``rights`` table (bench data only).

Rights are resident permits valid from yesterday for a year, on unique generated Dutch-style
plates, each for one or two of the fixture town's areas; no change-log rows are written (a
snapshot taken afterwards simply starts at the current cursor). PostgreSQL is loaded with
COPY, SQLite with executemany in one transaction.

    /work/main/.venv/bin/python bench/load_rights.py --url sqlite:///./bench.db --rights 1000000
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert
from sqlalchemy.engine import Engine

LETTERS = "BDFGHJKLNPRSTVXZ"  # Dutch plates use no vowels
DIGITS = "0123456789"
PATTERNS = ("LLDDDL", "DDLLLD", "LDDDLL", "LLLDDL", "DLLLDD", "LLDDLL", "DDLLDD")
TOWN_AREAS = ("9999_CENTRUM", "9999_NOORD", "9999_ZUID")


def _plate(rng: random.Random) -> str:
    pattern = rng.choice(PATTERNS)
    return "".join(rng.choice(LETTERS if p == "L" else DIGITS) for p in pattern)


def unique_plates(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    plates: set[str] = set()
    while len(plates) < n:
        plates.add(_plate(rng))
    return sorted(plates)


def _rows(plates: list[str], seed: int, now: datetime) -> Iterator[tuple[object, ...]]:
    rng = random.Random(seed + 1)
    start = now - timedelta(days=1)
    end = now + timedelta(days=365)
    for i, plate in enumerate(plates):
        areas = ";".join(sorted(rng.sample(TOWN_AREAS, rng.choice((1, 2)))))
        yield (f"permit:B{i}:0", "permit", plate, areas, start, end, "resident", f"permit:B{i}")


COLUMNS = ("id", "kind", "plate", "area_codes", "start", "end", "permit_type", "source")


def load_rights(engine: Engine, n: int, *, seed: int = 7, now: datetime | None = None) -> list[str]:
    """Insert ``n`` rights; returns their plates (sorted)."""
    from api.rights.db import RightRow

    now = now or datetime.now(UTC)
    plates = unique_plates(n, seed)
    rows = _rows(plates, seed, now)
    if engine.dialect.name == "postgresql":
        raw = engine.raw_connection()
        try:
            cur = raw.cursor()
            names = ", ".join(f'"{c}"' for c in COLUMNS)
            with cur.copy(f"COPY rights ({names}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                for row in rows:
                    copy.write_row(row)
            raw.commit()
            cur.execute("ANALYZE rights")
            raw.commit()
        finally:
            raw.close()
        return plates
    with engine.begin() as conn:
        batch: list[dict[str, object]] = []
        for row in rows:
            batch.append(dict(zip(COLUMNS, row, strict=True)))
            if len(batch) == 20_000:
                conn.execute(insert(RightRow), batch)
                batch = []
        if batch:
            conn.execute(insert(RightRow), batch)
    return plates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", required=True, help="database URL (migrated to head)")
    parser.add_argument("--rights", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    from api.db import make_engine

    engine = make_engine(args.url)
    t0 = time.perf_counter()
    load_rights(engine, args.rights, seed=args.seed)
    print(f"loaded {args.rights:,} rights in {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
