"""``scancar run`` as a real process on a live street: an MJPEG camera served on loopback, NMEA
through a pseudo-terminal pair, a real backend (uvicorn). The car is supervised rather than
ending: the camera stream stopping and coming back, GPS silence and recovery, a second car
process on the same folder, a bad token, the backend down at start, a clock ahead of GPS.

These tests run the backend on SQLite only: what is under test is the car process; the
backend's database behaviour has its own tests on both databases. ``scancar status`` output
and the device list as the backend shows it are written to ``test-artifacts/``.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import REPO, make_test_settings
from tests.e2e.livecar import (
    LiveDrive,
    MjpegCamera,
    NmeaPty,
    NotifySocket,
    car_command,
    car_env,
    car_status,
    log_lines,
    messages,
    running,
    start_car,
    status_doc,
    stop_car,
    wait_for,
    write_config,
)
from tests.e2e.server import free_port, serve
from tests.integration.pipeline.car_support import demo_route, require_model

pytestmark = [pytest.mark.slow, pytest.mark.model]

ARTIFACTS = REPO / "test-artifacts"
TOWN = REPO / "fixtures" / "zones" / "town.geojson"
ALL_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun", "holiday"]


def always_regulated_zones() -> dict[str, Any]:
    """The fixture town with every zone regulated around the clock (a test at any hour)."""
    doc = json.loads(TOWN.read_text(encoding="utf-8"))
    for feature in doc["features"]:
        props = feature["properties"]
        first = props["schedule"][0]
        props["schedule"] = [{**first, "days": ALL_DAYS, "start": "00:00", "end": "24:00"}]
        props["holidays"] = "regulated"
    return doc


class LiveBackend:
    def __init__(self, app: Any, engine: Any) -> None:
        self.app = app
        self.engine = engine
        self.base = ""
        self._headers: dict[str, str] | None = None

    def device(self, name: str) -> str:
        from api.auth.service import create_device
        from api.db import session_scope

        with session_scope(self.engine) as session:
            _, token = create_device(session, name=name)
        return token

    def headers(self) -> dict[str, str]:
        if self._headers is None:
            from api.auth.service import create_user
            from api.db import session_scope

            with session_scope(self.engine) as session:
                create_user(session, username="bo", password="correct-horse-1", role="backoffice")
            r = httpx.post(
                f"{self.base}/api/v1/auth/token",
                data={"username": "bo", "password": "correct-horse-1"},
                timeout=10,
            )
            r.raise_for_status()
            self._headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
        return self._headers

    def hits(self) -> list[dict[str, Any]]:
        r = httpx.get(
            f"{self.base}/api/v1/hits", params={"limit": 500}, headers=self.headers(), timeout=10
        )
        r.raise_for_status()
        return list(r.json()["data"])

    def device_status(self, name: str) -> dict[str, Any]:
        r = httpx.get(f"{self.base}/api/v1/devices", headers=self.headers(), timeout=10)
        r.raise_for_status()
        return next(d for d in r.json()["data"] if d["name"] == name)


@pytest.fixture
def live_backend(tmp_path, sqlite_template) -> Iterator[LiveBackend]:
    from api.db import make_engine, session_scope
    from api.main import create_app
    from api.zones.service import import_zones

    path = tmp_path / "backend.db"
    shutil.copy(sqlite_template, path)
    settings = make_test_settings(f"sqlite:///{path}", tmp_path)
    settings.device_lost_after_s = 5
    engine = make_engine(settings.database_url)
    with session_scope(engine) as session:
        import_zones(
            session, always_regulated_zones(), None, crs=None, fix=False, actor_name="test"
        )
    yield LiveBackend(create_app(settings, engine=engine), engine)
    engine.dispose()


@pytest.fixture
def street() -> Iterator[tuple[LiveDrive, MjpegCamera, NmeaPty]]:
    drive = LiveDrive(demo_route())
    camera, gps = MjpegCamera(drive), NmeaPty(drive)
    yield drive, camera, gps
    camera.close()
    gps.close()


def _config(tmp_path: Path, backend_url: str, token: str, camera, gps, **extra: Any) -> Path:
    token_file = tmp_path / "device-token"
    token_file.write_text(token + "\n")
    values = {
        "data_dir": tmp_path / "car",
        "model": require_model(),
        "backend": backend_url,
        "token_file": token_file,
        "gps": gps.path,
        "camera": camera.url,
        "metrics_port": 0,
    }
    values.update(extra)
    return write_config(tmp_path, **values)


def _artifact(name: str, text: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / name).write_text(text, encoding="utf-8")


def _hits_delivered(backend: LiveBackend, data_dir: Path) -> list[dict[str, Any]]:
    """Hits in the backend for every suspect the car stored, nothing left in its outbox.
    (How many passes a drive gives depends on the machine's load: the live camera drops
    frames the pipeline cannot keep up with, as a real car does.)"""

    def delivered() -> list[dict[str, Any]] | None:
        health = status_doc(data_dir)
        stored = (health.get("counts") or {}).get("suspects", 0)
        hits = backend.hits()
        done = stored >= 1 and health.get("outbox_backlog") == 0 and len(hits) >= stored
        return hits if done else None

    return list(wait_for(delivered, 90, "suspects stored and delivered as hits"))


TRANSITIONS = ("stream lost", ": down, no frame", "back after", "GPS silent: no", "GPS back: ")


def _transitions(data_dir: Path, since: tuple[int, ...] | None = None) -> tuple[int, ...]:
    """How many times car.log says each of ``TRANSITIONS`` (minus ``since``)."""
    counts = tuple(len(messages(data_dir, needle)) for needle in TRANSITIONS)
    return counts if since is None else tuple(n - m for n, m in zip(counts, since, strict=True))


def _no_plate_or_position_in_log(data_dir: Path, plates: list[str]) -> None:
    text = "\n".join(json.dumps(line) for line in log_lines(data_dir))
    assert text
    for plate in plates:
        assert plate not in text, plate
    assert not re.search(r"52\.01\d{2}|4\.35\d{2}", text), "a coordinate in car.log"


def _check_metrics(url: str, hits: int) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    text = httpx.get(url, timeout=10).text
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    assert samples[("scancar_car_frames_total", (("camera", "right"),))] > 50
    assert samples[("scancar_car_camera_up", (("camera", "right"),))] == 1.0
    assert samples[("scancar_car_camera_fps", (("camera", "right"),))] > 0
    suspects = samples[("scancar_car_passes_total", (("outcome", "suspect"),))]
    assert suspects >= hits
    assert samples[("scancar_car_suspects_stored_total", ())] == suspects
    assert samples[("scancar_car_outbox_backlog", ())] == 0
    assert samples[("scancar_car_gps_fix_age_seconds", ())] < 5
    assert samples[("scancar_car_rights_key_present", ())] == 1.0
    assert samples[("scancar_car_clock_trusted", ())] == 1.0
    assert ("scancar_car_rights_cache_age_seconds", ()) in samples
    assert not re.search(r"52\.01\d{2}|4\.35\d{2}", text)
    for plate in (c.plate for c in demo_route().cars):
        assert plate not in text
    _artifact("car-metrics.txt", text)


def test_live_car_supervised_through_camera_and_gps_outages(live_backend, street, tmp_path):
    drive, camera, gps = street
    notify = NotifySocket()
    data_dir = tmp_path / "car"
    with serve(live_backend.app) as base:
        live_backend.base = base
        token = live_backend.device("car-live")
        metrics_port = free_port()
        config = _config(tmp_path, base, token, camera, gps, metrics_port=metrics_port)
        gps.flush()
        with running(start_car(config, car_env(notify))) as car:
            wait_for(lambda: "READY=1" in notify.messages or car.poll() is not None, 90, "READY")
            assert car.poll() is None, car.communicate()[1]

            # a second car process on the same data folder is refused at once, in one line
            second = car_command("run", config)
            assert second.returncode == 1
            assert second.stderr.count("\n") == 1, second.stderr
            assert f"in use by car process {car.pid}" in second.stderr

            healthy = wait_for(
                lambda: (s := car_status(config)).returncode == 0 and s, 30, "healthy status"
            )
            _artifact("car-status-healthy.txt", healthy.stdout)
            assert "camera right: up" in healthy.stdout

            # one drive down the street: its violators become hits (no rights in this backend)
            drive.drive()
            wait_for(drive.is_done, 60, "the drive")
            got = _hits_delivered(live_backend, data_dir)
            assert {h["status"] for h in got} == {"pending_grace"}
            _check_metrics(f"http://127.0.0.1:{metrics_port}/metrics", len(got))

            # the camera stream stops: reconnecting, down, the heartbeat says so, back
            # (counted from here: on a machine under heavy load a stall can look like an
            # outage before; each outage must give one line of each kind, no more)
            before = _transitions(data_dir)
            camera.stop()
            down = wait_for(
                lambda: (
                    (d := live_backend.device_status("car-live"))["cameras"][0]["state"] == "down"
                    and d
                ),
                30,
                "the heartbeat saying the camera is down",
            )
            assert down["flags"] == ["blind"]
            unhealthy = car_status(config)
            assert unhealthy.returncode == 1
            assert "camera right down" in unhealthy.stdout
            _artifact("car-status-unhealthy.txt", unhealthy.stdout)
            _artifact("car-device-blind.json", json.dumps(down, indent=1))
            camera.resume()
            up = wait_for(
                lambda: (d := live_backend.device_status("car-live"))["flags"] == [] and d,
                30,
                "the camera back in the heartbeat",
            )
            assert up["cameras"][0]["state"] == "up"
            assert up["cameras"][0]["reconnects"] >= 1
            _artifact("car-device-healthy.json", json.dumps(up, indent=1))
            assert _transitions(data_dir, before)[:3] == (1, 1, 1)

            # GPS silent: one line, the car is flagged lost; fixes again: one line
            before = _transitions(data_dir)
            gps.is_silent = True
            wait_for(
                lambda: "lost" in live_backend.device_status("car-live")["flags"],
                30,
                "the backend flagging the car lost",
            )
            silent_for = status_doc(data_dir)["gps"]["fix_age_s"]
            wait_for(lambda: status_doc(data_dir)["gps"]["fix_age_s"] > silent_for + 3, 30, "3 s")
            gps.is_silent = False
            wait_for(lambda: _transitions(data_dir, before)[4], 30, "GPS back")
            assert _transitions(data_dir, before)[3:] == (1, 1)
            assert "WATCHDOG=1" in notify.messages
            out, err = stop_car(car)
        assert car.returncode == 0, err
        counters = json.loads(out.strip().splitlines()[-1])
        hits = live_backend.hits()
    notify.close()
    assert counters["suspects_stored"] == len(hits) >= 1
    assert counters["outbox_backlog"] == 0
    assert messages(data_dir, "summary: cameras right")
    _no_plate_or_position_in_log(data_dir, [c.plate for c in demo_route().cars])


def test_live_car_bad_token_exits_non_zero_with_one_line(live_backend, street, tmp_path):
    _, camera, gps = street
    with serve(live_backend.app) as base:
        config = _config(tmp_path, base, "scd_" + "x" * 43, camera, gps)
        proc = start_car(config, car_env())
        _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1
    assert err.count("\n") == 1, err
    assert err.startswith("error: the backend")
    assert "refused the device token" in err
    assert str(tmp_path / "device-token") in err
    assert messages(tmp_path / "car", "refused the device token")


def test_live_car_clock_ahead_of_gps_fines_nothing_and_says_so_once(live_backend, street, tmp_path):
    drive, camera, gps = street
    drive.shift_s = 2.0  # true (GPS) time is 2 s behind this machine's clock
    data_dir = tmp_path / "car"
    with serve(live_backend.app) as base:
        live_backend.base = base
        config = _config(tmp_path, base, live_backend.device("car-clock"), camera, gps)
        gps.flush()
        with running(start_car(config, car_env())) as car:
            wait_for(lambda: status_doc(data_dir).get("gps"), 90, "the car running")
            drive.drive()
            wait_for(drive.is_done, 60, "the drive")
            wait_for(
                lambda: (status_doc(data_dir).get("counts") or {}).get("clock_refused", 0) >= 1,
                60,
                "passes refused for the clock",
            )
            status = car_status(config)
            out, err = stop_car(car)
        assert car.returncode == 0, err
        assert live_backend.hits() == []
    counters = json.loads(out.strip().splitlines()[-1])
    assert counters["suspects_stored"] == 0
    assert counters["outcomes"]["discard_clock_offset"] == counters["passes"]
    warnings = messages(data_dir, "ahead of GPS time")
    assert len(warnings) == 1, warnings
    assert "nothing is fined" in warnings[0]
    assert status.returncode == 1
    assert "clock off by +2.0" in status.stdout


def test_live_car_starts_offline_with_saved_zones_and_delivers_later(
    live_backend, street, tmp_path
):
    from scancar.car.zoneset import save_zones

    drive, camera, gps = street
    data_dir = tmp_path / "car"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    live_backend.base = base
    token = live_backend.device("car-offline")
    data_dir.mkdir()
    save_zones(data_dir, always_regulated_zones(), 1, datetime.now(UTC))  # an earlier run
    config = _config(tmp_path, base, token, camera, gps)
    gps.flush()
    with running(start_car(config, car_env())) as car:
        # the backend is down: the car starts with its saved zones, rights unknown
        health = wait_for(
            lambda: (h := status_doc(data_dir)).get("rights_state") and h, 90, "a status"
        )
        assert car.poll() is None
        assert (health["zones_origin"], health["rights_state"]) == ("saved", "no_key")
        assert "rights unknown" in car_status(config).stdout
        drive.drive()
        wait_for(drive.is_done, 60, "the drive")
        wait_for(
            lambda: status_doc(data_dir)["counts"]["rights_unknown"] >= 1,
            60,
            "passes with rights unknown",
        )
        assert status_doc(data_dir)["counts"]["suspects"] == 0
        with serve(live_backend.app, port):
            # the backend is back: the key is fetched, the next drive's suspects delivered
            wait_for(lambda: status_doc(data_dir)["rights_state"] == "cache", 30, "the key")
            drive.drive()
            wait_for(drive.is_done, 60, "the second drive")
            got = _hits_delivered(live_backend, data_dir)
            back = wait_for(
                lambda: (
                    (d := live_backend.device_status("car-offline"))["zones_origin"] == "backend"
                    and d
                ),
                30,
                "the backend's zone set in use",
            )
            assert back["flags"] == []
            out, err = stop_car(car)
    assert car.returncode == 0, err
    counters = json.loads(out.strip().splitlines()[-1])
    assert counters["suspects_stored"] == len(got)
    assert counters["outcomes"]["discard_rights_unavailable"] >= 1
    assert len(messages(data_dir, "using the saved zone set")) == 1
    assert len(messages(data_dir, "from the backend in use (was saved version 1)")) == 1


def _offline_config(tmp_path: Path, camera_url: str, gps_path: str, **start: float) -> Path:
    """A car without a backend (a test rig: key file, zones file), short start timeouts."""
    route = demo_route()
    zones = tmp_path / "zones.geojson"
    zones.write_text(json.dumps(always_regulated_zones()))
    text = f"""
