"""A BOA's plate correction: a reason is required, and a correction that changes more than OCR
look-alike characters of what the car read needs the BOA's explicit confirmation."""

from __future__ import annotations

import pytest

from api.review.rules import (
    CorrectionReasonRequired,
    NoteTooLong,
    PlateDiffersFromRead,
    check_plate_correction,
)
from permits.plates import differs_only_in_lookalikes


@pytest.mark.parametrize(
    ("read", "corrected", "only_lookalikes"),
    [
        ("GZ123T", "GZ1Z3T", True),  # 2 -> Z
        ("GZ123T", "6Z123T", True),  # G -> 6
        ("XK52GV", "XK5ZGV", True),
        ("B0123D", "8O123D", True),  # two positions, both look-alikes
        ("GZ123T", "GZ124T", False),  # 3 -> 4 is not a look-alike
        ("GZ123T", "GZ123", False),  # length differs
        ("GZ123T", "GZ123T", False),  # nothing changed
        ("GZ123T", "XK52GV", False),
    ],
)
def test_plates_differs_only_in_lookalikes(read, corrected, only_lookalikes):
    assert differs_only_in_lookalikes(read, corrected) is only_lookalikes


def test_correction_needs_a_reason():
    for reason in (None, "", "  ", "ok"):
        with pytest.raises(CorrectionReasonRequired):
            check_plate_correction("GZ123T", "GZ1Z3T", reason, confirmed_different=False)
    with pytest.raises(NoteTooLong):
        check_plate_correction("GZ123T", "GZ1Z3T", "x" * 301, confirmed_different=False)
    assert check_plate_correction("GZ123T", "GZ1Z3T", " 2 als Z ", confirmed_different=False) == (
        "2 als Z"
    )


def test_correction_beyond_lookalikes_needs_confirmation():
    with pytest.raises(PlateDiffersFromRead) as info:
        check_plate_correction("GZ123T", "GZ124T", "plaat vuil", confirmed_different=False)
    assert (info.value.read_plate, info.value.new_plate) == ("GZ123T", "GZ124T")
    assert info.value.code == "plate_differs_from_read"
    reason = check_plate_correction("GZ123T", "GZ124T", "plaat vuil", confirmed_different=True)
    assert reason == "plaat vuil"
