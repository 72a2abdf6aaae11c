"""Structured (JSON lines) logging for the car's processes. Log records carry counts, outcome
kinds and zone ids; the pipeline never logs a plate."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO


class JsonLineFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return json.dumps(doc)


def configure_car_logging(
    log_file: Path | None = None, *, level: int = logging.INFO, stream: TextIO | None = None
) -> list[logging.Handler]:
    """JSON lines to ``log_file`` (if given) and warnings and worse to stderr; returns the
    handlers added (so a caller can remove them again)."""
    root = logging.getLogger()
    root.setLevel(min(root.level or level, level))
    handlers: list[logging.Handler] = []
    err = logging.StreamHandler(stream or sys.stderr)
    err.setLevel(logging.WARNING)
    err.setFormatter(JsonLineFormatter())
    handlers.append(err)
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        fh = logging.FileHandler(log_file, encoding="utf-8")
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
