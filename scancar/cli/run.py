"""``scancar run --config car.toml``: the live car (cameras + GPS + backend), unattended.

The car is built by ``scancar.car.build_car`` (the composition root shared with ``replay``
and ``demo``) and run by ``scancar.car.runner.drive``. Anything it cannot use at start
stops it with one line on stderr and in ``<data_dir>/logs/car.log`` and a non-zero exit (2: the
configuration, 1: the environment), so a service manager restarts it or an operator sees why.
Once running it supervises instead of ending: cameras and GPS reconnect, the backend may come
and go. SIGTERM / SIGINT: the current frame is finished, open passes are decided, the outbox
is drained for up to ``backend.drain_timeout_s`` and the process exits 0.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
import traceback
from pathlib import Path
from typing import Annotated, Any

import typer

log = logging.getLogger("scancar.run")


def _where(exc: BaseException) -> str:
    """``file:line`` of the innermost frame: enough to find a bug, no message that could hold
    a plate."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "?"
    last = frames[-1]
    return f"{Path(last.filename).name}:{last.lineno}"


def fail(message: str, code: int) -> typer.Exit:
    """Log ``message`` to car.log only, print it on stderr once; the exit to raise."""
    log.error("cannot run: %s", message, extra={"stderr": False})
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def load_config_or_exit(path: Path) -> Any:
    """The checked ``CarConfig`` of ``path``, else one line on stderr and exit 2."""
    from scancar.config import CarConfigError, load_car_config

    try:
        return load_car_config(path)
    except CarConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


def run_car(config: Any, stop: threading.Event) -> dict[str, Any]:
    """Build the live car, run it until ``stop``, close it; returns the counters."""
    from scancar.car.build import build_car
    from scancar.car.notify import sd_notify
    from scancar.car.runner import drive

    car = build_car(config, stop=stop)
    try:
        sd_notify("READY=1")
        drive(car, stop)
        counters = car.pipeline.counters.as_dict()
        counters["outbox_backlog"] = car.outbox.backlog()
        car.chalk.purge(car.clock())
    finally:
        sd_notify("STOPPING=1")
        car.close()
    log.info("stopped: %s", json.dumps(counters))
    return counters


def run_command(
    config: Annotated[Path, typer.Option("--config", help="the car's TOML configuration")] = Path(
        "car.toml"
    ),
) -> None:
    """Run the car until SIGTERM/SIGINT."""
    from scancar.car.errors import CarStartError
    from scancar.cli.carlog import configure_car_logging, remove_handlers
    from scancar.lpr.errors import LprError
    from scancar.settings import CarSettingsError

    car = load_config_or_exit(config)
    try:
        handlers = configure_car_logging(
            car.data_dir / "logs" / "car.log",
            max_bytes=int(car.logs.max_mb * 1024 * 1024),
            backups=car.logs.backups,
        )
    except OSError as exc:
        typer.echo(f"error: data_dir {car.data_dir}: cannot write the log ({exc})", err=True)
        raise typer.Exit(1) from None
    stop = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        log.info("signal %d: finishing the current frame and flushing the outbox", signum)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        counters = run_car(car, stop)
    except CarStartError as exc:
        raise fail(str(exc), exc.exit_code) from None
    except (CarSettingsError, LprError) as exc:
        raise fail(str(exc), 2) from None
    except OSError as exc:  # the data folder or a device: the message names the path
        raise fail(str(exc), 1) from None
    except Exception as exc:
        raise fail(f"stopped by an unexpected {type(exc).__name__} at {_where(exc)}", 1) from None
    finally:
        remove_handlers(handlers)
    typer.echo(json.dumps(counters))


def register(app: typer.Typer) -> None:
    """Add ``run`` to the root ``scancar`` command."""
    app.command("run", help="Run the car: live cameras + GPS + backend (car.toml).")(run_command)
