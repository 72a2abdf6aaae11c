"""NMEA 0183 parser (pure: no I/O). Feed bytes or text, get accepted ``Fix`` objects.

Sentences used: GGA, RMC, GLL (position), VTG (speed/course), ZDA (date). Talkers: GP, GN, GL,
GA, GB/BD, GQ, GI by default. Everything else is counted as ignored.

Rules (see docs/gps.md):

* Lines are split on CR/LF; sentences glued together on one line are split on ``$``. Bytes
  outside ``$...`` are noise. A sentence with a wrong checksum is dropped; one without a
  checksum is dropped unless ``accept_missing_checksum`` (then it must still have the full
  field count, so a truncated sentence is never half-used).
* Sentences that share one UTC time of day form an *epoch* and become at most one fix. An epoch
  ends when a sentence with another time arrives, or as soon as it holds every sentence type the
  previous epoch had (so a fix is not delayed by a whole epoch), or at ``flush()``.
* Validity: the epoch is dropped if any of its sentences says "no fix" (RMC/GLL status V, GGA
  quality 0, mode indicator N); estimated/manual/simulated fixes are dropped unless allowed;
  HDOP above ``max_hdop`` is dropped; a missing HDOP is accepted (the track then assumes
  ``Track``'s default accuracy).
* Date: RMC carries a date; GGA/GLL only a time of day, which is combined with the last known
  date (from RMC or ZDA). A time more than 12 h before the reference time means UTC midnight was
  crossed (date + 1), more than 12 h after means the reference was just after midnight
  (date - 1). Dates before ``min_date`` (default 2000-01-01: the 1980 power-up date and the
  1999/2019 GPS week-rollover dates) are implausible: such an epoch is dropped and the date is
  not used until a plausible one arrives.
* Time jumping backwards (e.g. concatenated logs, receiver reset) is not a midnight crossing
  unless the rule above says so: the fix is accepted, ``segment`` is incremented and the jump
  check restarts from it.
* Jumps: a fix farther from the last accepted fix than ``max_speed_mps * dt + jump_slack_m`` is
  dropped. After ``reanchor_after`` consecutive dropped fixes that agree with each other, the
  newest one is accepted as the new reference (the old reference was the bad one).
"""

from __future__ import annotations

import functools
import math
import operator
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from scancar.gps.errors import GpsConfigError
from scancar.gps.filters import MotionFilter, MotionLimits
from scancar.gps.geometry import distance_m
from scancar.gps.model import DropReason, Fix, FixQuality, IgnoredKind, ParseStats

KNOT_MPS = 1852.0 / 3600.0
KMH_MPS = 1000.0 / 3600.0
DAY_US = 86_400_000_000
HALF_DAY_US = DAY_US // 2
MAX_LINE = 4096

DEFAULT_TALKERS = frozenset({"GP", "GN", "GL", "GA", "GB", "BD", "GQ", "GI"})
POSITION_TYPES = frozenset({"GGA", "RMC", "GLL"})
USED_TYPES = frozenset({"GGA", "RMC", "GLL", "VTG", "ZDA"})
# comma-separated fields after the address field: the minimum this parser reads, and the full
# count a sentence must have when it comes without a checksum (so a truncated one is not used)
MIN_FIELDS = {"GGA": 8, "RMC": 9, "GLL": 6, "VTG": 7, "ZDA": 4}
FULL_FIELDS = {"GGA": 14, "RMC": 11, "GLL": 6, "VTG": 8, "ZDA": 6}

_CHECKSUM = re.compile(r"^\*[0-9A-Fa-f]{2}$")
_EOL = re.compile(r"\r\n|\n|\r")
_PRINTABLE = re.compile(r"^[\x20-\x7e]*$")
_GGA_QUALITY: dict[str, FixQuality | None] = {
    "0": None,
    "1": FixQuality.GPS,
    "2": FixQuality.DGPS,
    "3": FixQuality.PPS,
    "4": FixQuality.RTK_FIXED,
    "5": FixQuality.RTK_FLOAT,
    "6": FixQuality.ESTIMATED,
    "7": FixQuality.MANUAL,
    "8": FixQuality.SIMULATED,
}
_MODE_QUALITY: dict[str, FixQuality | None] = {
    "N": None,
    "A": FixQuality.GPS,
    "D": FixQuality.DGPS,
    "P": FixQuality.PPS,
    "R": FixQuality.RTK_FIXED,
    "F": FixQuality.RTK_FLOAT,
    "E": FixQuality.ESTIMATED,
    "M": FixQuality.MANUAL,
    "S": FixQuality.SIMULATED,
}
_UNRELIABLE = frozenset({FixQuality.ESTIMATED, FixQuality.MANUAL, FixQuality.SIMULATED})


