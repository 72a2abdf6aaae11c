"""Start-up checks that need no device: the data-folder lock, recordings refused by ``run``,
the MJPEG part splitter."""

from __future__ import annotations

import pytest

from scancar.car.build import live_setup_problem
from scancar.car.errors import DataFolderInUseError
from scancar.car.lock import DataFolderLock, is_locked
from scancar.config import CameraConfig, CarConfig, GpsConfig
from scancar.frames.mjpeg import _take_part


def test_lock_second_holder_refused_with_owner_pid_then_free_after_release(tmp_path):
    first = DataFolderLock(tmp_path)
    first.acquire()
    assert is_locked(tmp_path)
    second = DataFolderLock(tmp_path)
    with pytest.raises(DataFolderInUseError) as err:
        second.acquire()
    assert f"car process {__import__('os').getpid()}" in str(err.value)
    assert str(tmp_path) in str(err.value)
    first.release()
    assert not is_locked(tmp_path)
    second.acquire()
    second.release()


def _config(camera: str, gps: str) -> CarConfig:
    return CarConfig(
        data_dir="/tmp/x",
        gps=GpsConfig(source=gps),
        cameras=[CameraConfig(name="right", source=camera)],
    )


@pytest.mark.parametrize(
    ("camera", "gps", "problem"),
    [
        ("0", "serial:/dev/ttyACM0", None),
        ("/dev/video2", "gpsd:127.0.0.1:2947", None),
        ("rtsp://10.0.0.2/s1", "serial:/dev/ttyUSB0", None),
        ("http://10.0.0.2/mjpeg", "serial:/dev/ttyUSB0", None),
        ("frames/cam-right", "serial:/dev/ttyUSB0", "cameras.0.source"),
        ("drive.mp4", "serial:/dev/ttyUSB0", "cameras.0.source"),
        ("0", "nmea:drive.nmea", "gps.source"),
        ("0", "gpx:drive.gpx", "gps.source"),
    ],
)
def test_run_takes_live_devices_only(camera, gps, problem):
    found = live_setup_problem(_config(camera, gps))
    if problem is None:
        assert found is None
    else:
        assert found is not None
        assert found.startswith(problem)
        assert "scancar replay" in found
        assert "\n" not in found


def _part(body: bytes, *, length: bool = True) -> bytes:
    head = b"--frame\r\nContent-Type: image/jpeg\r\n"
    if length:
        head += b"Content-Length: %d\r\n" % len(body)
    return head + b"\r\n" + body + b"\r\n"


@pytest.mark.parametrize("length", [True, False])
def test_mjpeg_parts_split_at_any_chunk_boundary(length):
    bodies = [b"\xff\xd8first\xff\xd9", b"\xff\xd8second--fr\xff\xd9", b"\xff\xd8third\xff\xd9"]
    stream = b"preamble\r\n" + b"".join(_part(b, length=length) for b in bodies) + b"--frame\r\n"
    for size in (1, 3, 7, len(stream)):
        got, buffer = [], b""
        for i in range(0, len(stream), size):
            buffer += stream[i : i + size]
            while True:
                part, buffer, complete = _take_part(buffer, b"--frame")
                if not complete:
                    break
                got.append(part)
        assert got == bodies, size
