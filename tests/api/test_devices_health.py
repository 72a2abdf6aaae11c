"""The device list over HTTP: each car's latest heartbeat with its health fields and flags."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta


def _beat(client, token, *, minutes_ago=0.0, run=None, frames=10, checks=1, **health):
    body = {
        "sent_at": (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat(),
        "run_id": run,
        "counts": {"frames": frames, "checks": checks, "passes": checks},
        "software_version": "scancar-car/2",
        **health,
    }
    r = client.post(
        "/api/v1/devices/heartbeat", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert r.status_code == 204, r.text


def test_device_list_shows_health_and_flags(client, accounts):
    up = {"name": "right", "state": "up", "fps": 9.9, "last_frame_age_s": 0.1, "frames": 10}
    down = {**up, "state": "down", "fps": 0.0, "last_frame_age_s": 75.0}
    gps_ok = {"state": "ok", "fix_age_s": 0.4, "hdop": 0.8, "fix_quality": "gps", "satellites": 9}
    healthy = accounts.device("car-healthy")
    blind = accounts.device("car-blind")
    idle = accounts.device("car-idle")
    accounts.device("car-never")
    run = str(uuid.uuid4())
    _beat(
        client,
        healthy,
        run=run,
        cameras=[up],
        gps=gps_ok,
        clock_offset_s=0.08,
        clock_trusted=True,
        rights_state="cache",
        dead_letters=0,
        disk_free_bytes=10**10,
    )
    _beat(
        client,
        blind,
        run=run,
        cameras=[down],
        gps={"state": "silent", "fix_age_s": 31.0},
        problems=["camera right down (last frame 75 s ago)"],
    )
    _beat(client, idle, run=run, minutes_ago=35, frames=100, checks=4, cameras=[up], gps=gps_ok)
    _beat(client, idle, run=run, frames=5000, checks=4, cameras=[up], gps=gps_ok)

    r = client.get("/api/v1/devices", headers=accounts.headers("backoffice"))
    assert r.status_code == 200, r.text
    by_name = {d["name"]: d for d in r.json()["data"]}
    assert by_name["car-healthy"]["flags"] == []
    assert by_name["car-healthy"]["gps"]["hdop"] == 0.8
    assert by_name["car-healthy"]["clock_offset_s"] == 0.08
    assert by_name["car-healthy"]["cameras"][0]["fps"] == 9.9
    assert by_name["car-healthy"]["rights_state"] == "cache"
    assert by_name["car-blind"]["flags"] == ["blind", "lost"]
    assert by_name["car-blind"]["blind_cameras"] == ["right"]
    assert by_name["car-blind"]["problems"] == ["camera right down (last frame 75 s ago)"]
    assert by_name["car-idle"]["flags"] == ["reading_nothing"]
    assert by_name["car-idle"]["counts"]["frames"] == 5000
    assert by_name["car-never"]["flags"] == ["silent"]
    assert by_name["car-never"]["cameras"] == []


def test_device_list_is_for_admin_and_backoffice_only(client, accounts):
    assert client.get("/api/v1/devices", headers=accounts.headers("boa")).status_code == 403
    assert client.get("/api/v1/devices", headers=accounts.headers("device")).status_code == 403
