"""The device list's flags as a table: silent, blind, lost, reading nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from api.devices.health import DeviceFlag, HealthThresholds, HeartbeatFacts, device_verdict

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
T = HealthThresholds()
UP = {"name": "right", "state": "up", "last_frame_age_s": 0.1}
GPS_OK = {"state": "ok", "fix_age_s": 0.5}


def _hb(minutes_ago=0.0, run="r1", frames=1000, checks=10, cameras=(UP,), gps=GPS_OK, health=True):
    return HeartbeatFacts(
        NOW - timedelta(minutes=minutes_ago),
        run,
        {"frames": frames, "checks": checks},
        {"cameras": list(cameras), "gps": gps} if health else None,
    )


@pytest.mark.parametrize(
    ("seen_min", "latest", "earlier", "flags", "blind"),
    [
        (1, _hb(), _hb(31, frames=100, checks=2), (), ()),
        (None, None, None, (DeviceFlag.SILENT,), ()),
        (6, _hb(6), None, (DeviceFlag.SILENT,), ()),
        (4.9, _hb(4.9), None, (), ()),
        (
            1,
            _hb(cameras=(UP, {"name": "left", "state": "down", "last_frame_age_s": 40})),
            None,
            (DeviceFlag.BLIND,),
            ("left",),
        ),
        (
            1,
            _hb(cameras=({"name": "right", "state": "up", "last_frame_age_s": 61},)),
            None,
            (DeviceFlag.BLIND,),
            ("right",),
        ),
        (1, _hb(gps={"state": "silent", "fix_age_s": 30}), None, (DeviceFlag.LOST,), ()),
        (1, _hb(gps={"state": "ok", "fix_age_s": 61}), None, (DeviceFlag.LOST,), ()),
        (1, _hb(gps={"state": "no_fix", "fix_age_s": None}), None, (DeviceFlag.LOST,), ()),
        (1, _hb(checks=2), _hb(31, frames=100, checks=2), (DeviceFlag.READING_NOTHING,), ()),
        (1, _hb(checks=2), _hb(31, run="r0", frames=100, checks=2), (), ()),  # another run
        (1, _hb(frames=100, checks=2), _hb(31, frames=100, checks=2), (), ()),  # no frames
        (1, _hb(health=False), None, (), ()),  # an older car without health fields
        (
            9,
            _hb(9, cameras=({"name": "right", "state": "down", "last_frame_age_s": 99},)),
            None,
            (DeviceFlag.SILENT, DeviceFlag.BLIND),
            ("right",),
        ),
    ],
)
def test_device_flags(seen_min, latest, earlier, flags, blind):
    seen = None if seen_min is None else NOW - timedelta(minutes=seen_min)
    verdict = device_verdict(seen, latest, earlier, NOW, T)
    assert verdict.flags == flags
    assert verdict.blind_cameras == blind
