"""``scancar gps FILE``: decode a recorded NMEA log (or GPX track) and print accepted fixes.

The root CLI registers ``gps_command`` (``app.command("gps")(gps_command)``); ``app`` here runs it
on its own: ``python -m scancar.cli.gps FILE``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from scancar.gps.errors import GpsError
from scancar.gps.model import Fix
from scancar.gps.nmea import NmeaConfig
from scancar.gps.ports import PositionSource
from scancar.gps.sources import GpxSource, NmeaFileSource


def fix_record(fix: Fix) -> dict[str, object]:
    """The JSON object printed for one fix."""
    return {
        "time": fix.time.isoformat(
            timespec="milliseconds" if fix.time.microsecond else "seconds"
        ).replace("+00:00", "Z"),
        "lat": round(fix.lat, 9),
        "lon": round(fix.lon, 9),
        "speed_mps": None if fix.speed_mps is None else round(fix.speed_mps, 3),
        "course_deg": None if fix.course_deg is None else round(fix.course_deg, 2),
        "hdop": fix.hdop,
        "source_line": fix.source_line,
    }


def gps_command(
    file: Annotated[Path, typer.Argument(help="NMEA 0183 log (or a .gpx track)")],
    json_output: Annotated[
        bool, typer.Option("--json", help="one JSON object per accepted fix")
    ] = False,
    accept_missing_checksum: Annotated[
        bool, typer.Option(help="use sentences without a '*hh' checksum")
    ] = False,
    max_hdop: Annotated[float, typer.Option(help="drop fixes with a larger HDOP")] = 5.0,
    backfill: Annotated[
        int, typer.Option(help="date up to N time-only epochs once a date arrives (0 = drop)")
    ] = 3600,
) -> None:
    """Print each accepted fix; a summary of lines read / accepted / dropped goes to stderr."""
    if not file.is_file():
        print(f"error: {file}: no such file", file=sys.stderr)
        raise typer.Exit(2)
    try:
        config = NmeaConfig(
            accept_missing_checksum=accept_missing_checksum,
            max_hdop=max_hdop,
            backfill_epochs=backfill,
        )
        source: PositionSource = (
            GpxSource(file, config=config)
            if file.suffix.lower() == ".gpx"
            else NmeaFileSource(file, config=config)
        )
        for fix in source.fixes():
            record = fix_record(fix)
            if json_output:
                print(json.dumps(record))
            else:
                print(
                    f"{record['time']}  lat {fix.lat:.7f}  lon {fix.lon:.7f}  "
                    f"speed {_fmt(fix.speed_mps, 'm/s')}  course {_fmt(fix.course_deg, 'deg')}  "
                    f"hdop {_fmt(fix.hdop, '')}  line {fix.source_line}"
                )
    except GpsError as exc:
        print(f"error: {file}: {exc}", file=sys.stderr)
        raise typer.Exit(1) from None
    except OSError as exc:
        print(f"error: cannot read {file}: {exc.strerror}", file=sys.stderr)
        raise typer.Exit(2) from None
    print(f"{file}: {source.stats.summary()}", file=sys.stderr)
    if source.stats.fixes_accepted == 0:
        print(
            f"error: {file}: no fix accepted ({source.stats.lines_read} lines read); is it an "
            "NMEA 0183 log (or a .gpx track)? Sentences without a checksum are used with "
            "--accept-missing-checksum",
            file=sys.stderr,
        )
        raise typer.Exit(1)


def _fmt(value: float | None, unit: str) -> str:
    return "-" if value is None else f"{value:.2f}{(' ' + unit) if unit else ''}"


app = typer.Typer(add_completion=False, help="Decode GPS logs.")
app.command("gps")(gps_command)

if __name__ == "__main__":
    app()


def register(app: typer.Typer) -> None:
    """Add ``gps`` to the root ``scancar`` command."""
    app.command("gps", help="Parse an NMEA log or GPX track; print each accepted fix.")(gps_command)
