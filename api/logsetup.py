"""Structured logging: JSON lines when not on a TTY, with the request id on every line.

Secrets never reach the log: tokens and passwords are not logged anywhere, and a filter masks
anything that looks like a bearer token or a ``password=`` pair as a second line of defence.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

from api.context import current_request_id

_SECRET = re.compile(
    r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+|(password|token|secret)(\"?\s*[:=]\s*\"?)[^\s\"&,]+"
)


def _mask(text: str) -> str:
    return _SECRET.sub(
        lambda m: (m.group(1) + "***") if m.group(1) else (m.group(2) + m.group(3) + "***"), text
    )


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": _mask(record.getMessage()),
        }
        rid = current_request_id()
        if rid:
            out["request_id"] = rid
        for key in ("method", "path", "status", "duration_ms", "actor"):
            if hasattr(record, key):
                out[key] = getattr(record, key)
        if record.exc_info:
            out["exc"] = _mask(self.formatException(record.exc_info))
        return json.dumps(out, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        rid = current_request_id()
        base = f"{datetime.fromtimestamp(record.created, UTC):%H:%M:%S} {record.levelname:<7} "
        base += f"{record.name}: {_mask(record.getMessage())}"
        if rid:
            base += f" [{rid}]"
        if record.exc_info:
            base += "\n" + _mask(self.formatException(record.exc_info))
        return base


def configure_logging(*, json_lines: bool | None = None, level: int = logging.INFO) -> None:
    if json_lines is None:
        json_lines = not sys.stderr.isatty()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if json_lines else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("uvicorn.access",):
        logging.getLogger(noisy).setLevel(logging.WARNING)
