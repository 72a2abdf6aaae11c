"""Why the car cannot start (or must stop). Each message is one line that names the thing and
what to do; the command prints it as ``error: ...`` on stderr, writes it to car.log and exits
with ``exit_code`` (1: the environment, 2: the configuration)."""

from __future__ import annotations


class CarStartError(RuntimeError):
    """The car cannot start; ``str(exc)`` is one line."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))


class CarSetupError(CarStartError):
    """The configuration cannot work for this command (e.g. a recording given to ``run``)."""

    exit_code = 2


class DataFolderInUseError(CarStartError):
    """Another car process holds the data folder."""


class CameraStartError(CarStartError):
    """A camera delivered no frame at start-up."""


class GpsStartError(CarStartError):
    """The GPS cannot be opened, or gave no fix in time."""


class BackendRefusedError(CarStartError):
    """The backend refused the device token, or the URL is not a scancar backend."""


class NoRightsKeyError(CarStartError):
    """Nothing could ever be reported: no backend and no plate key."""


class NoZonesError(CarStartError):
    """No zone set: none configured, the backend unreachable and none saved."""


class CarStoppedError(RuntimeError):
    """Something the car cannot recover from while running (the process exits non-zero)."""

    exit_code = 1
