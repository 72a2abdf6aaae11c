"""``EnforcementPipeline``: frames with their reads in, decisions and stored suspects out.

One instance per car process. It joins reads into vehicle passes (``PassTracker``), looks up the
parked car's position, calls ``decide`` and hands suspects (metadata + evidence) to the
``SuspectSink``. Nothing about a discarded pass is kept: it is counted and dropped.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from scancar.gps.camera import CameraMount, parked_position
from scancar.gps.model import Position
from scancar.lpr.model import BBox, Frame, Image, PlateRead, VehiclePass
from scancar.pipeline.evidence import ContextFrame, compose_evidence
from scancar.pipeline.model import Counters, Outcome, OutcomeKind, PipelineSettings
from scancar.pipeline.ports import (
    ChalkStore,
    Clock,
    PositionLookup,
    RepeatGuard,
    RightsSource,
    SuspectSink,
)
from scancar.pipeline.rules import decide
from scancar.wire import ObservationMetadata
from zones.index import ZoneIndex

log = logging.getLogger(__name__)


class PassTrackerLike(Protocol):
    def update(self, frame: Frame, reads: list[PlateRead]) -> list[VehiclePass]: ...

    def flush(self) -> list[VehiclePass]: ...


@dataclass(frozen=True, slots=True)
class _Recent:
    index: int
    image: Image
    boxes: tuple[tuple[str, BBox], ...]
    arrived_s: float  # monotonic time the frame entered the pipeline


@dataclass(frozen=True, slots=True)
class Decided:
    """One decided pass: the outcome, and for suspects the metadata that was stored.
    ``capture_to_store_s``: seconds from the overview frame's capture to the outbox."""

    outcome: Outcome
    metadata: ObservationMetadata | None = None
    capture_to_store_s: float | None = None


