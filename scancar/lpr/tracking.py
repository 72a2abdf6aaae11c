"""Follow plates across consecutive frames of one camera and vote one read per vehicle pass.

A read joins the open track of its camera whose last box is near (overlap, or a centre shift
of a few plate widths) and whose text is similar; otherwise it opens a new track. A track that
has not been seen for ``max_gap_frames`` frames or ``max_gap_seconds`` ends and becomes a
:class:`VehiclePass`: characters are voted per position, weighted by confidence, and the
voted plate goes through the plate rules again. A parked car seen again on a later pass opens
a new track, so it becomes a new pass.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from scancar.lpr.errors import InvalidSettingError
from scancar.lpr.model import BBox, Frame, Image, OcrText, PlateRead, VehiclePass
from scancar.lpr.rules import ReadRules, judge


@dataclass(frozen=True, slots=True)
class TrackerSettings:
    min_agreeing_frames: int = 2  # fewer agreeing reads make the pass low_confidence
    max_gap_frames: int = 5
    max_gap_seconds: float = 2.0
    max_centre_shift: float = 3.0  # plate widths a plate may move between sightings
    min_text_similarity: float = 0.5  # 1 - edit distance / length
    rules: ReadRules = field(default_factory=ReadRules)

    def __post_init__(self) -> None:
        if not 1 <= self.min_agreeing_frames <= 100:
            raise InvalidSettingError("min_agreeing_frames", self.min_agreeing_frames, "1..100")
        if not 0 <= self.max_gap_frames <= 1000:
            raise InvalidSettingError("max_gap_frames", self.max_gap_frames, "0..1000")
        if not 0.0 < self.max_gap_seconds <= 3600.0:
            raise InvalidSettingError("max_gap_seconds", self.max_gap_seconds, "0..3600 seconds")
        if not 0.0 <= self.min_text_similarity <= 1.0:
            raise InvalidSettingError("min_text_similarity", self.min_text_similarity, "0.0..1.0")


def edit_distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def text_similarity(a: str, b: str) -> float:
    if not a and not b:
        return 1.0
    return 1.0 - edit_distance(a, b) / max(len(a), len(b))


@dataclass(frozen=True, slots=True, eq=False)
class _Sighting:
    read: PlateRead
    image: Image
    captured_at: datetime
    index: int
    other_bboxes: tuple[BBox, ...]


@dataclass(slots=True, eq=False)
class _Track:
    camera: str
    reads: list[PlateRead]
    best_by_plate: dict[str, _Sighting]
    first_seen: datetime
    last_seen: datetime
    last_index: int
    last_bbox: BBox

    def add(self, s: _Sighting) -> None:
        self.reads.append(s.read)
        best = self.best_by_plate.get(s.read.plate)
        if best is None or _quality(s.read) > _quality(best.read):
            self.best_by_plate[s.read.plate] = s
        self.last_seen = max(self.last_seen, s.captured_at)
        self.last_index = s.index
        self.last_bbox = s.read.bbox


def _quality(read: PlateRead) -> tuple[bool, float, float, int]:
    return (read.is_hit_eligible, read.confidence, read.candidate_score, read.bbox.area)


def vote(reads: list[PlateRead], min_share: float = 2 / 3) -> OcrText:
    """Per-character vote weighted by confidence over reads of the most supported length.

    A character's voted confidence is the lower median of the confidences of the reads that
    agree with the winner (at least half of them are that sure; with two reads, both), so one
    confident frame cannot carry a character that other frames doubt, and one blurred frame
    cannot sink a well-read one. When the winner has less than ``min_share`` of the confidence
    mass (the frames disagree), that confidence is scaled down by the share, so the pass
    becomes low-confidence.
    """
    by_length: dict[int, list[PlateRead]] = defaultdict(list)
    for r in reads:
        by_length[len(r.plate)].append(r)
    length, group = max(
        by_length.items(), key=lambda kv: (sum(r.confidence for r in kv[1]), len(kv[1]), kv[0])
    )
    length_share = len(group) / len(reads)
    chars: list[str] = []
    confs: list[float] = []
    for i in range(length):
        weights: dict[str, float] = defaultdict(float)
        agreeing: dict[str, list[float]] = defaultdict(list)
        for r in group:
            conf = r.char_confidences[i] if i < len(r.char_confidences) else r.confidence
            weights[r.plate[i]] += conf
            agreeing[r.plate[i]].append(conf)
        ch, w = max(weights.items(), key=lambda kv: (kv[1], kv[0]))
        share = w / max(sum(weights.values()), 1e-9)
        ranked = sorted(agreeing[ch], reverse=True)
        sure = ranked[len(ranked) // 2]  # at least half the agreeing frames are this sure
        chars.append(ch)
        confs.append(round(sure if share >= min_share - 1e-9 else sure * share, 4))
    regions: dict[str, float] = defaultdict(float)
    region_conf: dict[str, list[float]] = defaultdict(list)
    for r in group:
        if r.region is not None:
            regions[r.region] += r.region_confidence or 0.0
            region_conf[r.region].append(r.region_confidence or 0.0)
    region = max(regions.items(), key=lambda kv: kv[1])[0] if regions else None
    return OcrText(
        text="".join(chars),
        char_confidences=tuple(confs),
        # the length is settled when most reads agree on it (partial reads of a plate at the
        # frame edge are common); otherwise its share is the confidence
        length_confidence=1.0 if length_share >= min_share - 1e-9 else round(length_share, 4),
        region=region,
        region_confidence=(
            round(sum(region_conf[region]) / len(group), 4) if region is not None else None
        ),
    )


class PassTracker:
    """``update(frame, reads)`` after every frame, ``flush()`` at the end of the stream; both
    return the vehicle passes that ended."""

    def __init__(self, settings: TrackerSettings | None = None) -> None:
        self.settings = settings or TrackerSettings()
        self._tracks: dict[str, list[_Track]] = defaultdict(list)

    @property
    def open_tracks(self) -> int:
        return sum(len(t) for t in self._tracks.values())

    def update(self, frame: Frame, reads: list[PlateRead]) -> list[VehiclePass]:
        s = self.settings
        tracks = self._tracks[frame.camera]
        ended = [
            t
            for t in tracks
            if frame.index - t.last_index > s.max_gap_frames
            or (frame.captured_at - t.last_seen).total_seconds() > s.max_gap_seconds
            or frame.index < t.last_index
        ]
        for t in ended:
            tracks.remove(t)
        used: set[int] = set()
        for read in sorted(reads, key=_quality, reverse=True):
            others = tuple(r.bbox for r in reads if r is not read)
            sighting = _Sighting(read, frame.image, frame.captured_at, frame.index, others)
            best_i, best_score = -1, 0.0
            for i, t in enumerate(tracks):
                if i in used:
                    continue
                score = self._match(t, read)
                if score > best_score:
                    best_i, best_score = i, score
            if best_i >= 0:
                tracks[best_i].add(sighting)
                used.add(best_i)
            else:
                tracks.append(
                    _Track(
                        frame.camera,
                        [read],
                        {read.plate: sighting},
                        frame.captured_at,
                        frame.captured_at,
                        frame.index,
                        read.bbox,
                    )
                )
                used.add(len(tracks) - 1)
        return [self._finish(t) for t in ended]

    def flush(self) -> list[VehiclePass]:
        passes = [self._finish(t) for tracks in self._tracks.values() for t in tracks]
        self._tracks.clear()
        return passes

    def _match(self, track: _Track, read: PlateRead) -> float:
        s = self.settings
        last = track.last_bbox
        (cx, cy), (lx, ly) = read.bbox.centre, last.centre
        shift = max(abs(cx - lx), abs(cy - ly)) / max(last.width, read.bbox.width, 1)
        iou = read.bbox.iou(last)
        if iou <= 0.0 and shift > s.max_centre_shift:
            return 0.0
        similarity = max(text_similarity(read.plate, r.plate) for r in track.reads[-5:])
        if similarity < s.min_text_similarity:
            return 0.0
        return similarity + iou + 1.0 / (1.0 + shift)

    def _finish(self, track: _Track) -> VehiclePass:
        # reads of a partly hidden plate (glare, a pole in front) do not vote when the plate was
        # also seen unhidden, and never count as agreeing: the OCR guesses what it cannot see
        voters = [r for r in track.reads if not r.obstructed] or track.reads
        voted = vote(voters)
        colours = Counter(r.colour for r in voters)
        two_line = 2 * sum(r.two_line for r in voters) > len(voters)
        verdict = judge(
            voted, self.settings.rules, colour=colours.most_common(1)[0][0], two_line=two_line
        )
        agreeing = sum(1 for r in voters if r.plate == verdict.plate and not r.obstructed)
        best = track.best_by_plate.get(verdict.plate) or max(
            track.best_by_plate.values(), key=lambda b: _quality(b.read)
        )
        return VehiclePass(
            plate=verdict.plate,
            display=verdict.display,
            country=verdict.country,
            is_foreign=verdict.is_foreign,
            valid=verdict.valid,
            sidecode=verdict.sidecode,
            low_confidence=verdict.low_confidence or agreeing < self.settings.min_agreeing_frames,
            char_confidences=voted.char_confidences,
            confidence=verdict.confidence,
            agreeing_frames=agreeing,
            frames_seen=len(track.reads),
            best_crop=best.read.crop,
            overview_image=best.image,
            overview_captured_at=best.captured_at,
            overview_index=best.index,
            bbox=best.read.bbox,
            other_bboxes=best.other_bboxes,
            first_seen=track.first_seen,
            last_seen=track.last_seen,
            camera=track.camera,
        )