data_dir = "{tmp_path / "car"}"
ocr_model = "{require_model()}"
[rights]
key_file = "{route.folder / "rights.key"}"
[zones]
file = "{zones}"
[gps]
source = "serial:{gps_path}"
[[cameras]]
name = "right"
source = "{camera_url}"
[start]
camera_timeout_s = {start.get("camera", 3)}
gps_fix_timeout_s = {start.get("gps", 3)}
[health]
metrics_port = 0
"""
    path = tmp_path / "car.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("case", "needle"),
    [
        ("dead camera", "camera right (http://127.0.0.1:{port}/stream): no frame within 3 s"),
        ("GPS port in use", "in use by another process"),
        ("no fix", "no fix within 3 s (start.gps_fix_timeout_s)"),
    ],
)
def test_live_car_refuses_devices_it_cannot_use(street, tmp_path, case, needle):
    import serial

    _, camera, gps = street
    port = free_port()
    camera_url = f"http://127.0.0.1:{port}/stream" if case == "dead camera" else camera.url
    gps_path = gps.path
    holder = serial.Serial(gps.path, exclusive=True) if case == "GPS port in use" else None
    gps.is_silent = case == "no fix"
    try:
        proc = car_command("run", _offline_config(tmp_path, camera_url, gps_path))
    finally:
        if holder is not None:
            holder.close()
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert needle.format(port=port) in proc.stderr
    assert messages(tmp_path / "car", needle.format(port=port))
