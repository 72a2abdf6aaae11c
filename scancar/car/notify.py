"""systemd's notify protocol (``Type=notify``, ``WatchdogSec=``) without a dependency: one
datagram per message to ``$NOTIFY_SOCKET``. Outside systemd (no socket) every call is a no-op.
"""

from __future__ import annotations

import logging
import os
import socket
import time

log = logging.getLogger("scancar.notify")


def sd_notify(message: str, socket_path: str | None = None) -> bool:
    """Send ``message`` (e.g. ``READY=1``); False when there is no socket or it failed."""
    path = socket_path if socket_path is not None else os.environ.get("NOTIFY_SOCKET")
    if not path:
        return False
    address = "\0" + path[1:] if path.startswith("@") else path
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.connect(address)
            sock.sendall(message.encode())
    except OSError as exc:
        log.debug("sd_notify failed: %s", exc)
        return False
    return True


class Watchdog:
    """Pings ``WATCHDOG=1`` at half the unit's ``WatchdogSec`` (from ``$WATCHDOG_USEC``)."""

    def __init__(self, interval_s: float | None) -> None:
        self.interval_s = interval_s
        self._next = 0.0

    @classmethod
    def from_environment(cls) -> Watchdog:
        usec = os.environ.get("WATCHDOG_USEC", "")
        pid = os.environ.get("WATCHDOG_PID", "")
        if not usec.isdigit() or (pid.isdigit() and int(pid) != os.getpid()):
            return cls(None)
        return cls(int(usec) / 1e6 / 2)

    def ping(self) -> None:
        if self.interval_s is None:
            return
        now = time.monotonic()
        if now >= self._next:
            sd_notify("WATCHDOG=1")
            self._next = now + self.interval_s

    def status(self, text: str) -> None:
        sd_notify(f"STATUS={text}")
