"""One car process per data folder: an exclusive ``flock`` on ``<data_dir>/car.lock``.

The lock is held for the life of the process and released by the kernel when it dies (also on
``kill -9``), so a crash never leaves a stale lock. The file holds the owner's pid for the
message a second process gets; ``scancar status`` probes the lock to tell whether a car runs.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from scancar.car.errors import CarStartError, DataFolderInUseError

LOCK_NAME = "car.lock"


def _owner(path: Path) -> str:
    try:
        pid = path.read_text(encoding="ascii").strip()
    except OSError:
        return "another car process"
    return f"car process {pid}" if pid.isdigit() else "another car process"


class DataFolderLock:
    """Held from ``acquire()`` until ``release()`` (or the process ends)."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise CarStartError(
                f"data folder {self.path.parent}: cannot create {LOCK_NAME}: {exc.strerror}"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise DataFolderInUseError(
                f"data folder {self.path.parent} is in use by {_owner(self.path)}; "
                "one car process per data folder"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            os.close(self._fd)
            self._fd = None


def is_locked(data_dir: Path) -> bool:
    """True while a car process holds ``data_dir`` (probes without keeping the lock)."""
    path = data_dir / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False
