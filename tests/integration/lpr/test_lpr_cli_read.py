"""``scancar read`` on real images, folders, videos and bad input."""

from __future__ import annotations

import io
import json
import shutil

import cv2
import pytest
import typer
from typer.testing import CliRunner

from fixtures.synth import PlateRequest, render_vehicle_pass
from scancar.cli import read as read_cli
from scancar.cli.read import read_command
from tests.integration.lpr.conftest import DEV_DIR, MODEL_DIR, need

pytestmark = pytest.mark.model

FRAME = "TrainingSet/localisationFrames/Category I and II/6.jpg"


def _run(recognizer, paths, json_out=True):
    out, err = io.StringIO(), io.StringIO()
    code = read_command(paths, json_out, recognizer=recognizer, out=out, err=err)
    return (
        code,
        [json.loads(x) for x in out.getvalue().splitlines()] if json_out else out.getvalue(),
        err.getvalue(),
    )


def test_read_json_gives_one_object_per_image(recognizer, tmp_path):
    shutil.copy(need(DEV_DIR / FRAME), tmp_path / "a.jpg")
    code, lines, _ = _run(recognizer, [tmp_path / "a.jpg"])
    assert code == 0
    assert len(lines) == 1
    (plate,) = [p for p in lines[0]["plates"] if p["valid"]]
    assert lines[0]["image"] == str(tmp_path / "a.jpg")
    assert {k: plate[k] for k in ("plate", "display", "country", "valid", "sidecode")} == {
        "plate": "VD020P",
        "display": "VD-020-P",
        "country": "NL",
        "valid": True,
        "sidecode": 9,
    }
    assert len(plate["char_confidences"]) == 6
    assert len(plate["bbox"]) == 4
    assert 0.85 <= plate["confidence"] <= 1.0


def test_read_folder_reports_bad_files_and_reads_the_rest(recognizer, tmp_path):
    shutil.copy(need(DEV_DIR / FRAME), tmp_path / "1.jpg")
    (tmp_path / "2.jpg").write_bytes(b"")
    (tmp_path / "3.jpg").write_bytes((tmp_path / "1.jpg").read_bytes()[:500])
    (tmp_path / "4.jpg").write_bytes(b"garbage")
    code, lines, err = _run(recognizer, [tmp_path, tmp_path / "missing.jpg"])
    assert code == 1
    assert [line["image"].rsplit("/", 1)[1] for line in lines] == [
        "1.jpg",
        "2.jpg",
        "3.jpg",
        "4.jpg",
        "missing.jpg",
    ]
    assert [bool(line.get("error")) for line in lines] == [False, True, True, True, True]
    assert "0 bytes" in err
    assert "truncated" in err
    assert "not a decodable image" in err
    assert "no such file or folder" in err


def test_read_table_without_json(recognizer):
    code, text, _ = _run(recognizer, [need(DEV_DIR / FRAME)], json_out=False)
    assert code == 0
    assert "VD-020-P" in text
    assert "valid" in text


def test_read_video_gives_one_object_per_vehicle_pass(recognizer, tmp_path):
    frames = render_vehicle_pass(
        21, n_frames=8, plate=PlateRequest("XK52GV"), neighbours=0, conditions=("clear",)
    )
    path = tmp_path / "pass.avi"
    h, w = frames[0].image.shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (w, h))
    for f in frames:
        writer.write(f.image)
    writer.release()
    code, lines, _ = _run(recognizer, [path])
    assert code == 0
    target = [x for x in lines if x["plates"][0]["plate"] == "XK52GV"]
    assert len(target) == 1
    assert 0 <= target[0]["frame"] < 8
    assert target[0]["agreeing_frames"] >= 2


def test_read_command_line_names_a_missing_model(tmp_path, monkeypatch):
    app = typer.Typer()
    app.callback()(lambda: None)
    read_cli.register(app)
    monkeypatch.setenv("SCANCAR_OCR_MODEL", str(tmp_path / "no-model"))
    result = CliRunner().invoke(app, ["read", str(tmp_path)])
    assert result.exit_code == 2
    assert "no-model" in result.output
    assert "no such folder" in result.output


def test_read_command_line_reads_with_the_model_from_the_environment(monkeypatch):
    app = typer.Typer()
    app.callback()(lambda: None)
    read_cli.register(app)
    monkeypatch.setenv("SCANCAR_OCR_MODEL", str(need(MODEL_DIR)))
    result = CliRunner().invoke(app, ["read", "--json", str(need(DEV_DIR / FRAME))])
    assert result.exit_code == 0
    assert json.loads(result.output.splitlines()[0])["plates"][0]["plate"] == "VD020P"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SCANCAR_TEXT_DETECTOR_MODEL", "{tmp}/det.onnx", "text detector model"),
        ("SCANCAR_PLATE_FINDER", "yolo", "invalid plate finder 'yolo'; allowed: opencv"),
    ],
)
def test_read_command_line_names_a_bad_plate_finder_setting(
    tmp_path, monkeypatch, name, value, message
):
    app = typer.Typer()
    app.callback()(lambda: None)
    read_cli.register(app)
    (tmp_path / "det.onnx").write_bytes(b"not a model")
    monkeypatch.setenv("SCANCAR_OCR_MODEL", str(need(MODEL_DIR)))
    monkeypatch.setenv(name, value.format(tmp=tmp_path))
    result = CliRunner().invoke(app, ["read", str(need(DEV_DIR / FRAME))])
    assert result.exit_code == 2
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_read_command_line_uses_the_learned_finder_by_default(monkeypatch):
    monkeypatch.delenv("SCANCAR_PLATE_FINDER", raising=False)
    recognizer = read_cli.build_recognizer(None)
    assert type(recognizer.finder).__name__ == "CombinedPlateFinder"


def test_read_recurses_with_r_and_says_when_a_folder_has_only_subfolders(recognizer, tmp_path):
    frame = need(DEV_DIR / FRAME)
    (tmp_path / "day1" / "cam").mkdir(parents=True)
    (tmp_path / "day2").mkdir()
    shutil.copy(frame, tmp_path / "day1" / "cam" / "2.jpg")
    shutil.copy(frame, tmp_path / "day2" / "10.jpg")
    code, _, err = _run(recognizer, [tmp_path])
    assert code == 1
    assert err.strip() == (
        f"error: {tmp_path}: the folder holds no images, only subfolders: add -r to read them"
    )
    out, errs = io.StringIO(), io.StringIO()
    code = read_command([tmp_path], True, recursive=True, recognizer=recognizer, out=out, err=errs)
    assert code == 0, errs.getvalue()
    images = [json.loads(x)["image"] for x in out.getvalue().splitlines()]
    assert images == [str(tmp_path / "day1" / "cam" / "2.jpg"), str(tmp_path / "day2" / "10.jpg")]


def test_read_missing_model_says_to_set_the_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("SCANCAR_OCR_MODEL", str(tmp_path / "no-model"))
    result = CliRunner().invoke(read_cli_app(), ["read", str(tmp_path)])
    assert result.exit_code == 2
    (line,) = [x for x in result.output.splitlines() if x.startswith("error:")]
    assert str(tmp_path / "no-model") in line
    assert line.endswith(
        "set SCANCAR_OCR_MODEL to the model folder (one .onnx and its plate config .yaml; "
        "docs/deploy.md, 'The OCR model on an offline machine')"
    )


def read_cli_app():
    from scancar.cli.root import app

    return app
