"""Unit tests of the pure NMEA parser."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scancar.gps.errors import GpsConfigError
from scancar.gps.filters import MotionLimits
from scancar.gps.model import DropReason, FixQuality, IgnoredKind
from scancar.gps.nmea import KNOT_MPS, NmeaConfig, NmeaParser, checksum, parse_text
from tests.unit.gps.nmea_helpers import gga, gll, lat_ddmm, lon_dddmm, rmc, sentence, vtg, zda


def lines(*sentences: str) -> str:
    return "".join(s + "\r\n" for s in sentences)


def test_checksum_matches_known_sentence() -> None:
    # from the NMEA 0183 standard's GGA example
    body = "GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,"
    assert checksum(body) == 0x47


def test_parser_merges_rmc_and_gga_of_one_epoch() -> None:
    text = lines(rmc("091232.000", knots="10.0", course="45.5"), gga("091232.000", hdop="0.7"))
    result = parse_text(text)
    assert len(result.fixes) == 1
    fix = result.fixes[0]
    assert fix.time == datetime(2015, 10, 10, 9, 12, 32, tzinfo=UTC)
    assert fix.lat == pytest.approx(52.0)
    assert fix.lon == pytest.approx(5.0)
    assert fix.speed_mps == pytest.approx(10.0 * KNOT_MPS)
    assert fix.course_deg == pytest.approx(45.5)
    assert fix.hdop == pytest.approx(0.7)
    assert fix.quality is FixQuality.GPS
    assert fix.source_line == 2  # the GGA gives the position
    assert result.stats.fixes_accepted == 1


@pytest.mark.parametrize(
    ("fields", "want"),
    [
        (("4813.0535", "N", "00824.8697", "E"), (48.217558333, 8.414495)),
        (("2712.6404", "S", "15303.1201", "E"), (-27.21067333, 153.05200167)),
        (("4131.7353", "N", "09336.8150", "W"), (41.52892167, -93.61358333)),
        (("5155.55442", "N", "00434.65873", "E"), (51.92590700, 4.57764550)),
    ],
)
def test_parser_decodes_hemispheres(
    fields: tuple[str, str, str, str], want: tuple[float, float]
) -> None:
    lat, ns, lon, ew = fields
    fixes = parse_text(lines(rmc("120000", lat=lat, ns=ns, lon=lon, ew=ew))).fixes
    assert [(round(f.lat, 7), round(f.lon, 7)) for f in fixes] == [
        (round(want[0], 7), round(want[1], 7))
    ]


@pytest.mark.parametrize("talker", ["GP", "GN", "GL", "GA", "GB", "BD"])
def test_parser_accepts_gnss_talkers(talker: str) -> None:
    text = lines(rmc("120000", talker=talker), gga("120000", talker=talker))
    fixes = parse_text(text).fixes
    assert [f.talker for f in fixes] == [talker]


def test_parser_ignores_other_talkers_and_sentences() -> None:
    text = lines(
        sentence("HEHDT,4.0,T"),
        sentence("GPGSV,1,1,00"),
        sentence("PMTK010,001"),
        "!AIVDO,1,1,,B,13`kvwO005wJnb0Lfo:@7P8F05`L,0*5B",
    )
    result = parse_text(text)
    assert result.fixes == []
    assert result.stats.ignored[IgnoredKind.UNSUPPORTED] == 4
    assert sum(result.stats.dropped.values()) == 0


def test_parser_drops_and_counts_bad_checksum() -> None:
    good = rmc("120000")
    bad = good[:-2] + ("00" if good[-2:] != "00" else "01")
    result = parse_text(lines(bad, rmc("120001")))
    assert [f.time.second for f in result.fixes] == [1]
    assert result.stats.dropped[DropReason.BAD_CHECKSUM] == 1


@pytest.mark.parametrize(("accept", "want"), [(False, 0), (True, 1)])
def test_parser_missing_checksum_is_configurable(accept: bool, want: int) -> None:
    no_sum = rmc("120000").split("*")[0]
    result = parse_text(lines(no_sum), NmeaConfig(accept_missing_checksum=accept))
    assert len(result.fixes) == want
    assert result.stats.dropped[DropReason.MISSING_CHECKSUM] == 1 - want


def test_parser_never_uses_a_truncated_sentence_without_checksum() -> None:
    truncated = gga("120000").split("*")[0][:40]  # cut inside the longitude
    result = parse_text(truncated + "\n", NmeaConfig(accept_missing_checksum=True))
    assert result.fixes == []
    assert result.stats.dropped[DropReason.MALFORMED] == 1


def test_parser_splits_glued_sentences_and_skips_noise() -> None:
    glued = "\x00\xffjunk" + rmc("120000") + gga("120000") + rmc("120001") + "\n"
    result = parse_text(glued.encode("latin-1"))
    assert [f.time.second for f in result.fixes] == [0, 1]
    assert result.stats.ignored[IgnoredKind.NOISE] == 1
    assert result.stats.lines_read == 1


def test_parser_drops_sentence_with_binary_bytes() -> None:
    good = rmc("120000")
    broken = good[:20] + "\x01" + good[21:]
    result = parse_text(lines(broken, rmc("120001")))
    assert [f.time.second for f in result.fixes] == [1]
    assert (
        result.stats.dropped[DropReason.MALFORMED] + result.stats.dropped[DropReason.BAD_CHECKSUM]
        == 1
    )


def test_parser_gives_same_fixes_when_fed_byte_by_byte() -> None:
    text = lines(*(s for i in range(5) for s in (rmc(f"12000{i}"), gga(f"12000{i}"))))
    whole = parse_text(text).fixes
    parser = NmeaParser()
    pieces = []
    for byte in text.encode():
        pieces.extend(parser.feed(bytes([byte])))
    pieces.extend(parser.flush())
    assert pieces == whole
    assert len(whole) == 5


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_parser_accepts_any_line_ending(newline: str) -> None:
    text = newline.join([rmc("120000"), rmc("120001"), rmc("120002")]) + newline
    result = parse_text(text)
    assert len(result.fixes) == 3
    assert result.stats.lines_read == 3


def test_parser_emits_epoch_as_soon_as_its_sentence_set_is_complete() -> None:
    parser = NmeaParser()
    assert parser.feed(lines(rmc("120000"), gga("120000"))) == []  # first epoch: set unknown
    assert len(parser.feed(lines(rmc("120001")))) == 1  # time changed: epoch 0 out
    assert len(parser.feed(lines(gga("120001")))) == 1  # {RMC, GGA} complete: no wait


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (lines(rmc("120000", status="V")), DropReason.NO_FIX),
        (lines(gga("120000", quality="0"), rmc("120000")), DropReason.NO_FIX),
        (lines(rmc("120000", mode="N")), DropReason.NO_FIX),
        (lines(rmc("120000", mode="E")), DropReason.UNRELIABLE_MODE),
        (lines(gga("120000", quality="6"), rmc("120000")), DropReason.UNRELIABLE_MODE),
        (lines(rmc("120000"), gga("120000", hdop="7.5")), DropReason.HDOP_TOO_HIGH),
        (lines(rmc("120000", knots="300")), DropReason.IMPLAUSIBLE_SPEED),
        (lines(rmc("120000", lat="0000.0000", lon="00000.0000")), DropReason.INVALID_POSITION),
        (lines(rmc("120000", lat="8960.0000")), DropReason.MALFORMED),
        (lines(gga("120000")), DropReason.NO_DATE),
        (lines(rmc("120000", "060180")), DropReason.IMPLAUSIBLE_DATE),
        (lines(rmc("235946", "050180", lat="8960.000000")), DropReason.MALFORMED),
    ],
)
def test_parser_rejects_invalid_fixes(text: str, reason: DropReason) -> None:
    result = parse_text(text)
    assert result.fixes == []
    assert result.stats.dropped[reason] == 1


def test_parser_rejects_1980_date_until_a_plausible_date_arrives() -> None:
    text = lines(
        rmc("000001", "060180"),
        gga("000002"),
        zda("000003", 6, 1, 1980),
        gga("000004"),
        zda("081433", 23, 8, 2008),
        gga("081434"),
    )
    result = parse_text(text)
    assert [f.time for f in result.fixes] == [datetime(2008, 8, 23, 8, 14, 34, tzinfo=UTC)]
    assert result.stats.dropped[DropReason.IMPLAUSIBLE_DATE] == 1
    assert result.stats.dropped[DropReason.NO_DATE] == 2


def test_parser_min_date_rejects_week_rollover_dates() -> None:
    config = NmeaConfig(min_date=date(2024, 1, 1))
    result = parse_text(lines(rmc("120000", "150405"), rmc("120001", "150425")), config)
    assert [f.time.year for f in result.fixes] == [2025]
    assert result.stats.dropped[DropReason.IMPLAUSIBLE_DATE] == 1


def test_parser_gga_crosses_utc_midnight_with_zda_date() -> None:
    text = lines(zda("235958", 8, 3, 2019), gga("235958"), gga("235959"), gga("000000"))
    text += lines(gga("000001"))
    fixes = parse_text(text).fixes
    assert [f.time.isoformat() for f in fixes] == [
        "2019-03-08T23:59:58+00:00",
        "2019-03-08T23:59:59+00:00",
        "2019-03-09T00:00:00+00:00",
        "2019-03-09T00:00:01+00:00",
    ]


def test_parser_backfills_dates_before_the_first_date_when_asked() -> None:
    text = lines(gga("235959"), gga("000000"), gga("000001"), zda("000001", 9, 3, 2019))
    live = parse_text(text)
    assert live.fixes == []
    assert live.stats.dropped[DropReason.NO_DATE] == 3
    replay = parse_text(text, NmeaConfig(backfill_epochs=10))
    assert [f.time.isoformat() for f in replay.fixes] == [
        "2019-03-08T23:59:59+00:00",
        "2019-03-09T00:00:00+00:00",
        "2019-03-09T00:00:01+00:00",
    ]


def test_parser_time_jumping_back_starts_a_new_segment_on_the_same_day() -> None:
    text = lines(rmc("152508.00", "091209"), rmc("152508.50", "091209"))
    text += lines(gga("143306.00"), zda("143306.00", 9, 12, 2009), rmc("143306.50", "091209"))
    result = parse_text(text)
    assert [(f.time.isoformat(), f.segment) for f in result.fixes] == [
        ("2009-12-09T15:25:08+00:00", 0),
        ("2009-12-09T15:25:08.500000+00:00", 0),
        ("2009-12-09T14:33:06+00:00", 1),
        ("2009-12-09T14:33:06.500000+00:00", 1),
    ]
    assert result.stats.time_jumps_backwards == 1


def test_parser_merges_a_repeated_sentence_into_its_epoch() -> None:
    result = parse_text(lines(rmc("120000"), rmc("120001"), rmc("120001")))
    assert len(result.fixes) == 2
    assert sum(result.stats.dropped.values()) == 0


def test_parser_drops_a_stray_older_sentence_as_out_of_order() -> None:
    result = parse_text(lines(rmc("120000"), rmc("120002"), rmc("120001"), rmc("120003")))
    assert [f.time.second for f in result.fixes] == [0, 2, 3]
    assert result.stats.dropped[DropReason.OUT_OF_ORDER] == 1
    assert result.stats.time_jumps_backwards == 0


def _moving(seconds: int, metres_per_s: float, start_lat: float = 52.0) -> list[str]:
    out = []
    for i in range(seconds):
        lat = start_lat + i * metres_per_s / 111_250.0
        out.append(rmc(f"1200{i:02d}", lat=lat_ddmm(lat), lon=lon_dddmm(5.0)))
    return out


def test_parser_drops_a_position_spike_and_keeps_the_track() -> None:
    track = _moving(6, 10.0)
    spike = rmc("120003", lat=lat_ddmm(52.01), lon=lon_dddmm(5.0))  # ~1.1 km away
    text = lines(*track[:3], spike, *track[4:])
    result = parse_text(text)
    assert [f.time.second for f in result.fixes] == [0, 1, 2, 4, 5]
    assert result.stats.dropped[DropReason.IMPLAUSIBLE_JUMP] == 1


def test_parser_reanchors_when_the_first_fix_was_the_outlier() -> None:
    outlier = rmc("115959", lat=lat_ddmm(52.05), lon=lon_dddmm(5.0))
    text = lines(outlier, *_moving(6, 10.0))
    result = parse_text(text, NmeaConfig(motion=MotionLimits(reanchor_after=3)))
    assert [f.time.second for f in result.fixes] == [59, 2, 3, 4, 5]
    assert result.stats.dropped[DropReason.IMPLAUSIBLE_JUMP] == 2
    assert result.stats.reanchored == 1


def test_parser_accepts_slow_drift_over_a_long_gap() -> None:
    # nl2008u: a parked car "moves" ~700 m over 20 minutes of removed log
    text = lines(
        rmc("091507", lat="4813.0407", lon="00824.8685"),
        rmc("093452", lat="4813.2480", lon="00825.3129"),
    )
    assert len(parse_text(text).fixes) == 2


def test_parser_takes_speed_and_course_from_vtg_when_rmc_is_absent() -> None:
    text = lines(zda("120000", 1, 6, 2011), gga("120000"), vtg("221.2", "36.0"))
    text += lines(gga("120001"), vtg("222.0", "36.0"))
    fixes = parse_text(text).fixes
    assert [(round(f.speed_mps or 0, 3), f.course_deg) for f in fixes] == [
        (10.0, 221.2),
        (10.0, 222.0),
    ]


def test_parser_uses_gll_when_it_is_the_only_position() -> None:
    text = lines(zda("120000", 1, 6, 2011), gll("120000"), gll("120001", status="V"))
    result = parse_text(text)
    assert [f.time.second for f in result.fixes] == [0]
    assert result.stats.dropped[DropReason.NO_FIX] == 1


def test_parser_counts_comments_and_blank_lines() -> None:
    result = parse_text("# a comment\n\n   \n" + rmc("120000") + "\n")
    assert result.stats.lines_read == 4
    assert result.stats.ignored[IgnoredKind.COMMENT] == 1
    assert result.stats.ignored[IgnoredKind.BLANK] == 2


def test_parser_handles_a_very_long_line_without_newline() -> None:
    parser = NmeaParser()
    fixes = parser.feed("x" * 10_000 + rmc("120000"))
    fixes += parser.flush()
    assert len(fixes) == 1


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"max_hdop": 0}, "max_hdop"),
        ({"max_hdop": float("nan")}, "max_hdop"),
        ({"talkers": frozenset({"gps"})}, "talkers"),
        ({"backfill_epochs": -1}, "backfill_epochs"),
    ],
)
def test_config_refuses_bad_values(kwargs: dict[str, object], name: str) -> None:
    with pytest.raises(GpsConfigError, match=name):
        NmeaConfig(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [({"max_speed_mps": -1}, "max_speed_mps"), ({"reanchor_after": 0}, "reanchor_after")],
)
def test_motion_limits_refuse_bad_values(kwargs: dict[str, float], name: str) -> None:
    with pytest.raises(GpsConfigError, match=name):
        MotionLimits(**kwargs)  # type: ignore[arg-type]


def _corrupt(text: str, rng: random.Random, rate: float) -> bytes:
    data = bytearray(text.encode())
    for i in range(len(data)):
        if rng.random() < rate:
            data[i] = rng.randrange(256)
    return bytes(data)


@pytest.mark.parametrize("seed", range(5))
def test_parser_survives_random_corruption_and_keeps_only_valid_fixes(seed: int) -> None:
    rng = random.Random(seed)
    clean = lines(*_moving(50, 8.0))
    clean_fixes = parse_text(clean).fixes
    result = parse_text(_corrupt(clean, rng, 0.002))
    by_time = {f.time: f for f in clean_fixes}
    # every surviving fix is one of the clean ones, unchanged (checksums caught the rest)
    assert all(by_time[f.time] == f for f in result.fixes)
    assert 0 < len(result.fixes) <= len(clean_fixes)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=600))
def test_parser_never_raises_on_arbitrary_bytes(data: bytes) -> None:
    result = parse_text(data + rmc("120000").encode() + b"\n")
    assert result.stats.lines_read >= 1
    for fix in result.fixes:
        assert -90 <= fix.lat <= 90
        assert fix.time.tzinfo is not None


def test_parser_keeps_a_sentence_followed_by_binary_bytes_on_the_same_line() -> None:
    ubx = b"\xb5b\x01\x07\x5c\x00\x10\x20"
    data = rmc("120000").encode() + ubx + b"\r\n" + ubx + rmc("120001").encode() + b"\r\n"
    result = parse_text(data)
    assert [f.time.second for f in result.fixes] == [0, 1]
    assert result.stats.ignored[IgnoredKind.NOISE] == 2
    assert sum(result.stats.dropped.values()) == 0


@pytest.mark.parametrize("damage", ["*4", "*G1", "*"])
def test_parser_drops_a_damaged_checksum_field(damage: str) -> None:
    text = rmc("120000").split("*")[0] + damage + "\n"
    result = parse_text(text, NmeaConfig(accept_missing_checksum=True))
    assert result.fixes == []
    assert result.stats.dropped[DropReason.MALFORMED] == 1


def test_parser_needs_a_second_sentence_to_change_the_date() -> None:
    # "080407" -> "080507": a two-bit error the XOR checksum cannot see
    text = lines(
        rmc("095413", "080407"),
        rmc("095414", "080507"),
        rmc("095415", "080407"),
        rmc("095416", "090407"),
        rmc("095417", "090407"),
    )
    result = parse_text(text)
    assert [f.time.isoformat() for f in result.fixes] == [
        "2007-04-08T09:54:13+00:00",
        "2007-04-08T09:54:15+00:00",
        "2007-04-09T09:54:17+00:00",
    ]
    assert result.stats.dropped[DropReason.INCONSISTENT_DATE] == 2


def test_parser_drops_an_epoch_whose_sentences_disagree_on_position() -> None:
    text = lines(
        rmc("120000", lat="5200.0000"),
        gga("120000", lat="5200.0000"),
        rmc("120001", lat="5200.1000"),  # 185 m north of its own GGA
        gga("120001", lat="5200.0000"),
    )
    result = parse_text(text)
    assert [f.time.second for f in result.fixes] == [0]
    assert result.stats.dropped[DropReason.INCONSISTENT_EPOCH] == 1
