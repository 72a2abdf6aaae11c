"""The car's commands (``read``, ``gps``, ``replay``, ``run``, ``status``, ``demo``), registered
on the root ``scancar`` command. Each command module is the composition root of its process."""

from __future__ import annotations

import typer


def register_car_commands(app: typer.Typer) -> None:
    from scancar.cli import demo, gps, read, replay, run, status

    app.command("gps", help="Parse an NMEA log or GPX track; print each accepted fix.")(
        gps.gps_command
    )
    read.register(app)
    app.command("replay", help="Replay a recorded route (frames + NMEA/GPX) through the car.")(
        replay.replay_command
    )
    app.command("run", help="Run the car: live cameras + GPS + backend (car.toml).")(
        run.run_command
    )
    app.command("status", help="The car's local state (status file, lock); exit 1 if unhealthy.")(
        status.status_command
    )
    demo.register(app)
