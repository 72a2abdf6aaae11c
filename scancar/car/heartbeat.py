"""The heartbeat: the car's health snapshot plus its last position (only the backend gets the
position; it never goes to a log, the status file or the metrics)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scancar.car.health import car_health
from scancar.outbox.uploader import HeartbeatSender
from scancar.wire import Heartbeat

if TYPE_CHECKING:
    from scancar.car.build import Car


def build_heartbeat(car: Car) -> Heartbeat:
    health = car_health(car)
    latest = getattr(car.track, "latest", None)
    if latest is None:
        return health
    return health.model_copy(update={"lon": latest.lon, "lat": latest.lat})


def heartbeat_sender(car: Car) -> HeartbeatSender:
    link, backend = car.link, car.config.backend
    if link is None or backend is None:
        raise ValueError("a heartbeat needs a backend")
    return HeartbeatSender(
        link.client,
        link.base_url,
        link.token,
        lambda: build_heartbeat(car),
        interval_s=backend.heartbeat_s,
    )
