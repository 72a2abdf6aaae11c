"""The car's commands (``gps``, ``read``, ``replay``, ``run``, ``status``, ``demo``): each module
has ``register(app)``, and ``register`` here adds them all to the root ``scancar`` command
(``scancar.cli.root``). Each command is the composition root of its process
(``scancar.car.build.build_car`` for ``run`` and ``replay``, which ``demo`` drives). The
modules are light at import: OpenCV, numpy and onnxruntime load inside the commands.
"""

from __future__ import annotations

import typer

from scancar.cli import demo, gps, read, replay, run, status


def register(app: typer.Typer) -> None:
    for module in (gps, read, replay, run, status, demo):
        module.register(app)
