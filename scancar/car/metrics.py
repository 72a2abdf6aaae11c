"""The car's Prometheus metrics on a local port (``health.metrics_port``, 127.0.0.1 by
default; 0: off), in the text format of ``prometheus-client``.

Every value is read from the car at scrape time (one health snapshot per scrape): nothing is
updated in the frame loop. Names follow the project's scheme (``scancar_car_`` prefix, base
units, ``_total`` for counters); labels are camera names and outcome kinds only, never a plate
or a position.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily
from prometheus_client.registry import Collector

from scancar.car.errors import CarStartError
from scancar.car.health import car_health, outcomes_now

if TYPE_CHECKING:
    from prometheus_client.core import Metric

    from scancar.car.build import Car

log = logging.getLogger("scancar.metrics")

P = "scancar_car_"


def _gauge(name: str, doc: str, value: float | None) -> GaugeMetricFamily | None:
    return None if value is None else GaugeMetricFamily(P + name, doc, value=value)


class CarCollector(Collector):
    def __init__(self, car: Car) -> None:
        self.car = car

    def collect(self) -> Iterator[Metric]:
        car = self.car
        if car.pipeline is None:  # still starting
            return
        h = car_health(car)
        c = car.pipeline.counters
        yield from self._counters(car, c)
        yield from self._cameras(h)
        gps_age = None if h.gps is None else h.gps.fix_age_s
        for metric in (
            _gauge("outbox_backlog", "suspects waiting for the backend", h.outbox_backlog),
            _gauge(
                "outbox_oldest_age_seconds",
                "age of the oldest suspect waiting (absent when none waits)",
                h.outbox_oldest_age_s,
            ),
            _gauge("outbox_dead_letters", "suspects the backend refused", h.dead_letters),
            _gauge("gps_fix_age_seconds", "age of the newest GPS fix", gps_age),
            _gauge("gps_hdop", "HDOP of the newest fix", None if h.gps is None else h.gps.hdop),
            _gauge("clock_offset_seconds", "system clock minus GPS time", h.clock_offset_s),
            _gauge(
                "clock_trusted",
                "1 while the clock agrees with GPS time (0: nothing is fined)",
                None if h.clock_trusted is None else float(h.clock_trusted),
            ),
            _gauge("rights_cache_age_seconds", "age of the rights cache", h.rights_cache_age_s),
            _gauge(
                "rights_key_present",
                "1 when the plate key is in memory (0: rights unknown, nothing is fined)",
                float(h.rights_state == "cache"),
            ),
            _gauge("disk_free_bytes", "free space in the data folder", h.disk_free_bytes),
            _gauge("uptime_seconds", "seconds since the car process started", h.uptime_s),
            _gauge("problems", "problems the car finds (0: healthy)", len(h.problems)),
        ):
            if metric is not None:
                yield metric
        info = InfoMetricFamily(P + "build", "software version, run and mode")
        info.add_metric(
            [], {"version": h.software_version, "run_id": str(h.run_id), "mode": car.mode}
        )
        yield info

    @staticmethod
    def _counters(car: Car, c: Any) -> Iterator[Metric]:
        for name, doc, value in (
            ("reads", "plate reads", c.reads),
            ("rights_checks", "rights checks made", c.checks),
            ("suspects_stored", "suspects stored in the outbox", c.suspects_stored),
            ("sink_failures", "suspects the outbox refused", c.sink_failures),
        ):
            yield CounterMetricFamily(P + name, doc, value=value)
        passes = CounterMetricFamily(P + "passes", "vehicle passes by outcome", labels=["outcome"])
        for outcome, n in sorted(outcomes_now(car).items()):
            passes.add_metric([outcome], n)
        yield passes
        if car.live_frames is None:
            yield CounterMetricFamily(P + "frames", "frames processed", value=c.frames)

    @staticmethod
    def _cameras(h: Any) -> Iterator[Metric]:
        if not h.cameras:
            return
        frames = CounterMetricFamily(P + "frames", "frames received", labels=["camera"])
        dropped = CounterMetricFamily(
            P + "frames_dropped", "frames dropped (pipeline behind)", labels=["camera"]
        )
        reconnects = CounterMetricFamily(
            P + "camera_reconnects", "stream (re)connection attempts", labels=["camera"]
        )
        fps = GaugeMetricFamily(P + "camera_fps", "frames per second (5 s)", labels=["camera"])
        up = GaugeMetricFamily(P + "camera_up", "1 while the camera delivers", labels=["camera"])
        age = GaugeMetricFamily(
            P + "camera_last_frame_age_seconds", "age of the last frame", labels=["camera"]
        )
        for cam in h.cameras:
            frames.add_metric([cam.name], cam.frames)
            dropped.add_metric([cam.name], cam.dropped)
            reconnects.add_metric([cam.name], cam.reconnects)
            fps.add_metric([cam.name], cam.fps)
            up.add_metric([cam.name], float(cam.state == "up"))
            if cam.last_frame_age_s is not None:
                age.add_metric([cam.name], cam.last_frame_age_s)
        yield from (frames, dropped, reconnects, fps, up, age)


class MetricsServer:
    """``/metrics`` for one car; ``close()`` stops it."""

    def __init__(self, car: Car, host: str, port: int) -> None:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(CarCollector(car))
        try:
            self._server, self._thread = start_http_server(port, host, registry)
        except OSError as exc:
            raise CarStartError(
                f"health.metrics_port {port} on {host}: cannot listen ({exc.strerror}); "
                "choose another port or 0 to turn the metrics off"
            ) from None
        self.port = int(self._server.server_address[1])

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        thread: threading.Thread = self._thread
        thread.join(timeout=5)
