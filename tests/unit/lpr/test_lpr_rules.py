"""Plate rules: country, validity, correction, per-character confidence."""

from __future__ import annotations

import pytest

from scancar.lpr.errors import InvalidSettingError
from scancar.lpr.rules import (
    ReadRules,
    country_of,
    fits_with_one_lookalike,
    is_colour_of,
    is_plausible_foreign,
    judge,
    may_correct_to_dutch,
)
from tests.unit.lpr.fakes import ocr


@pytest.mark.parametrize(
    ("text", "region", "region_conf", "colour", "country", "foreign", "valid"),
    [
        ("GZ123T", "Netherlands", 0.99, "yellow", "NL", False, True),
        ("GZ123T", "Portugal", 0.98, "yellow", "NL", False, True),  # yellow + sidecode win
        ("GZ123T", "Portugal", 0.98, "unknown", "NL", False, True),  # PT has no pattern here
        ("GZ123T", "Portugal", 0.98, "other", "PT", True, False),  # white plate: foreign
        ("GZ123T", "Germany", 0.30, "unknown", "NL", False, True),  # region not trusted
        ("GZ123T", "Germany", 0.30, "other", "??", False, False),  # white: NL only if region NL
        ("GZ123T", "Netherlands", 0.30, "other", "NL", False, True),
        ("KL1234", "Hungary", 0.30, "other", "??", False, False),  # German K-L 1234: not NL
        ("GZ12345", "Netherlands", 0.99, "yellow", "NL", False, False),
        ("AB123CD", "France", 0.97, "other", "FR", True, True),
        ("AB12", "France", 0.97, "other", "FR", True, False),  # partial read
        ("1CMV331", "Belgium", 0.95, "other", "BE", True, True),
        ("X7859AM", "Austria", 0.95, "other", "AT", True, False),  # no pattern: never valid
        ("ABCDEF", "Unknown", 0.90, "unknown", "??", False, False),
        ("AB123CD", "Hungary", 0.20, "other", "??", False, False),  # fits FR and IT: ambiguous
        ("1ABC123", "Hungary", 0.20, "other", "BE", True, True),  # only BE fits
        ("EC4160", "Denmark", 0.80, "other", "DK", True, False),  # fits DE and LU: ambiguous
        ("1RMB741", "Australia", 0.91, "other", "BE", True, True),  # region wrong, BE fits
        ("AB12", "Hungary", 0.20, "other", "??", False, False),  # too short to guess a country
        ("CDT474", "Finland", 0.99, "blue", "NL", False, True),  # light-blue diplomatic plate
        # German P-XV 135 fits the old Belgian series too: the characters' colour tells
        ("PXV135", "Bulgaria", 1.00, "other", "BG", True, False),
        ("PXV135", "Bulgaria", 1.00, "white_dark", "DE", True, True),
        ("PXV135", "Hungary", 0.40, "white_red", "BE", True, True),
        ("WAXC2495", "Bulgaria", 0.97, "white_dark", "BG", True, False),  # DE and PL both fit
        ("GZ123T", "Germany", 0.30, "white_dark", "??", False, False),  # white: not Dutch
        ("GZ123T", "Netherlands", 0.30, "white_red", "NL", False, True),
    ],
)
def test_judge_country_and_validity(text, region, region_conf, colour, country, foreign, valid):
    v = judge(ocr(text, region=region, region_conf=region_conf), colour=colour)
    assert (v.country, v.is_foreign, v.valid) == (country, foreign, valid)


@pytest.mark.parametrize(
    ("text", "two_line", "country", "valid"),
    [
        ("WAXC2495", False, "BG", False),  # German WA XC 2495 or Polish WAX C2495
        ("WAXC2495", True, "DE", True),  # a two-line Polish plate has a series of four
        ("WPI1C23", True, "PL", True),  # Polish WPI / 1C23
        ("WPI1C234", True, "BG", False),  # no German pattern, Polish too long for two lines
    ],
)
def test_judge_knows_the_lengths_of_two_line_plates(text, two_line, country, valid):
    v = judge(
        ocr(text, region="Bulgaria", region_conf=0.97), colour="white_dark", two_line=two_line
    )
    assert (v.country, v.valid) == (country, valid)


