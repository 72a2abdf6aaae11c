"""The port the pipeline uses to get positions; adapters live in ``sources.py``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from scancar.gps.model import Fix, ParseStats


class PositionSource(Protocol):
    """A stream of accepted fixes (already validated and plausibility-checked)."""

    stats: ParseStats

    def fixes(self) -> Iterator[Fix]:
        """Yield fixes until the source ends or ``close()`` is called."""
        ...

    def close(self) -> None:
        """Stop ``fixes()`` and release the device / file / socket."""
        ...
