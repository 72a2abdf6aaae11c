"""Position sources against real files, a pseudo-terminal serial port and a local gpsd stand-in."""

from __future__ import annotations

import itertools
import json
import os
import pty
import socket
import threading
import tty
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scancar.cli.gps import app
from scancar.gps.errors import GpsConfigError, GpsSourceError
from scancar.gps.geometry import distance_m
from scancar.gps.model import DropReason, Fix
from scancar.gps.nmea import checksum, parse_text
from scancar.gps.sources import GpsdSource, GpxSource, NmeaFileSource, SerialNmeaSource
from scancar.gps.track import Track, TrackConfig

SHARED = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "nmea"
NL2008U = SHARED / "gpsd" / "nl2008u.log"
GENIVI = SHARED / "genivi" / "20100411_Geko_Regensburg.nmea"
GPX = SHARED / "gpx" / "sbn-v13.gpx"

needs_shared = pytest.mark.skipif(
    not SHARED.is_dir() and not os.environ.get("CI"), reason="shared NMEA data not available"
)


@needs_shared
def test_file_source_fast_replay_equals_parser() -> None:
    source = NmeaFileSource(GENIVI)
    assert list(source.fixes()) == parse_text(GENIVI.read_bytes()).fixes


@needs_shared
@pytest.mark.parametrize(("speed", "factor"), [(1.0, 1.0), (10.0, 0.1)])
def test_file_source_replays_at_recorded_pace(speed: float, factor: float) -> None:
    slept: list[float] = []
    source = NmeaFileSource(NL2008U, speed=speed, max_gap_s=5.0, sleep=slept.append)
    fixes = list(source.fixes())
    gaps = [(b.time - a.time).total_seconds() for a, b in itertools.pairwise(fixes)]
    assert slept == pytest.approx([min(g, 5.0) * factor for g in gaps])


def test_file_source_refuses_missing_file_and_bad_speed(tmp_path: Path) -> None:
    with pytest.raises(GpsSourceError, match="no such file"):
        NmeaFileSource(tmp_path / "absent.nmea")
    (tmp_path / "x.nmea").write_text("")
    with pytest.raises(GpsConfigError, match="speed"):
        NmeaFileSource(tmp_path / "x.nmea", speed=0)


@needs_shared
def test_gpx_source_reads_the_sbn_drive() -> None:
    source = GpxSource(GPX)
    fixes = list(source.fixes())
    assert 3300 < len(fixes) < 3453
    assert source.stats.dropped[DropReason.NO_FIX] == 89  # <fix>none</fix> points
    assert fixes[0].time.tzinfo is not None
    assert all(b.time > a.time for a, b in itertools.pairwise(fixes))
    # Delft <-> Den Haag / Rijswijk
    assert all(4.28 < f.lon < 4.41 and 51.98 < f.lat < 52.07 for f in fixes)
    assert all(f.speed_mps is not None and 0 <= f.speed_mps < 40 for f in fixes)
    assert all(f.course_deg is not None and 0 <= f.course_deg < 360 for f in fixes)