class EnforcementPipeline:
    def __init__(
        self,
        *,
        tracker: PassTrackerLike,
        mounts: Mapping[str, CameraMount],
        positions: PositionLookup,
        zone_index: ZoneIndex,
        rights: RightsSource,
        chalk: ChalkStore,
        repeat_guard: RepeatGuard,
        sink: SuspectSink,
        settings: PipelineSettings,
        clock: Clock,
        id_key: bytes | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        is_clock_trusted: Callable[[], bool] | None = None,
    ) -> None:
        self.tracker = tracker
        self.mounts = dict(mounts)
        self.positions = positions
        self.zone_index = zone_index
        self.rights = rights
        self.chalk = chalk
        self.repeat_guard = repeat_guard
        self.sink = sink
        self.settings = settings
        self.clock = clock
        self._monotonic = monotonic
        self._is_clock_trusted = is_clock_trusted
        self.counters = Counters()
        self._id_key = id_key
        self._recent: dict[str, deque[_Recent]] = {}
        self.latencies_s: list[float] = []

    # ----------------------------------------------------------------------- frames
    def process(self, frame: Frame, reads: list[PlateRead]) -> list[Decided]:
        self.counters.frames += 1
        self.counters.reads += len(reads)
        buf = self._recent.setdefault(
            frame.camera, deque(maxlen=2 * self.settings.context_offset_frames + 30)
        )
        boxes = tuple((r.plate, r.bbox) for r in reads)
        buf.append(_Recent(frame.index, frame.image, boxes, self._monotonic()))
        return [self.handle_pass(p) for p in self.tracker.update(frame, reads)]

    def flush(self) -> list[Decided]:
        decided = [self.handle_pass(p) for p in self.tracker.flush()]
        self._recent.clear()
        return decided

    # ----------------------------------------------------------------------- passes
    def position_for(self, vehicle_pass: VehiclePass) -> tuple[Position | None, Position | None]:
        """(car position, parked-car position) at the pass's overview frame."""
        car = self.positions.position_at(vehicle_pass.overview_captured_at)
        if car is None:
            return None, None
        mount = self.mounts.get(vehicle_pass.camera)
        if mount is None:
            log.warning("no mount configured for camera %s: pass skipped", vehicle_pass.camera)
            return car, None
        return car, parked_position(car, mount)

    def handle_pass(self, vehicle_pass: VehiclePass) -> Decided:
        self.counters.passes += 1
        car, parked = self.position_for(vehicle_pass)
        outcome = decide(
            vehicle_pass,
            parked,
            self.zone_index,
            self.rights,
            self.chalk,
            self.repeat_guard,
            self.settings,
            clock_trusted=self._is_clock_trusted is None or self._is_clock_trusted(),
        )
        if outcome.rights is not None:
            self.counters.checks += 1
        self.counters.outcomes[outcome.kind.value] += 1
        if outcome.kind is not OutcomeKind.SUSPECT or parked is None:
            return Decided(outcome)
        return self._store(vehicle_pass, outcome, car, parked)

    def _store(
        self, vp: VehiclePass, outcome: Outcome, car: Position | None, parked: Position
    ) -> Decided:
        reason = outcome.reason
        if reason is None:  # decide() sets a reason on every suspect
            raise ValueError(f"suspect outcome without a reason in zone {outcome.zone_id}")
        evidence = compose_evidence(vp, self._context(vp), quality=self.settings.jpeg_quality)
        answer = outcome.rights
        heading = car.heading_deg if car is not None else None
        metadata = ObservationMetadata(
            observation_id=self._observation_id(vp),
            captured_at=vp.overview_captured_at,
            plate=vp.plate,
            country=vp.country if len(vp.country) == 2 and vp.country.isalpha() else None,
            plate_confidence=min(1.0, max(0.0, vp.confidence)),
            char_confidences=[min(1.0, max(0.0, c)) for c in vp.char_confidences][:10],
            lon=parked.lon,
            lat=parked.lat,
            position_accuracy_m=min(parked.accuracy_m, 10_000.0),
            heading_deg=None if heading is None else heading % 360.0,
            camera=vp.camera,
            zone_id=outcome.zone_id,
            reason=reason,
            rights_checked_at=self.clock(),
            rights_cache_version=None if answer is None else answer.source.value,
            first_seen_at=outcome.first_seen_at,
            software_version=self.settings.software_version,
            evidence=list(evidence.refs),
        )
        try:
            self.sink.put(metadata, evidence.files)
        except Exception as exc:  # the outbox refused (full, disk error): count, keep going
            self.counters.sink_failures += 1
            log.error("suspect not stored (%s): %s", type(exc).__name__, exc)
            return Decided(outcome)
        self.counters.suspects_stored += 1
        if outcome.zone_id is not None:
            self.repeat_guard.record(
                vp.plate,
                outcome.zone_id,
                vp.overview_captured_at,
                keep_until=vp.overview_captured_at + self.settings.repeat_window,
            )
        latency = self._latency(vp)
        if latency is not None:
            self.latencies_s.append(latency)
        log.info("suspect stored: reason=%s zone=%s", outcome.reason, outcome.zone_id)
        return Decided(outcome, metadata, latency)

    def _latency(self, vp: VehiclePass) -> float | None:
        for recent in self._recent.get(vp.camera, ()):
            if recent.index == vp.overview_index:
                return self._monotonic() - recent.arrived_s
        return None

    def _context(self, vp: VehiclePass) -> ContextFrame | None:
        buf = self._recent.get(vp.camera)
        if not buf:
            return None
        others = [r for r in buf if r.index != vp.overview_index]
        if not others:
            return None
        want = vp.overview_index - self.settings.context_offset_frames
        best = min(others, key=lambda r: abs(r.index - want))
        boxes = tuple(box for plate, box in best.boxes if plate != vp.plate)
        return ContextFrame(best.image, boxes)

    def _observation_id(self, vp: VehiclePass) -> uuid.UUID:
        if self._id_key is None:
            return uuid.uuid4()
        text = f"{vp.plate}|{vp.camera}|{vp.overview_captured_at.isoformat()}"
        digest = hmac.new(self._id_key, text.encode(), hashlib.sha256).digest()
        return uuid.UUID(bytes=digest[:16], version=4)
