"""The ``Outbox`` port: what the pipeline and the uploader need from the store."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol
from uuid import UUID

from scancar.outbox.model import OutboxItem
from scancar.wire import ObservationMetadata, ObservationReceipt


class Outbox(Protocol):
    def put(self, metadata: ObservationMetadata, evidence: Mapping[str, bytes]) -> None: ...

    def next_batch(self, limit: int = 10) -> list[OutboxItem]: ...

    def mark_sent(self, observation_id: UUID, receipt: ObservationReceipt | None) -> None: ...

    def dead_letter(
        self, observation_id: UUID, status: int | None, reason: str, detail: str = ""
    ) -> None: ...

    def record_attempt(self, observation_id: UUID, error: str) -> None: ...

    def backlog(self) -> int: ...