@needs_shared
def test_track_interpolation_on_a_real_drive_is_within_a_few_metres() -> None:
    """Leave every other fix out of the 1 Hz GPX drive and interpolate it back."""
    fixes = list(GpxSource(GPX).fixes())
    track = Track(TrackConfig(keep_s=86_400.0), fixes=fixes[::2])
    errors = []
    for fix in fixes[1::2]:
        pos = track.position_at(fix.time)
        assert pos is not None
        if not pos.uncertain:
            errors.append(distance_m(pos.lon, pos.lat, fix.lon, fix.lat))
    errors.sort()
    assert len(errors) > 1000
    assert errors[len(errors) // 2] < 1.0  # median
    assert errors[int(len(errors) * 0.95)] < 3.0


def test_serial_source_reads_a_pseudo_terminal(tmp_path: Path) -> None:
    master, slave = pty.openpty()
    tty.setraw(slave)
    device = os.ttyname(slave)
    source = SerialNmeaSource(device, 9600, read_timeout_s=0.1)
    got: list[Fix] = []

    def read() -> None:
        for fix in source.fixes():
            got.append(fix)
            if len(got) == 3:
                source.close()

    reader = threading.Thread(target=read)
    reader.start()
    # a receiver streams continuously; the port drops what arrived before it was opened
    os.write(master, b"\xff\x00garbage\r\n")
    for i in range(600):
        if not reader.is_alive():
            break
        body = f"GPRMC,12{i // 60:02d}{i % 60:02d},A,5200.0000,N,00500.0000,E,0.0,,020326,,,A"
        os.write(master, (_sentence(body) + "\r\n").encode())
        reader.join(timeout=0.05)
    reader.join(timeout=10)
    os.close(master)
    os.close(slave)
    assert not reader.is_alive()
    assert len(got) == 3
    assert [(b.time - a.time).total_seconds() for a, b in itertools.pairwise(got)] == [
        1.0,
        1.0,
    ]


def test_serial_source_refuses_bad_baud_and_missing_device(tmp_path: Path) -> None:
    with pytest.raises(GpsConfigError, match="baud"):
        SerialNmeaSource("/dev/null", 1234)
    source = SerialNmeaSource(str(tmp_path / "ttyNOPE"), 9600)
    with pytest.raises(GpsSourceError, match="cannot open"):
        next(source.fixes())


def _sentence(body: str) -> str:
    return f"${body}*{checksum(body):02X}"


def _serve_gpsd(server: socket.socket, reports: list[dict[str, object]]) -> None:
    conn, _ = server.accept()
    with conn:
        watch = conn.recv(1024)
        assert watch.startswith(b"?WATCH=")
        payload = b"".join(json.dumps(r).encode() + b"\n" for r in reports)
        conn.sendall(payload[:50])  # split a report across two packets
        conn.sendall(payload[50:] + b"not json\n")


def test_gpsd_source_reads_tpv_reports() -> None:
    reports: list[dict[str, object]] = [
        {"class": "VERSION", "release": "3.25"},
        {"class": "TPV", "mode": 1, "time": "2026-03-02T10:00:00.000Z"},
        {"class": "SKY", "hdop": 0.9},
        {
            "class": "TPV",
            "mode": 3,
            "time": "2026-03-02T10:00:01.000Z",
            "lat": 52.0116,
            "lon": 4.3571,
            "speed": 8.5,
            "track": 91.0,
            "eph": 3.2,
        },
        {
            "class": "TPV",
            "mode": 2,
            "time": "2026-03-02T10:00:02.000Z",
            "lat": 52.0116,
            "lon": 4.35722,
            "speed": 8.4,
            "track": 92.0,
        },
    ]
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    thread = threading.Thread(target=_serve_gpsd, args=(server, reports))
    thread.start()
    source = GpsdSource("127.0.0.1", port, timeout_s=5)
    fixes: list[Fix] = []
    with pytest.raises(GpsSourceError, match="connection closed by gpsd"):
        fixes.extend(source.fixes())
    thread.join(timeout=10)
    server.close()
    assert [(f.time, f.speed_mps, f.course_deg, f.hdop, f.error_m) for f in fixes] == [
        (datetime(2026, 3, 2, 10, 0, 1, tzinfo=UTC), 8.5, 91.0, 0.9, 3.2),
        (datetime(2026, 3, 2, 10, 0, 2, tzinfo=UTC), 8.4, 92.0, 0.9, None),
    ]
    assert source.stats.dropped[DropReason.NO_FIX] == 1
    assert source.stats.dropped[DropReason.MALFORMED] == 1


def test_gpsd_source_reports_connection_refused() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    with pytest.raises(GpsSourceError, match="cannot connect"):
        next(GpsdSource("127.0.0.1", port, timeout_s=1).fixes())


@needs_shared
def test_cli_prints_json_fixes_and_summary() -> None:
    result = CliRunner().invoke(app, [str(NL2008U), "--json"])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 9
    assert records[0] == {
        "time": "2015-10-10T09:12:32Z",
        "lat": 48.217558333,
        "lon": 8.414495,
        "speed_mps": 0.0,
        "course_deg": 0.0,
        "hdop": 0.7,
        "source_line": 27,
    }
    assert "lines read 145" in result.stderr
    assert "fixes accepted 9" in result.stderr


def test_cli_reports_missing_file_in_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, [str(tmp_path / "absent.nmea")])
    assert result.exit_code == 2
    assert "no such file" in result.stderr