@dataclass(frozen=True, slots=True)
class NmeaConfig:
    """Parser settings. Defaults suit a scan car driving in a city."""

    accept_missing_checksum: bool = False
    max_hdop: float = 5.0
    motion: MotionLimits = field(default_factory=MotionLimits)
    min_date: date = date(2000, 1, 1)
    accept_unreliable_modes: bool = False
    talkers: frozenset[str] = DEFAULT_TALKERS
    # replay only: hold up to this many epochs that have a time but no date yet, and date them
    # backwards once a date arrives (like gpsbabel's backfill). 0 = drop them (live use).
    backfill_epochs: int = 0
    # GGA, RMC and GLL of one epoch must agree within this distance (corruption check)
    max_epoch_spread_m: float = 5.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.max_hdop) and self.max_hdop > 0):
            raise GpsConfigError("max_hdop", self.max_hdop, "a positive number")
        if not (math.isfinite(self.max_epoch_spread_m) and self.max_epoch_spread_m > 0):
            raise GpsConfigError("max_epoch_spread_m", self.max_epoch_spread_m, "positive metres")
        if self.backfill_epochs < 0:
            raise GpsConfigError("backfill_epochs", self.backfill_epochs, "0 or more")
        bad = sorted(t for t in self.talkers if not re.fullmatch(r"[A-Z]{2}", t))
        if bad or not self.talkers:
            raise GpsConfigError("talkers", sorted(self.talkers), "two-letter codes like 'GP'")


@dataclass(slots=True)
class _Sentence:
    talker: str
    kind: str
    fields: list[str]
    line: int


@dataclass(slots=True)
class _Epoch:
    tod_us: int
    sentences: list[_Sentence] = field(default_factory=list)

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(s.kind for s in self.sentences)


class _BadFieldError(Exception):
    """Internal: a field did not parse."""


def checksum(body: str) -> int:
    """XOR of the characters between ``$`` and ``*``."""
    return functools.reduce(operator.xor, body.encode("latin-1", "replace"), 0)


def _parse_tod(text: str) -> int | None:
    """``hhmmss[.sss]`` to microseconds of day; ``None`` when empty."""
    if not text:
        return None
    m = re.fullmatch(r"(\d{2})(\d{2})(\d{2})(?:\.(\d{1,6}))?", text)
    if not m:
        raise _BadFieldError(text)
    hh, mm, ss = int(m[1]), int(m[2]), int(m[3])
    if hh > 23 or mm > 59 or ss > 60:
        raise _BadFieldError(text)
    frac = int((m[4] or "0").ljust(6, "0"))
    return ((hh * 60 + mm) * 60 + min(ss, 59)) * 1_000_000 + frac


def _parse_coord(value: str, hemi: str, degree_digits: int) -> float | None:
    if not value and not hemi:
        return None
    m = re.fullmatch(r"(\d{%d})(\d{2}(?:\.\d+)?)" % degree_digits, value)  # noqa: UP031
    if not m or hemi not in ("N", "S", "E", "W"):
        raise _BadFieldError(value)
    degrees, minutes = int(m[1]), float(m[2])
    if minutes >= 60.0:
        raise _BadFieldError(value)
    result = degrees + minutes / 60.0
    return -result if hemi in ("S", "W") else result


def _parse_float(text: str) -> float | None:
    if not text:
        return None
    try:
        value = float(text)
    except ValueError as exc:
        raise _BadFieldError(text) from exc
    if not math.isfinite(value):
        raise _BadFieldError(text)
    return value


