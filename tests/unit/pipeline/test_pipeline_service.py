"""``EnforcementPipeline`` with fakes: passes in, suspects with evidence out, counters only."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field

import cv2
import numpy as np
import pytest

from scancar.gps.camera import CameraMount
from scancar.lpr.model import BBox, Frame, PlateRead, VehiclePass
from scancar.pipeline import EnforcementPipeline, OutcomeKind, PipelineSettings
from scancar.pipeline.evidence import blur_boxes, compose_evidence
from scancar.pipeline.memory import InMemoryChalkStore, InMemoryRepeatGuard
from scancar.wire import ObservationMetadata, SuspectReason
from tests.unit.pipeline.support import (
    CENTRUM,
    PAID,
    TUESDAY_10,
    FakeRights,
    position,
    town_index,
    vehicle_pass,
)


@dataclass
class FakeTracker:
    """Emits the queued passes on the next ``update``."""

    queued: list[VehiclePass] = field(default_factory=list)

    def update(self, frame: Frame, reads: list[PlateRead]) -> list[VehiclePass]:
        out, self.queued = self.queued, []
        return out

    def flush(self) -> list[VehiclePass]:
        return self.update(None, [])  # type: ignore[arg-type]


@dataclass
class FixedPositions:
    lonlat: tuple[float, float]

    def position_at(self, t):
        return position(self.lonlat)


@dataclass
class InMemorySink:
    stored: list[tuple[ObservationMetadata, dict[str, bytes]]] = field(default_factory=list)
    fail: bool = False

    def put(self, metadata: ObservationMetadata, evidence: Mapping[str, bytes]) -> None:
        if self.fail:
            raise OSError("disk full")
        self.stored.append((metadata, dict(evidence)))


def _pipeline(tracker, sink, rights=None, lonlat=CENTRUM):
    return EnforcementPipeline(
        tracker=tracker,
        mounts={"cam-right": CameraMount("cam-right", "right", 3.0)},
        positions=FixedPositions(lonlat),
        zone_index=town_index(),
        rights=rights or FakeRights(),
        chalk=InMemoryChalkStore(),
        repeat_guard=InMemoryRepeatGuard(),
        sink=sink,
        settings=PipelineSettings(),
        clock=lambda: TUESDAY_10,
        id_key=b"k" * 32,
    )


def _frame(index: int) -> Frame:
    image = np.full((120, 200, 3), index, dtype=np.uint8)
    return Frame(image, TUESDAY_10, "cam-right", index, f"{index}.jpg")


def test_pipeline_stores_a_suspect_with_three_evidence_images():
    tracker, sink = FakeTracker(), InMemorySink()
    pipe = _pipeline(tracker, sink)
    for i in range(4):
        pipe.process(_frame(i), [])
    tracker.queued = [vehicle_pass("GZ123T")]
    (decided,) = pipe.process(_frame(4), [])
    (meta, files) = sink.stored[0]
    assert decided.outcome.kind is OutcomeKind.SUSPECT
    assert (meta.plate, meta.reason, meta.zone_id, meta.camera) == (
        "GZ123T",
        SuspectReason.NO_RIGHT,
        "centrum",
        "cam-right",
    )
    assert sorted(files) == ["context.jpg", "overview.jpg", "plate.jpg"]
    assert {e.name: e.sha256 for e in meta.evidence} == {
        n: hashlib.sha256(b).hexdigest() for n, b in files.items()
    }
    assert pipe.counters.as_dict()["suspects_stored"] == 1


def test_pipeline_repeat_guard_after_a_stored_suspect():
    tracker, sink = FakeTracker(), InMemorySink()
    pipe = _pipeline(tracker, sink)
    tracker.queued = [vehicle_pass("GZ123T")]
    pipe.process(_frame(0), [])
    tracker.queued = [vehicle_pass("GZ123T")]
    (decided,) = pipe.process(_frame(1), [])
    assert decided.outcome.kind is OutcomeKind.DISCARD_REPEAT
    assert len(sink.stored) == 1


def test_pipeline_same_pass_gets_the_same_observation_id():
    ids = []
    for _ in range(2):
        tracker, sink = FakeTracker([vehicle_pass("GZ123T")]), InMemorySink()
        _pipeline(tracker, sink).process(_frame(0), [])
        ids.append(sink.stored[0][0].observation_id)
    assert ids[0] == ids[1]


def test_pipeline_counts_compliant_cars_without_storing_them():
    tracker, sink = FakeTracker([vehicle_pass("GZ123T")]), InMemorySink()
    pipe = _pipeline(tracker, sink, rights=FakeRights({"GZ123T": PAID}))
    pipe.process(_frame(0), [])
    assert sink.stored == []
    assert pipe.counters.as_dict()["outcomes"] == {"discard_right": 1}


def test_pipeline_sink_failure_is_counted_and_not_recorded_as_reported():
    tracker, sink = FakeTracker([vehicle_pass("GZ123T")]), InMemorySink(fail=True)
    pipe = _pipeline(tracker, sink)
    pipe.process(_frame(0), [])
    sink.fail = False
    tracker.queued = [vehicle_pass("GZ123T")]
    pipe.process(_frame(1), [])
    assert (pipe.counters.sink_failures, len(sink.stored)) == (1, 1)


def test_blur_boxes_changes_only_the_boxes():
    rng = np.random.default_rng(3)
    image = rng.integers(0, 255, (100, 200, 3), dtype=np.uint8)
    out = blur_boxes(image, [BBox(150, 40, 190, 60)], margin=0.0)
    assert np.array_equal(out[:, :148], image[:, :148])
    region, orig = out[40:60, 150:190].astype(int), image[40:60, 150:190].astype(int)
    assert np.abs(region - orig).mean() > 30  # noise is gone
    assert region.std() < orig.std() / 3


def test_compose_evidence_blurs_other_plates_in_the_overview():
    vp = vehicle_pass(seed=4)
    ev = compose_evidence(vp, None, quality=95)
    overview = cv2.imdecode(np.frombuffer(ev.files["overview.jpg"], np.uint8), cv2.IMREAD_COLOR)
    other, target = vp.other_bboxes[0], vp.bbox
    other_std = overview[other.y1 : other.y2, other.x1 : other.x2].std()
    target_std = overview[target.y1 : target.y2, target.x1 : target.x2].std()
    assert [r.name for r in ev.refs] == ["plate.jpg", "overview.jpg"]
    assert other_std < target_std / 3  # the noise of the other plate is gone, the target kept


@pytest.mark.parametrize("quality", [30, 90])
def test_compose_evidence_hashes_match(quality):
    ev = compose_evidence(vehicle_pass(), None, quality=quality)
    assert all(hashlib.sha256(ev.files[r.name]).hexdigest() == r.sha256 for r in ev.refs)
