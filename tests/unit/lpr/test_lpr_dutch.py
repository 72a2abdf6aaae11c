"""Dutch plate knowledge: sidecodes and look-alike correction."""

from __future__ import annotations

import pytest

from permits.dutch import format_dutch_plate, parse_dutch_plate
from scancar.lpr.dutch import correct_dutch_plate


@pytest.mark.parametrize(
    ("plate", "sidecode", "display"),
    [
        ("GZ123T", 9, "GZ-123-T"),
        ("XK52GV", 4, "XK-52-GV"),
        ("5TXB21", 8, "5-TXB-21"),
        ("98THD4", 7, "98-THD-4"),
        ("RPNL93", 5, "RP-NL-93"),
        ("1KB234", 13, "1-KB-234"),
        ("123KB4", 14, "123-KB-4"),
    ],
)
def test_parse_dutch_plate_gives_sidecode_and_display(plate, sidecode, display):
    parsed = parse_dutch_plate(plate)
    assert parsed is not None
    assert (parsed.sidecode, parsed.display) == (sidecode, display)


@pytest.mark.parametrize("plate", ["12ABC3", "GZ12345", "AB1234", "GZ-123", ""])
def test_parse_dutch_plate_rejects_impossible_plates(plate):
    assert parse_dutch_plate(plate) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("GZ123T", "GZ123T"),  # already valid: unchanged
        ("6Z123T", "GZ123T"),  # 6 in a letter group is a G
        ("8P1234", "BP1234"),  # 8 in a letter group is a B
        ("SR16NI", "SR16NJ"),  # I is never issued: a J whose hook was missed
        ("GZ1Z3T", "GZ123T"),  # Z in a digit group is a 2
        ("VD02OP", None),  # VD-020-P and VD-02-DP: one exchange each, ambiguous
        ("FL22IL", None),  # FL-22-JL and FL-221-L: one exchange each, ambiguous
        ("V762MI", "V762MJ"),  # V-762-MJ needs one exchange, V-76-ZMJ two
        ("53IFT4", None),  # 53-JFT-4 and 531-FT-4: one exchange each
        ("AB1234", None),  # vowels are not corrected into anything
        ("GZ123", None),  # wrong length
    ],
)
def test_correct_dutch_plate_only_when_exactly_one_sidecode(raw, expected):
    result = correct_dutch_plate(raw)
    assert (result.plate if result else None) == expected


def test_format_dutch_plate_leaves_foreign_text_alone():
    assert format_dutch_plate("GZ123T") == "GZ-123-T"
    assert format_dutch_plate("BMW1234") == "BMW1234"