def _tod_to_time(tod_us: int) -> time:
    secs, us = divmod(tod_us, 1_000_000)
    return time(secs // 3600, secs // 60 % 60, secs % 60, us)


class NmeaParser:
    """Incremental NMEA parser; one per stream. Not thread-safe."""

    def __init__(self, config: NmeaConfig | None = None) -> None:
        self.config = config or NmeaConfig()
        self.stats = ParseStats()
        self._buffer = ""
        self._line_no = 0
        self._epoch: _Epoch | None = None
        self._pending_vtg: _Sentence | None = None
        self._last_kinds: frozenset[str] = frozenset()
        self._last_tod: int | None = None  # tod of the last closed epoch
        self._date_ref: date | None = None
        self._tod_ref: int = 0
        self._motion = MotionFilter(self.config.motion, self.stats)
        self._undated: list[_Epoch] = []
        self._date_candidate: date | None = None

    # ---------------------------------------------------------------- input

    def feed(self, data: bytes | str) -> list[Fix]:
        """Add a chunk of the stream; returns the fixes completed by it."""
        text = data.decode("latin-1") if isinstance(data, bytes) else data
        buffer = self._buffer + text
        out: list[Fix] = []
        pos = 0
        while True:
            match = _EOL.search(buffer, pos)
            if match is None:
                break
            if match.group() == "\r" and match.end() == len(buffer):
                break  # wait: a '\n' may follow in the next chunk
            out.extend(self._line(buffer[pos : match.start()]))
            pos = match.end()
        rest = buffer[pos:]
        if len(rest) > MAX_LINE:
            out.extend(self._line(rest))
            rest = ""
        self._buffer = rest
        return out

    def feed_line(self, line: str | bytes) -> list[Fix]:
        """Feed one complete line (without or with its line ending)."""
        text = line.decode("latin-1") if isinstance(line, bytes) else line
        return self.feed(text.rstrip("\r\n") + "\n")

    def flush(self) -> list[Fix]:
        """End of stream: parse a last partial line and close the open epoch."""
        out: list[Fix] = []
        if self._buffer.strip("\r\n"):
            line, self._buffer = self._buffer.rstrip("\r\n"), ""
            out.extend(self._line(line))
        self._buffer = ""
        out.extend(self._close_epoch())
        out.extend(self._motion.flush())
        if self._undated:
            self.stats.dropped[DropReason.NO_DATE] += len(self._undated)
            self._undated.clear()
        return out

    # ---------------------------------------------------------------- lines

    def _line(self, line: str) -> list[Fix]:
        self._line_no += 1
        self.stats.lines_read += 1
        stripped = line.strip()
        if not stripped:
            self.stats.ignored[IgnoredKind.BLANK] += 1
            return []
        if stripped.startswith("#"):
            self.stats.ignored[IgnoredKind.COMMENT] += 1
            return []
        out: list[Fix] = []
        parts = re.split(r"(?=[$!])", line)
        if parts and parts[0].strip():
            self.stats.ignored[IgnoredKind.NOISE] += 1
        for part in parts:
            if part[:1] in ("$", "!"):
                out.extend(self._sentence(part))
        return out

    def _sentence(self, raw: str) -> list[Fix]:
        self.stats.sentences += 1
        result = self._classify(raw)
        if isinstance(result, DropReason):
            self.stats.dropped[result] += 1
            return []
        if isinstance(result, IgnoredKind):
            self.stats.ignored[result] += 1
            return []
        try:
            return self._dispatch(result)
        except _BadFieldError:
            self.stats.dropped[DropReason.MALFORMED] += 1
            return []

    def _classify(self, raw: str) -> _Sentence | DropReason | IgnoredKind:  # noqa: PLR0911
        """Check framing and checksum; return the sentence or why it is not used."""
        text = raw.rstrip()
        if raw[0] == "!":  # AIS and other encapsulated sentences
            return IgnoredKind.UNSUPPORTED
        star = text.find("*")  # '*' is reserved: the first one ends the body
        complete = star != -1
        if complete:
            if not _CHECKSUM.match(text[star : star + 3]):
                return DropReason.MALFORMED  # a '*' with a damaged or truncated checksum
            if text[star + 3 :].strip():
                # binary frames (e.g. u-blox UBX) glued after the checksum: noise, not an error
                self.stats.ignored[IgnoredKind.NOISE] += 1
            body = text[1:star]
            if checksum(body) != int(text[star + 1 : star + 3], 16):
                return DropReason.BAD_CHECKSUM
        else:
            body = text[1:]
        if not _PRINTABLE.match(body):
            return DropReason.MALFORMED
        fields = body.split(",")
        address = fields[0]
        if len(address) != 5 or not address.isalnum() or address.startswith("P"):
            return IgnoredKind.UNSUPPORTED
        talker, kind = address[:2], address[2:]
        if talker not in self.config.talkers or kind not in USED_TYPES:
            return IgnoredKind.UNSUPPORTED
        if not complete and not self.config.accept_missing_checksum:
            return DropReason.MISSING_CHECKSUM
        needed = MIN_FIELDS[kind] if complete else FULL_FIELDS[kind]
        if len(fields) - 1 < needed:
            return DropReason.MALFORMED
        return _Sentence(talker, kind, fields[1:], self._line_no)

    # ---------------------------------------------------------------- epochs

    def _dispatch(self, s: _Sentence) -> list[Fix]:
        f = s.fields
        if s.kind == "ZDA":
            self._zda(s)
            return self._release_undated()
        if s.kind == "VTG":
            _parse_float(f[0])
            _parse_float(f[4])
            _parse_float(f[6])
            if self._epoch is not None:
                self._epoch.sentences.append(s)
                return self._maybe_complete()
            self._pending_vtg = s
            return []
        tod = _parse_tod(f[0] if s.kind != "GLL" else f[4])
        # validate the fields now, so a malformed sentence never joins an epoch (a "no fix"
        # sentence may carry junk coordinates: it only needs its time)
        if not self._says_no_fix(s):
            self._validate(s)
        if tod is None:
            if self._says_no_fix(s):
                self.stats.dropped[DropReason.NO_FIX] += 1
            else:
                self.stats.ignored[IgnoredKind.EMPTY] += 1
            return []
        out: list[Fix] = []
        if self._epoch is not None and self._epoch.tod_us != tod:
            out.extend(self._close_epoch())
        if self._epoch is None:
            if tod == self._last_tod:
                # a late sentence of an epoch already closed early: learn its kind only
                self._last_kinds = self._last_kinds | {s.kind}
                return out
            self._epoch = _Epoch(tod)
            if self._pending_vtg is not None:
                self._epoch.sentences.append(self._pending_vtg)
                self._pending_vtg = None
        self._epoch.sentences.append(s)
        out.extend(self._maybe_complete())
        return out

    def _maybe_complete(self) -> list[Fix]:
        if (
            self._epoch is not None
            and self._last_kinds
            and self._epoch.kinds >= self._last_kinds
            and self._epoch.kinds & POSITION_TYPES
        ):
            return self._close_epoch()
        return []

    def _close_epoch(self) -> list[Fix]:
        epoch, self._epoch = self._epoch, None
        if epoch is None:
            return []
        self._last_kinds = epoch.kinds
        self._last_tod = epoch.tod_us
        out: list[Fix] = []
        if self.config.backfill_epochs and self._date_ref is None:
            rmc_day = self._rmc_date(epoch)
            if rmc_day is None:
                self._undated.append(epoch)
                if len(self._undated) > self.config.backfill_epochs:
                    self._undated.pop(0)
                    self.stats.dropped[DropReason.NO_DATE] += 1
                return []
            self._date_ref, self._tod_ref = rmc_day, epoch.tod_us
            out.extend(self._release_undated())
        fix = self._build(epoch)
        if fix is not None:
            out.extend(self._check_motion(fix))
        return out

    def _rmc_date(self, epoch: _Epoch) -> date | None:
        for s in epoch.sentences:
            if s.kind == "RMC" and not self._says_no_fix(s) and s.fields[8]:
                day = _rmc_day(s.fields[8])
                if day is not None and day >= self.config.min_date:
                    return day
        return None

    def _release_undated(self) -> list[Fix]:
        """Date the held epochs backwards from the reference date and build them."""
        if not self._undated or self._date_ref is None:
            return []
        day, tod = self._date_ref, self._tod_ref
        dated: list[tuple[_Epoch, date]] = []
        for epoch in reversed(self._undated):
            delta = epoch.tod_us - tod
            if delta > HALF_DAY_US:
                day -= timedelta(days=1)
            elif delta < -HALF_DAY_US:
                day += timedelta(days=1)
            tod = epoch.tod_us
            dated.append((epoch, day))
        self._undated.clear()
        out: list[Fix] = []
        for epoch, epoch_day in reversed(dated):
            fix = self._build(epoch, epoch_day)
            if fix is not None:
                out.extend(self._check_motion(fix))
        return out

    def _validate(self, s: _Sentence) -> None:
        f = s.fields
        if s.kind == "GGA":
            _parse_coord(f[1], f[2], 2)
            _parse_coord(f[3], f[4], 3)
            if f[5] and f[5] not in _GGA_QUALITY:
                raise _BadFieldError(f[5])
            _parse_float(f[7])
            if f[6] and not f[6].isdigit():
                raise _BadFieldError(f[6])
        elif s.kind == "RMC":
            if f[1] not in ("A", "V"):
                raise _BadFieldError(f[1])
            _parse_coord(f[2], f[3], 2)
            _parse_coord(f[4], f[5], 3)
            _parse_float(f[6])
            _parse_float(f[7])
            if f[8] and not re.fullmatch(r"\d{6}", f[8]):
                raise _BadFieldError(f[8])
        elif s.kind == "GLL":
            _parse_coord(f[0], f[1], 2)
            _parse_coord(f[2], f[3], 3)
            if f[5] not in ("A", "V"):
                raise _BadFieldError(f[5])

    @staticmethod
    def _says_no_fix(s: _Sentence) -> bool:
        f = s.fields
        if s.kind == "GGA":
            return f[5] in ("0", "")
        if s.kind == "RMC":
            return f[1] != "A" or (len(f) > 11 and f[11][:1] == "N")
        if s.kind == "GLL":
            return f[5] != "A" or (len(f) > 6 and f[6][:1] == "N")
        return False

    def _zda(self, s: _Sentence) -> None:
        f = s.fields
        tod = _parse_tod(f[0])
        if tod is None or not (f[1] and f[2] and f[3]):
            self.stats.ignored[IgnoredKind.EMPTY] += 1
            return
        try:
            day = date(int(f[3]), int(f[2]), int(f[1]))
        except ValueError as exc:
            raise _BadFieldError(",".join(f[1:4])) from exc
        if day < self.config.min_date:
            return
        if not self._confirm_date(day, tod):
            self.stats.dropped[DropReason.INCONSISTENT_DATE] += 1
            return
        self._date_ref, self._tod_ref = day, tod

    def _expected_date(self, tod: int) -> date | None:
        """The date the reference implies for time of day ``tod`` (12 h midnight rule)."""
        if self._date_ref is None:
            return None
        delta = tod - self._tod_ref
        if delta < -HALF_DAY_US:
            return self._date_ref + timedelta(days=1)
        if delta > HALF_DAY_US:
            return self._date_ref - timedelta(days=1)
        return self._date_ref

    def _confirm_date(self, day: date, tod: int) -> bool:
        """A date that contradicts the reference counts only once a second sentence repeats it
        (a date corrupted in a way the XOR checksum misses must not re-date the track)."""
        expected = self._expected_date(tod)
        if expected is None or day in (expected, self._date_candidate):
            self._date_candidate = None
            return True
        self._date_candidate = day
        return False

    def _date_for(self, tod: int) -> date | None:
        """The date of time of day ``tod`` from the reference, rolling it forward."""
        day = self._expected_date(tod)
        if day is not None:
            self._date_ref, self._tod_ref = day, tod
        return day

    def _build(self, epoch: _Epoch, backfilled_day: date | None = None) -> Fix | None:
        result = self._build_or_reason(epoch, backfilled_day)
        if isinstance(result, DropReason):
            self.stats.dropped[result] += 1
            return None
        return result

    def _build_or_reason(  # noqa: PLR0911 (one return per drop reason)
        self, epoch: _Epoch, backfilled_day: date | None
    ) -> Fix | DropReason:
        by_kind: dict[str, _Sentence] = {}
        for s in epoch.sentences:
            by_kind.setdefault(s.kind, s)
        if any(self._says_no_fix(s) for s in epoch.sentences):
            return DropReason.NO_FIX
        gga, rmc, gll, vtg = (by_kind.get(k) for k in ("GGA", "RMC", "GLL", "VTG"))
        pos_s = gga or rmc or gll
        if pos_s is None:
            return DropReason.NO_FIX  # a VTG without a position sentence
        quality = _quality(gga, rmc, gll)
        if quality in _UNRELIABLE and not self.config.accept_unreliable_modes:
            return DropReason.UNRELIABLE_MODE
        day = backfilled_day or self._epoch_date(epoch, rmc)
        if isinstance(day, DropReason):
            return day
        lon_lat = _position(pos_s)
        if lon_lat is None:
            return DropReason.INVALID_POSITION
        for other in (rmc, gll):
            other_lon_lat = _position(other) if other is not None and other is not pos_s else None
            if other_lon_lat is not None and (
                distance_m(*lon_lat, *other_lon_lat) > self.config.max_epoch_spread_m
            ):
                return DropReason.INCONSISTENT_EPOCH
        speed, course = _motion(rmc, vtg)
        if speed is not None and (speed < 0 or speed > self.config.motion.max_speed_mps):
            return DropReason.IMPLAUSIBLE_SPEED
        hdop: float | None = None
        satellites: int | None = None
        if gga is not None:
            hdop = _parse_float(gga.fields[7])
            satellites = int(gga.fields[6]) if gga.fields[6] else None
        if hdop is not None and hdop > self.config.max_hdop:
            return DropReason.HDOP_TOO_HIGH
        return Fix(
            time=datetime.combine(day, _tod_to_time(epoch.tod_us), tzinfo=UTC),
            lon=lon_lat[0],
            lat=lon_lat[1],
            speed_mps=speed,
            course_deg=course,
            hdop=hdop,
            quality=quality,
            satellites=satellites,
            source_line=pos_s.line,
            talker=pos_s.talker,
            segment=self._motion.segment,
        )

    def _epoch_date(self, epoch: _Epoch, rmc: _Sentence | None) -> date | DropReason:
        if rmc is not None and rmc.fields[8]:
            day = _rmc_day(rmc.fields[8])
            if day is None:
                return DropReason.MALFORMED
            if day < self.config.min_date:
                return DropReason.IMPLAUSIBLE_DATE
            if not self._confirm_date(day, epoch.tod_us):
                return DropReason.INCONSISTENT_DATE
            self._date_ref, self._tod_ref = day, epoch.tod_us
            return day
        ref = self._date_for(epoch.tod_us)
        return DropReason.NO_DATE if ref is None else ref

    # ---------------------------------------------------------------- motion

    def _check_motion(self, fix: Fix) -> list[Fix]:
        return self._motion.check(fix)


def _quality(gga: _Sentence | None, rmc: _Sentence | None, gll: _Sentence | None) -> FixQuality:
    """Fix quality from GGA's indicator, else from RMC's / GLL's mode indicator."""
    if gga is not None:
        return _GGA_QUALITY[gga.fields[5]] or FixQuality.GPS
    for s, idx in ((rmc, 11), (gll, 6)):
        if s is not None and len(s.fields) > idx and s.fields[idx]:
            return _MODE_QUALITY.get(s.fields[idx][:1]) or FixQuality.GPS
    return FixQuality.GPS


def _position(s: _Sentence) -> tuple[float, float] | None:
    """``(lon, lat)`` of a GGA/RMC/GLL sentence; ``None`` if missing or impossible."""
    f = s.fields
    first = {"GGA": 1, "RMC": 2, "GLL": 0}[s.kind]
    lat = _parse_coord(f[first], f[first + 1], 2)
    lon = _parse_coord(f[first + 2], f[first + 3], 3)
    if lat is None or lon is None:
        return None
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        return None
    if abs(lat) < 1e-9 and abs(lon) < 1e-9:  # "null island": an uninitialised receiver
        return None
    return lon, lat


def _motion(rmc: _Sentence | None, vtg: _Sentence | None) -> tuple[float | None, float | None]:
    """``(speed_mps, course_deg)`` from RMC, completed from VTG."""
    speed: float | None = None
    course: float | None = None
    if rmc is not None:
        knots = _parse_float(rmc.fields[6])
        speed = None if knots is None else knots * KNOT_MPS
        course = _parse_float(rmc.fields[7])
    if vtg is not None:
        if speed is None:
            kmh, knots = _parse_float(vtg.fields[6]), _parse_float(vtg.fields[4])
            if kmh is not None:
                speed = kmh * KMH_MPS
            elif knots is not None:
                speed = knots * KNOT_MPS
        if course is None:
            course = _parse_float(vtg.fields[0])
    if course is not None:
        course %= 360.0
    return speed, course


def _rmc_day(ddmmyy: str) -> date | None:
    """RMC date; two-digit years 80-99 are 1980-1999, 00-79 are 2000-2079."""
    yy = int(ddmmyy[4:6])
    try:
        return date(2000 + yy if yy < 80 else 1900 + yy, int(ddmmyy[2:4]), int(ddmmyy[0:2]))
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class ParseResult:
    fixes: list[Fix]
    stats: ParseStats


def parse_text(text: str | bytes, config: NmeaConfig | None = None) -> ParseResult:
    """Parse a whole recorded log at once (convenience for tests and the CLI)."""
    parser = NmeaParser(config)
    fixes = parser.feed(text)
    fixes.extend(parser.flush())
    return ParseResult(fixes, parser.stats)
