"""The car's commands (``read``, ``gps``, ``replay``, ``run``, ``demo``), registered on the root
``scancar`` command. Each command module is the composition root of its process."""

from __future__ import annotations

import typer


def register_car_commands(app: typer.Typer) -> None:
    from scancar.cli import demo, gps, read

    app.command("gps", help="Parse an NMEA log or GPX track; print each accepted fix.")(
        gps.gps_command
    )
    read.register(app)
    demo.register(app)
