"""Shared by the car pipeline's integration and e2e tests: the fixture route and replay options."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fixtures.route import RouteInfo, ensure_route
from scancar.cli.replay import ReplayOptions, parse_camera
from scancar.outbox.store import SqliteOutbox
from tests.conftest import IN_CI, MODEL_DIR, REPO

TOWN = REPO / "fixtures" / "zones" / "town.geojson"


def require_model() -> str:
    if not MODEL_DIR.is_dir():
        if IN_CI:
            pytest.fail(f"OCR model missing at {MODEL_DIR}")
        pytest.skip(f"OCR model not found at {MODEL_DIR}")
    return str(MODEL_DIR)


def demo_route() -> RouteInfo:
    return ensure_route(0)


def options(route: RouteInfo, data_dir: Path, **kwargs: object) -> ReplayOptions:
    base: dict[str, object] = {
        "cameras": (parse_camera(f"cam-right={route.frames_dir}", "right:3"),),
        "gps": route.gps_file,
        "data_dir": data_dir,
        "zones": TOWN,
        "rights_snapshot": route.folder / "rights-snapshot.ndjson",
        "rights_key": route.folder / "rights.key",
        "progress": False,
        "ocr_model": require_model(),
    }
    base.update(kwargs)
    return ReplayOptions(**base)  # type: ignore[arg-type]


def outbox_plates(data_dir: Path) -> list[str]:
    outbox = SqliteOutbox(data_dir / "outbox", 512 * 1024 * 1024)
    try:
        return [json.loads(item.metadata_json)["plate"] for item in outbox.next_batch(1000)]
    finally:
        outbox.close()
