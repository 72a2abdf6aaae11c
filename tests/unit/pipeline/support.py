"""Builders and fakes for the pipeline's unit tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from permits.model import Decision, DecisionReason
from scancar.gps.model import Position, UncertainReason
from scancar.lpr.model import BBox, VehiclePass
from scancar.rights.errors import RightsUnavailableError
from scancar.rights.ports import AnswerSource, RightsAnswer, RightsQuery
from zones.geojson import load_feature_collection
from zones.index import ZoneIndex

REPO = Path(__file__).resolve().parents[3]
TOWN = REPO / "fixtures" / "zones" / "town.geojson"

TUESDAY_10 = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)  # 11:00 in Amsterdam: regulated
SUNDAY_06 = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)  # centrum free, blauw free

CENTRUM = (4.3580, 52.0100)
NOORD = (4.3580, 52.0160)
BLAUW = (4.3500, 52.0110)
MARKT = (4.3595, 52.01206)  # verbod-markt (no parking)
LADEN = (4.35745, 52.01125)  # laden-kerkstraat (loading, max 30 min)
OUTSIDE = (4.3400, 52.0000)
NEAR_EDGE = (4.3580, 52.01452)  # 2 m into noord from centrum


def town_index() -> ZoneIndex:
    return ZoneIndex(load_feature_collection(TOWN).zones)


def position(
    lonlat: tuple[float, float], accuracy: float = 3.0, *, uncertain: bool = False
) -> Position:
    return Position(
        lon=lonlat[0],
        lat=lonlat[1],
        heading_deg=90.0,
        speed_mps=5.0,
        accuracy_m=accuracy,
        uncertain=uncertain,
        reason=UncertainReason.GAP if uncertain else None,
    )


def vehicle_pass(
    plate: str = "GZ123T",
    at: datetime = TUESDAY_10,
    *,
    valid: bool = True,
    low_confidence: bool = False,
    is_foreign: bool = False,
    country: str = "NL",
    seed: int = 0,
) -> VehiclePass:
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 255, (120, 200, 3), dtype=np.uint8)
    crop = np.ascontiguousarray(image[40:70, 40:160])
    return VehiclePass(
        plate=plate,
        display=plate,
        country=country,
        is_foreign=is_foreign,
        valid=valid,
        sidecode=9 if valid and not is_foreign else None,
        low_confidence=low_confidence,
        char_confidences=(0.99,) * len(plate),
        confidence=0.99,
        agreeing_frames=5,
        frames_seen=6,
        best_crop=crop,
        overview_image=image,
        overview_captured_at=at,
        overview_index=3,
        bbox=BBox(40, 40, 160, 70),
        other_bboxes=(BBox(170, 80, 198, 95),),
        first_seen=at - timedelta(seconds=1),
        last_seen=at,
        camera="cam-right",
    )


@dataclass
class FakeRights:
    """Decisions by plate (default: no right); ``down`` raises like an unreachable backend."""

    decisions: dict[str, Decision] = field(default_factory=dict)
    source: AnswerSource = AnswerSource.CACHE
    down: bool = False
    queries: list[RightsQuery] = field(default_factory=list)

    def check(self, query: RightsQuery) -> RightsAnswer:
        self.queries.append(query)
        if self.down:
            raise RightsUnavailableError("backend unreachable and no cache")
        decision = self.decisions.get(query.plate, Decision(False, DecisionReason.NONE))
        return RightsAnswer(decision, self.source, timedelta(minutes=5))


PERMIT = Decision(True, DecisionReason.PERMIT, "permit:1:1")
PAID = Decision(True, DecisionReason.PAID, "paid:app:1")
LOOKALIKE = Decision(False, DecisionReason.LOOKALIKE_RIGHT, "permit:2:1")