def test_judge_reads_i_as_j_in_the_special_series():
    v = judge(ocr("CDI372", region="Finland", region_conf=0.5), colour="blue")
    assert (v.plate, v.country, v.valid, v.corrected) == ("CDJ372", "NL", True, True)


@pytest.mark.parametrize(
    ("text", "region", "region_conf", "colour", "plate", "country", "corrected"),
    [
        ("6Z123T", "Netherlands", 0.95, "yellow", "GZ123T", "NL", True),
        ("6Z123T", "Australia", 0.40, "yellow", "GZ123T", "NL", True),  # region not trusted
        ("6Z123T", "Netherlands", 0.30, "unknown", "GZ123T", "NL", True),  # grey frame, NL
        ("DHIN09", "Germany", 0.96, "yellow", "DHIN09", "DE", False),  # placed in Germany
        ("6Z123T", "Germany", 0.30, "unknown", "6Z123T", "??", False),  # grey, not NL
        ("QL7187", "Denmark", 0.53, "other", "QL7187", "??", False),  # German QL 7187
        ("XBB981", "Malta", 0.52, "other", "XBB981", "??", False),  # German X-BB 981
        ("OK9932", "Netherlands", 0.95, "other", "OK9932", "NL", False),  # white: no correction
        ("CDI372", "Finland", 0.50, "other", "CDI372", "??", False),
    ],
)
def test_judge_corrects_lookalikes_only_on_a_plate_that_is_dutch_by_colour_and_region(
    text, region, region_conf, colour, plate, country, corrected
):
    v = judge(ocr(text, region=region, region_conf=region_conf), colour=colour)
    assert (v.plate, v.country, v.corrected, v.valid) == (plate, country, corrected, corrected)


@pytest.mark.parametrize(
    ("colour", "region_country", "trusted", "may"),
    [
        ("yellow", "NL", True, True),
        ("yellow", "DE", False, True),
        ("yellow", "DE", True, False),
        ("blue", "BE", True, False),
        ("unknown", "NL", False, True),
        ("unknown", "PT", False, False),
        ("other", "NL", True, False),
    ],
)
def test_may_correct_to_dutch_needs_colour_and_region(colour, region_country, trusted, may):
    assert may_correct_to_dutch(colour, region_country, trusted) is may


@pytest.mark.parametrize(
    ("text", "region", "colour", "country", "valid"),
    [
        ("GNT57", "Germany", "other", "DE", True),
        ("GNT57", "Germany", "yellow", "DE", False),  # no German plate is yellow
        ("GNT57", "Germany", "unknown", "DE", True),  # grey frame: colour rules nothing out
        ("AB12CDE", "United Kingdom", "yellow", "GB", True),  # British rear plate
        ("AB123CD", "France", "yellow", "FR", True),  # French plate issued before 2009
        ("1ABC123", "Belgium", "yellow", "BE", False),
    ],
)
def test_judge_foreign_plate_needs_a_colour_its_country_issues(
    text, region, colour, country, valid
):
    v = judge(ocr(text, region=region, region_conf=0.9), colour=colour)
    assert (v.country, v.is_foreign, v.valid) == (country, True, valid)


def test_judge_does_not_take_a_misread_plate_of_the_region_country_for_another_country():
    misread = judge(ocr("HF9870D", region="Italy", region_conf=0.95), colour="other")
    assert (misread.country, misread.valid) == ("IT", False)  # fits PL, but also IT with O
    right = judge(ocr("HF987OD", region="Italy", region_conf=0.95), colour="other")
    assert (right.country, right.valid) == ("IT", True)
    unsure = judge(ocr("RT17079", region="Denmark", region_conf=0.63), colour="other")
    assert (unsure.country, unsure.valid) == ("PL", True)  # DK has no pattern: PL fits


