"""``scancar replay`` through the CLI: summary JSON, outbox only, one-line errors."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from scancar.cli.root import app
from tests.integration.pipeline.car_support import TOWN, demo_route, require_model


def test_replay_cli_json_summary(tmp_path, monkeypatch):
    monkeypatch.setenv("SCANCAR_OCR_MODEL", require_model())
    route = demo_route()
    result = CliRunner().invoke(
        app,
        [
            "replay",
            "--frames",
            f"cam-right={route.frames_dir}",
            "--gps",
            str(route.gps_file),
            "--data-dir",
            str(tmp_path / "car"),
            "--zones",
            str(TOWN),
            "--rights-snapshot",
            str(route.folder / "rights-snapshot.ndjson"),
            "--rights-key",
            str(route.folder / "rights.key"),
            "--json",
            "--log-file",
            str(tmp_path / "car.log"),
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert (summary["frames"], summary["suspects_stored"], summary["outbox_pending"]) == (
        route.frames,
        len(route.expected_hits),
        len(route.expected_hits),
    )


def test_replay_cli_missing_gps_file_one_line(tmp_path):
    result = CliRunner().invoke(
        app, ["replay", "--frames", str(tmp_path), "--gps", str(tmp_path / "none.nmea")]
    )
    assert result.exit_code == 2
    assert "none.nmea" in result.output
    assert result.output.strip().count("\n") == 0


def _nmea_dated(source, day: str) -> str:
    """The route's NMEA log with every RMC sentence moved to ``day`` (ddmmyy)."""
    from functools import reduce

    out = []
    for line in source.read_text().splitlines():
        if not line.startswith("$GPRMC"):
            out.append(line)
            continue
        fields = line[1:].split("*")[0].split(",")
        fields[9] = day
        body = ",".join(fields)
        checksum = reduce(lambda acc, ch: acc ^ ord(ch), body, 0)
        out.append(f"${body}*{checksum:02X}")
    return "\n".join(out) + "\n"


def test_replay_cli_says_why_nothing_could_come_of_it(tmp_path, monkeypatch):
    monkeypatch.setenv("SCANCAR_OCR_MODEL", require_model())
    route = demo_route()
    base = ["replay", "--frames", str(route.frames_dir), "--data-dir", str(tmp_path / "car")]
    rights = ["--rights-key", str(route.folder / "rights.key")]

    def run(*args: str):
        result = CliRunner().invoke(app, [*base, *args])
        lines = [line for line in result.output.splitlines() if line.strip()]
        return result.exit_code, lines

    code, lines = run("--gps", str(route.gps_file), *rights)
    assert code == 2
    assert lines == [
        "error: no zones: give --zones FILE (a zone GeoJSON), --zones fixture (the demo town), "
        "or --backend and --token (the backend's current zones)"
    ]
    code, lines = run("--gps", str(route.gps_file), "--zones", "fixture")
    assert code == 2
    assert lines[0].startswith("error: no rights: without --backend give --rights-key")

    old = tmp_path / "old.nmea"
    old.write_text(_nmea_dated(route.gps_file, "010120"))
    code, lines = run("--gps", str(old), "--zones", "fixture", *rights)
    assert code == 1
    assert lines == [
        f"error: the frames of {route.frames_dir.name} (2026-03-03 10:00:00 UTC to "
        f"{lines[0].split(' to ')[1].split(')')[0]}) and the GPS track (2020-01-01 09:59:57 UTC "
        f"to {lines[0].split(' to ')[2].split(')')[0]}) do not overlap in time, so no pass can "
        "be placed; check the camera's and the GPS receiver's clocks"
    ]
    empty = tmp_path / "empty.nmea"
    empty.write_text("hello\nworld\n")
    code, lines = run("--gps", str(empty), "--zones", "fixture", *rights)
    assert code == 1
    assert lines[0].startswith(f"error: the GPS file {empty} has no usable fix (lines read 2")


def test_gps_cli_zero_fixes_is_an_error(tmp_path):
    log = tmp_path / "garbage.nmea"
    log.write_text("$GPRMC,garbage*00\nnot nmea\n")
    result = CliRunner().invoke(app, ["gps", str(log)])
    assert result.exit_code == 1
    assert result.output.splitlines()[-1].startswith(
        f"error: {log}: no fix accepted (2 lines read); is it an NMEA 0183 log"
    )
