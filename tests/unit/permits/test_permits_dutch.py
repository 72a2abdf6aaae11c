"""A plate a person types (a resident registering a visitor) must be Dutch unless they say it is
foreign: a typing error that still looks like a plate would protect no car."""

from __future__ import annotations

import pytest

from permits.dutch import entered_plate, parse_dutch_plate
from permits.errors import InvalidPlateError, NotDutchPlateError


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("gz-123-t", "GZ123T"), ("XK GV 52", "XKGV52"), ("1-KBD-23", "1KBD23"), ("AA-12", "AA12")],
)
def test_entered_plate_dutch_plates_in_any_notation(typed: str, stored: str) -> None:
    assert entered_plate(typed, foreign=False) == stored
    assert parse_dutch_plate(stored) is not None


@pytest.mark.parametrize("typed", ["GZ-123-TT", "AB-12-CD", "GZ12", "B-AB-1234", "123456"])
def test_entered_plate_refuses_a_plate_no_dutch_series_has(typed: str) -> None:
    with pytest.raises(NotDutchPlateError) as err:
        entered_plate(typed, foreign=False)
    assert err.value.code == "not_dutch_plate"
    assert err.value.plate == typed.replace("-", "")
    assert entered_plate(typed, foreign=True) == typed.replace("-", "")  # said to be foreign


@pytest.mark.parametrize("typed", ["", "GZ/123/T", "ABCDEFGHIJK"])
def test_entered_plate_text_that_is_no_plate_is_refused_even_when_foreign(typed: str) -> None:
    with pytest.raises(InvalidPlateError) as err:
        entered_plate(typed, foreign=True)
    assert not isinstance(err.value, NotDutchPlateError)
