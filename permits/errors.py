"""Errors of the parking-rights domain. Each names the bad value and what is allowed."""

from __future__ import annotations


class PermitsError(Exception):
    """Base class for parking-rights errors."""

    code = "permits_error"


class InvalidPlateError(PermitsError, ValueError):
    code = "invalid_plate"

    def __init__(self, value: str, why: str) -> None:
        self.value = value
        super().__init__(f"invalid plate {value!r}: {why}")
