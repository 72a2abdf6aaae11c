"""``scancar run --config car.toml`` (live); filled in below."""

from __future__ import annotations


def run_command() -> None:
    """Run the car (placeholder)."""
