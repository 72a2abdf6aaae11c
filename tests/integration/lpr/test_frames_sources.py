"""Frame sources on real files: image folders, bad images, videos cut short."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest

from scancar.frames.decode import decode_image, read_image
from scancar.frames.sources import (
    ImageFilesSource,
    ImageFolderSource,
    VideoSource,
    open_frame_source,
)
from scancar.frames.timestamps import time_from_name
from scancar.lpr.errors import BadFrameError, FrameSourceError, InvalidSettingError

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _jpeg(value: int = 120, size: tuple[int, int] = (64, 48)) -> bytes:
    image = np.full((size[1], size[0], 3), value, dtype=np.uint8)
    ok, buf = cv2.imencode(".jpg", image)
    assert ok
    return buf.tobytes()


def _video(path: Path, n: int = 20, fps: float = 10.0) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (160, 120))
    for i in range(n):
        frame = np.full((120, 160, 3), (i * 10) % 256, dtype=np.uint8)
        cv2.putText(frame, str(i), (40, 80), cv2.FONT_HERSHEY_SIMPLEX, 1.5, (255, 255, 255), 3)
        writer.write(frame)
    writer.release()
    return path


def test_image_folder_is_read_in_natural_order_with_start_and_fps(tmp_path):
    for name in ("10.jpg", "2.jpg", "1.jpg"):
        (tmp_path / name).write_bytes(_jpeg())
    (tmp_path / "notes.txt").write_text("not an image")
    frames = list(ImageFolderSource(tmp_path, "left", start=START, fps=4.0))
    assert [Path(f.source).name for f in frames] == ["1.jpg", "2.jpg", "10.jpg"]
    assert [f.captured_at for f in frames] == [START + timedelta(seconds=s) for s in (0, 0.25, 0.5)]
    assert {f.camera for f in frames} == {"left"}
    assert all(f.captured_at.tzinfo is UTC for f in frames)


def test_image_folder_skips_and_counts_bad_files(tmp_path, caplog):
    (tmp_path / "1.jpg").write_bytes(_jpeg())
    (tmp_path / "2.jpg").write_bytes(b"")  # zero bytes
    (tmp_path / "3.jpg").write_bytes(_jpeg()[:200])  # truncated
    (tmp_path / "4.jpg").write_bytes(b"this is no jpeg at all")
    (tmp_path / "5.jpg").write_bytes(_jpeg())
    source = ImageFolderSource(tmp_path, start=START, fps=1.0)
    with caplog.at_level(logging.WARNING):
        frames = list(source)
    assert [f.index for f in frames] == [0, 4]
    assert source.skipped == 3
    assert "0 bytes" in caplog.text
    assert "truncated" in caplog.text


def test_timestamps_come_from_sidecar_then_file_name(tmp_path):
    a = tmp_path / "cam_20260302T101500.250Z.jpg"
    b = tmp_path / "b.jpg"
    a.write_bytes(_jpeg())
    b.write_bytes(_jpeg())
    (tmp_path / "b.json").write_text(json.dumps({"captured_at": "2026-03-02T11:00:00+01:00"}))
    frames = list(ImageFilesSource([a, b], start=START, fps=1.0))
    assert frames[0].captured_at == datetime(2026, 3, 2, 10, 15, 0, 250000, tzinfo=UTC)
    assert frames[1].captured_at == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("20260302T101500Z.jpg", datetime(2026, 3, 2, 10, 15, tzinfo=UTC)),
        ("left_2026-03-02_10-15-00.jpg", datetime(2026, 3, 2, 10, 15, tzinfo=UTC)),
        ("2026-03-02T11:15:00+01:00.jpg", datetime(2026, 3, 2, 10, 15, tzinfo=UTC)),
        ("frame_0001.jpg", None),
        ("20261399T999999.jpg", None),
    ],
)
def test_time_from_name(name, expected):
    assert time_from_name(name) == expected


def test_decode_image_refuses_bad_input_with_a_reason():
    with pytest.raises(BadFrameError, match="0 bytes"):
        decode_image(b"", "x.jpg")
    with pytest.raises(BadFrameError, match="truncated"):
        decode_image(_jpeg()[:100], "x.jpg")
    with pytest.raises(BadFrameError, match="not a decodable image"):
        decode_image(b"GIF89a-garbage", "x.gif")


def test_decode_image_refuses_a_huge_image_before_decoding(tmp_path):
    big = _jpeg(size=(4000, 3000))
    with pytest.raises(BadFrameError, match=r"4000x3000 = 12,000,000 pixels; at most 5,000,000"):
        decode_image(big, "big.jpg", max_pixels=5_000_000)
    path = tmp_path / "ok.jpg"
    path.write_bytes(_jpeg())
    assert read_image(path).shape == (48, 64, 3)


def test_video_source_reads_every_frame_with_times(tmp_path):
    path = _video(tmp_path / "pass.avi", n=12, fps=10.0)
    source = VideoSource(str(path), "right", start=START)
    frames = list(source)
    assert [f.index for f in frames] == list(range(12))
    assert frames[5].captured_at - START == pytest.approx(
        timedelta(seconds=0.5), abs=timedelta(milliseconds=2)
    )
    assert source.ended_early is False


def test_video_that_ends_mid_stream_is_read_up_to_the_break(tmp_path, caplog):
    path = _video(tmp_path / "cut.avi", n=30)
    data = path.read_bytes()
    cut = tmp_path / "cut_short.avi"
    cut.write_bytes(data[: len(data) // 2])
    source = VideoSource(str(cut), start=START)
    with caplog.at_level(logging.WARNING):
        frames = list(source)
    assert 0 < len(frames) < 30
    assert source.ended_early is True
    assert "announced frames" in caplog.text


def test_open_frame_source_picks_the_kind_and_names_bad_paths(tmp_path):
    (tmp_path / "a.jpg").write_bytes(_jpeg())
    assert isinstance(open_frame_source(str(tmp_path)), ImageFolderSource)
    assert isinstance(open_frame_source(str(tmp_path / "a.jpg")), ImageFilesSource)
    assert isinstance(open_frame_source(str(_video(tmp_path / "v.avi", n=3))), VideoSource)
    with pytest.raises(FrameSourceError, match="no such file or folder"):
        open_frame_source(str(tmp_path / "missing.mp4"))
    (tmp_path / "x.doc").write_text("?")
    with pytest.raises(FrameSourceError, match=r"unknown file type '\.doc'; allowed: .*\.jpg"):
        open_frame_source(str(tmp_path / "x.doc"))


def test_frame_sources_refuse_naive_start_and_bad_fps(tmp_path):
    with pytest.raises(InvalidSettingError, match="fps 0"):
        ImageFolderSource(tmp_path, fps=0)
    with pytest.raises(InvalidSettingError, match="timezone-aware"):
        ImageFolderSource(tmp_path, start=datetime(2026, 1, 1))  # noqa: DTZ001
