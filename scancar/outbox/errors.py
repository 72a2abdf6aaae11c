"""Errors of the outbox. Each carries the bad value and says what is allowed."""

from __future__ import annotations

from uuid import UUID


class OutboxError(Exception):
    """Base class for everything the outbox raises."""


class OutboxFullError(OutboxError):
    """Taking this suspect would exceed the disk quota; queued suspects are kept."""

    def __init__(self, needed_bytes: int, used_bytes: int, quota_bytes: int, reason: str) -> None:
        self.needed_bytes = needed_bytes
        self.used_bytes = used_bytes
        self.quota_bytes = quota_bytes
        super().__init__(
            f"outbox full ({reason}): {used_bytes} bytes queued + {needed_bytes} new would exceed "
            f"the quota of {quota_bytes} bytes; new suspects are refused until the backlog drains"
        )


class EvidenceMismatchError(OutboxError, ValueError):
    """The evidence bytes given to ``put`` do not match the metadata's evidence list."""

    def __init__(self, observation_id: UUID, problem: str) -> None:
        self.observation_id = observation_id
        super().__init__(f"observation {observation_id}: {problem}")


class DuplicateObservationError(OutboxError):
    """The same observation id was put before with different content."""

    def __init__(self, observation_id: UUID) -> None:
        self.observation_id = observation_id
        super().__init__(
            f"observation {observation_id} is already in the outbox with different content; "
            "an observation id may be reused only for byte-identical content"
        )


class OutboxConfigError(OutboxError, ValueError):
    """A setting is out of range; raised at start-up."""

    def __init__(self, name: str, value: object, allowed: str) -> None:
        super().__init__(f"{name} must be {allowed}; got {value!r}")
