"""Writing and reading synthetic datasets (JPEG + JSON + index) and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from fixtures.synth import (
    InvalidSpecError,
    PlateRequest,
    UnknownChoiceError,
    generate_dataset,
    generate_frame,
    load_dataset,
    render_vehicle_pass,
    write_frames,
)
from fixtures.synth.__main__ import main
from fixtures.synth.dataset import frame_seed
from fixtures.synth.model import FrameSpec


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_generate_dataset_writes_jpeg_json_and_index(tmp_path: Path) -> None:
    out = generate_dataset(tmp_path / "ds", conditions=("clear", "ir"), per_condition=2, seed=3)
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "0000.jpg", "0000.json", "0001.jpg", "0001.json", "0002.jpg", "0002.json",
        "0003.jpg", "0003.json", "index.json",
    ]  # fmt: skip
    index = json.loads((out / "index.json").read_text())
    assert index["seed"] == 3
    assert index["size"] == [1280, 720]
    assert [f["conditions"] for f in index["frames"]] == [["clear"], ["clear"], ["ir"], ["ir"]]
    for entry in index["frames"]:
        image = cv2.imdecode(np.frombuffer((out / entry["image"]).read_bytes(), np.uint8), 1)
        assert image is not None
        assert image.shape == (720, 1280, 3)
        truth = json.loads((out / entry["truth"]).read_text())
        assert truth["image"] == entry["image"]
        assert len(truth["plates"]) == entry["plates"] >= 1
        assert set(truth["plates"][0]) >= {
            "text", "display", "country", "sidecode", "series", "bbox", "quad", "readable",
        }  # fmt: skip


def test_generate_dataset_same_seed_gives_identical_files(tmp_path: Path) -> None:
    a = generate_dataset(tmp_path / "a", conditions=("multi", "noise"), per_condition=2, seed=9)
    b = generate_dataset(tmp_path / "b", conditions=("multi", "noise"), per_condition=2, seed=9)
    assert _files(a) == _files(b)


@pytest.mark.slow
def test_generate_dataset_output_does_not_depend_on_workers(tmp_path: Path) -> None:
    a = generate_dataset(tmp_path / "a", conditions=("clear", "blur"), per_condition=3, seed=2)
    b = generate_dataset(
        tmp_path / "b", conditions=("clear", "blur"), per_condition=3, seed=2, workers=2
    )
    assert _files(a) == _files(b)


def test_generate_dataset_different_seed_gives_different_files(tmp_path: Path) -> None:
    a = generate_dataset(tmp_path / "a", conditions=("clear",), per_condition=2, seed=1)
    b = generate_dataset(tmp_path / "b", conditions=("clear",), per_condition=2, seed=2)
    fa, fb = _files(a), _files(b)
    assert fa.keys() == fb.keys()
    assert all(fa[k] != fb[k] for k in fa)


def test_generate_dataset_frame_matches_generate_frame(tmp_path: Path) -> None:
    out = generate_dataset(tmp_path, conditions=("glare",), per_condition=2, seed=5)
    frame = generate_frame(FrameSpec(conditions=("glare",)), frame_seed(5, 1))
    ((_, _), (image_path, truth)) = load_dataset(out)
    assert truth.plates == frame.truth.plates
    decoded = cv2.imread(str(image_path))
    assert decoded is not None
    assert np.abs(decoded.astype(int) - frame.image.astype(int)).mean() < 4  # JPEG loss only


def test_write_frames_writes_a_vehicle_pass_that_loads_back(tmp_path: Path) -> None:
    frames = render_vehicle_pass(2, n_frames=4, plate=PlateRequest("GZ123T"), neighbours=0)
    out = write_frames(tmp_path / "pass", frames, seed=2)
    loaded = load_dataset(out)
    assert [t.frame_index for _, t in loaded] == [0, 1, 2, 3]
    assert [t.timestamp_s for _, t in loaded] == pytest.approx([0.0, 0.1, 0.2, 0.3])
    assert [t.plates for _, t in loaded] == [f.truth.plates for f in frames]
    index = json.loads((out / "index.json").read_text())
    assert [e["timestamp_s"] for e in index["frames"]] == pytest.approx([0.0, 0.1, 0.2, 0.3])


def test_load_dataset_round_trips_the_truth(tmp_path: Path) -> None:
    out = generate_dataset(tmp_path, conditions=("distractors",), per_condition=2, seed=0)
    for image_path, truth in load_dataset(out):
        assert image_path.is_file()
        raw = json.loads((out / image_path.with_suffix(".json").name).read_text())
        assert truth.to_dict() == raw


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"conditions": ("rain",)}, UnknownChoiceError),
        ({"per_condition": 0}, InvalidSpecError),
        ({"seed": -1}, InvalidSpecError),
        ({"workers": 0}, InvalidSpecError),
    ],
)
def test_generate_dataset_rejects_bad_arguments(
    tmp_path: Path, kwargs: dict[str, object], error: type[Exception]
) -> None:
    with pytest.raises(error):
        generate_dataset(tmp_path, **kwargs)  # type: ignore[arg-type]


def test_cli_writes_dataset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [str(tmp_path), "--per-condition", "1", "--seed", "4", "--conditions", "far,foreign",
         "--size", "640x480", "--workers", "1"]
    )  # fmt: skip
    assert code == 0
    assert "wrote 2 frames" in capsys.readouterr().out
    index = json.loads((tmp_path / "index.json").read_text())
    assert index["size"] == [640, 480]
    assert len(index["frames"]) == 2


def test_cli_reports_unknown_condition(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path), "--conditions", "clear,fog"]) == 2
    assert "unknown condition 'fog'" in capsys.readouterr().err
