"""Structured (JSON lines) logging for the car's processes. Log records carry counts, outcome
kinds and zone ids; the pipeline never logs a plate or a position.

``car.log`` rotates by size (``max_bytes`` x ``backups``). Warnings and worse also go to stderr
(journald), except records logged with ``extra={"stderr": False}`` (a start-up failure the
command prints itself, as one line). httpx/httpcore log every request at INFO: they are kept
at WARNING.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

QUIET_LIBRARIES = ("httpx", "httpcore")


class JsonLineFormatter(logging.Formatter):
    """One JSON object per line with the backend's keys (``api.logsetup.JsonFormatter``):
    ``time``, ``level``, ``logger``, ``message`` (and ``exc``), so one log collector reads
    both."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return json.dumps(doc)


def _not_silenced(record: logging.LogRecord) -> bool:
    return getattr(record, "stderr", True) is not False


def configure_car_logging(
    log_file: Path | None = None,
    *,
    level: int = logging.INFO,
    stream: TextIO | None = None,
    max_bytes: int = 20 * 1024 * 1024,
    backups: int = 5,
) -> list[logging.Handler]:
    """JSON lines to ``log_file`` (if given, rotated) and warnings and worse to stderr;
    returns the handlers added (so a caller can remove them again)."""
    root = logging.getLogger()
    root.setLevel(min(root.level or level, level))
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)
    handlers: list[logging.Handler] = []
    err = logging.StreamHandler(stream or sys.stderr)
    err.setLevel(logging.WARNING)
    err.setFormatter(JsonLineFormatter())
    err.addFilter(_not_silenced)
    handlers.append(err)
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        fh = logging.handlers.RotatingFileHandler(
            log_file, maxBytes=max_bytes, backupCount=backups, encoding="utf-8"
        )
        fh.setLevel(level)
        fh.setFormatter(JsonLineFormatter())
        handlers.append(fh)
    for h in handlers:
        root.addHandler(h)
    return handlers


def remove_handlers(handlers: list[logging.Handler]) -> None:
    root = logging.getLogger()
    for h in handlers:
        root.removeHandler(h)
        h.close()
