"""``car.toml`` validation: a good file loads, every bad one fails with one line naming the key."""

from __future__ import annotations

import pytest

from scancar.config import CarConfigError, load_car_config

GOOD = """
data_dir = "data"
[gps]
source = "nmea:gps.nmea"
[zones]
file = "zones.geojson"
[[cameras]]
name = "right"
source = "frames"
side = "right"
distance_m = 3.5
[thresholds]
chalk_distance_m = 6.0
report_foreign = true
"""


def _write(tmp_path, text):
    (tmp_path / "zones.geojson").write_text("{}")
    (tmp_path / "token").write_text("scd_x\n")
    path = tmp_path / "car.toml"
    path.write_text(text)
    return path


def test_car_config_loads_and_resolves_paths(tmp_path):
    config = load_car_config(_write(tmp_path, GOOD))
    settings = config.pipeline_settings()
    assert config.data_dir == tmp_path.resolve() / "data"
    assert config.zones.file == tmp_path.resolve() / "zones.geojson"
    assert (config.cameras[0].distance_m, settings.chalk_distance_m, settings.report_foreign) == (
        3.5,
        6.0,
        True,
    )


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (('side = "right"', 'side = "up"'), "cameras.0.side"),
        (('source = "nmea:gps.nmea"', 'source = "usb"'), "gps.source"),
        (("distance_m = 3.5", "distance_m = -1"), "cameras.0.distance_m"),
        (("chalk_distance_m = 6.0", "chalk_distance_m = 0.1"), "chalk_distance_m"),
        (('file = "zones.geojson"', 'file = "missing.geojson"'), "zones.file"),
        (("report_foreign = true", "report_foreign = true\ncolour = 1"), "thresholds.colour"),
        (
            (
                'data_dir = "data"',
                'data_dir = "data"\n[backend]\nurl = "ftp://x"\ntoken_file = "token"',
            ),
            "backend.url",
        ),
        (
            (
                'data_dir = "data"',
                'data_dir = "data"\n[backend]\nurl = "http://x"\ntoken_file = "nope"',
            ),
            "backend.token_file",
        ),
        (('data_dir = "data"', "data_dir = [1"), "not valid TOML"),
    ],
)
def test_car_config_errors_are_one_line(tmp_path, change, needle):
    old, new = change
    with pytest.raises(CarConfigError) as err:
        load_car_config(_write(tmp_path, GOOD.replace(old, new)))
    message = str(err.value)
    assert needle in message
    assert "\n" not in message


def test_car_config_missing_file(tmp_path):
    with pytest.raises(CarConfigError, match="no such file"):
        load_car_config(tmp_path / "car.toml")