@pytest.mark.parametrize(
    ("plate", "country", "fits"),
    [("HF9870D", "IT", True), ("HF98700", "IT", False), ("1ABC12B", "BE", True),
     ("AB12CD5", "GB", True), ("AB12C55", "GB", False), ("HF9870D", "AT", False)],
)  # fmt: skip
def test_fits_with_one_lookalike_of_a_read_that_does_not_fit(plate, country, fits):
    assert fits_with_one_lookalike(plate, country) is fits


def test_is_colour_of_knows_which_countries_issue_yellow_plates():
    assert [is_colour_of(c, "yellow") for c in ("GB", "LU", "FR", "DE", "PL", "AT")] == [
        True, True, True, False, False, True,  # AT: no entry, nothing ruled out
    ]  # fmt: skip
    assert is_colour_of("DE", "unknown") is True


def test_judge_corrects_lookalikes_into_one_sidecode():
    v = judge(ocr("6Z123T"), colour="yellow")
    assert (v.plate, v.display, v.sidecode, v.corrected, v.valid) == (
        "GZ123T",
        "GZ-123-T",
        9,
        True,
        True,
    )


def test_judge_marks_ambiguous_reads_invalid():
    v = judge(ocr("FL22IL"), colour="yellow")
    assert (v.plate, v.valid, v.sidecode) == ("FL22IL", False, None)


@pytest.mark.parametrize(
    ("confs", "length_conf", "low"),
    [
        ((0.99, 0.99, 0.99, 0.99, 0.99, 0.99), 0.99, False),
        ((0.99, 0.99, 0.99, 0.99, 0.99, 0.94), 0.99, True),  # one character decides
        ((0.99, 0.99, 0.99, 0.99, 0.99, 0.99), 0.50, True),  # unsure where the plate ends
        ((0.96, 0.96, 0.96, 0.96, 0.96, 0.96), 0.99, False),
    ],
)
def test_judge_low_confidence_is_per_character(confs, length_conf, low):
    v = judge(ocr("GZ123T", confs, length_conf=length_conf), colour="yellow")
    assert v.low_confidence is low
    assert v.valid is True
    assert v.confidence == min(confs)


def test_judge_high_mean_does_not_hide_one_weak_character():
    confs = (1.0, 1.0, 1.0, 1.0, 1.0, 0.5)  # mean 0.92
    assert judge(ocr("GZ123T", confs)).low_confidence is True


def test_country_of_maps_region_labels():
    assert (country_of("Netherlands"), country_of("Germany"), country_of(None)) == (
        "NL",
        "DE",
        "??",
    )


@pytest.mark.parametrize(
    ("plate", "country", "ok"),
    [("AB123CD", "FR", True), ("AB123CD", "IT", True), ("1234BCD", "ES", True),
     ("1234ABC", "ES", False), ("AB12CDE", "GB", True), ("ABC123", "BE", True)],
)  # fmt: skip
def test_is_plausible_foreign_patterns(plate, country, ok):
    assert is_plausible_foreign(plate, country) is ok


@pytest.mark.parametrize(
    ("plate", "ok"),
    [("WA12345", True), ("KR1234A", True), ("PO123AC", True), ("WX1AC23", True),
     ("SGL1A23", True), ("SGLAC12", True), ("SGL12345", True), ("GAO2459Q", True),
     ("FR1TUUR", False),  # a FRITUUR sign: four letters in the series
     ("XN7282D", False),  # D is not used in the series (it looks like 0)
     ("WAC1234", True), ("WA1234", False), ("WAA123ABC", False)],
)  # fmt: skip
def test_polish_pattern_follows_the_series_rules(plate, ok):
    assert is_plausible_foreign(plate, "PL") is ok


def test_read_rules_refuse_floors_outside_zero_one():
    with pytest.raises(InvalidSettingError, match=r"char_floor 1\.5.*0\.0\.\.1\.0"):
        ReadRules(char_floor=1.5)
