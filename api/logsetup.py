"""Structured logging: JSON lines when not on a TTY, with the request id on every line.

Secrets never reach the log: tokens and passwords are not logged anywhere, and a filter masks
anything that looks like a bearer token or a ``password=`` pair as a second line of defence.

Nor do plates and positions, also not in the traceback of a failed query: engines are made
with ``hide_parameters`` (SQLAlchemy leaves the bound values out of its error messages), and
the formatters drop what the database itself puts in an error: PostgreSQL's ``DETAIL`` and
``CONTEXT`` lines ("Failing row contains (...)", "Key (plate)=(...)") and any
``[parameters: ...]`` section, and the ``plate``, ``lon`` and ``lat`` of a query string (our
access log shows no query strings; uvicorn's would, were it switched on).
"""

from __future__ import annotations

import json
import logging
import logging.config
import re
import sys
from datetime import UTC, datetime
from typing import Any

from api.context import current_request_id

_SECRET = re.compile(
    r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+|(password|token|secret)(\"?\s*[:=]\s*\"?)[^\s\"&,]+"
)


# what a database error may carry of the row it refused
_DB_VALUES = re.compile(
    r"(?m)^(\s*(?:DETAIL|CONTEXT|HINT):)[^\n]*$"  # PostgreSQL's detail lines
    r"|\[parameters: [^\n]*\](?:\n\(Background on this error[^\n]*\))?"  # SQLAlchemy's
    r"|(?i:failing row contains|key) \([^\n]*"  # the same inline, e.g. in repr()s
)


# a plate or a position in a query string (an access log that shows query strings)
_QUERY_VALUES = re.compile(r"(?i)([?&](?:plate|lon|lat)=)[^&\s\"']*")


def _hide_db_values(match: re.Match[str]) -> str:
    if match.group(1):
        return match.group(1) + " (hidden: may hold personal data)"
    return "(values hidden)"


def _mask(text: str) -> str:
    text = _SECRET.sub(
        lambda m: (m.group(1) + "***") if m.group(1) else (m.group(2) + m.group(3) + "***"), text
    )
    text = _QUERY_VALUES.sub(r"\1***", text)
    return _DB_VALUES.sub(_hide_db_values, text)


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


def logging_config(*, json_lines: bool | None = None, level: int = logging.INFO) -> dict[str, Any]:
    """The logging set-up as a ``logging.config.dictConfig`` dict: one stderr handler (JSON
    lines, or text on a terminal) at ``level`` on the root logger.

    ``scancar serve`` hands it to uvicorn, which applies it in every worker process: with
    ``--workers`` above 1 the workers are new processes that would otherwise log nothing
    below WARNING (no access log)."""
    if json_lines is None:
        json_lines = not sys.stderr.isatty()
    formatter = JsonFormatter if json_lines else TextFormatter
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"main": {"()": f"{formatter.__module__}.{formatter.__qualname__}"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "main",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": logging.getLevelName(level)},
        # uvicorn's own access log repeats ours (api.access), without the request id
        "loggers": {"uvicorn.access": {"level": "WARNING"}},
    }


def configure_logging(*, json_lines: bool | None = None, level: int = logging.INFO) -> None:
    """Apply ``logging_config`` in this process."""
    logging.config.dictConfig(logging_config(json_lines=json_lines, level=level))
