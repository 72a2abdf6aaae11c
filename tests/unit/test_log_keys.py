"""The car's and the backend's JSON log lines use the same keys."""

from __future__ import annotations

import json
import logging

from api.logsetup import JsonFormatter
from scancar.cli.carlog import JsonLineFormatter


def _record(exc: bool = False) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            import sys

            exc_info = sys.exc_info()
    return logging.LogRecord("scancar.x", logging.WARNING, __file__, 1, "n=%d", (3,), exc_info)


def test_log_keys_car_and_backend_agree():
    for exc in (False, True):
        car = json.loads(JsonLineFormatter().format(_record(exc)))
        backend = json.loads(JsonFormatter().format(_record(exc)))
        assert car.keys() == backend.keys()
        assert {k: v for k, v in car.items() if k not in ("time", "exc")} == {
            "level": "warning",
            "logger": "scancar.x",
            "message": "n=3",
        }
        assert car["time"][:19] == backend["time"][:19]
