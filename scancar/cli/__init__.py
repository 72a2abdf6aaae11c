"""The car's commands (``read``, ``gps``, ``replay``, ``run``, ``demo``), registered on the root
``scancar`` command. Each command module is the composition root of its process."""

from __future__ import annotations

import typer


def register_car_commands(app: typer.Typer) -> None:
    from scancar.cli import demo

    demo.register(app)
