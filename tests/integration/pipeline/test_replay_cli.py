"""``scancar replay`` through the CLI: summary JSON, outbox only, one-line errors."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from api.cli import app
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
