"""Errors of the GPS package. Each carries the bad value and says what is allowed."""

from __future__ import annotations


class GpsError(Exception):
    """Base class for everything the GPS package raises."""


class GpsConfigError(GpsError, ValueError):
    """A GPS setting is out of range; raised at start-up, never inside the loop."""

    def __init__(self, name: str, value: object, allowed: str) -> None:
        self.name = name
        self.value = value
        self.allowed = allowed
        super().__init__(f"{name} must be {allowed}; got {value!r}")


class GpsSourceError(GpsError):
    """A position source cannot be opened or read (device, file, gpsd socket)."""

    def __init__(self, source: str, reason: str) -> None:
        self.source = source
        self.reason = reason
        super().__init__(f"GPS source {source}: {reason}")
