"""Reading a zone file or NPR table: a file that cannot be read, is not UTF-8 or is not JSON is a
``ZoneFileError`` naming the file, like every other problem of an import (never a traceback)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from zones.errors import Problem, ProblemCode, ZoneFileError


def read_text(path: Path, encoding: str = "utf-8") -> str:
    """The text of ``path`` (``encoding`` is a UTF-8 variant: ``utf-8`` or ``utf-8-sig``)."""
    try:
        return path.read_text(encoding=encoding)
    except OSError as exc:
        reason = str(exc.strerror or exc)
        raise ZoneFileError(
            [
                Problem(
                    None,
                    None,
                    "file",
                    f"cannot read {path}: {reason}",
                    code=ProblemCode.FILE_UNREADABLE,
                    values={"path": str(path), "reason": reason},
                )
            ]
        ) from exc
    except UnicodeDecodeError as exc:
        raise ZoneFileError(
            [
                Problem(
                    None,
                    None,
                    "file",
                    f"{path} is not UTF-8: {exc}",
                    code=ProblemCode.FILE_NOT_UTF8,
                    values={"path": str(path)},
                )
            ]
        ) from exc


def parse_json(text: str, source: str) -> Any:
    """The JSON in ``text`` (read from ``source``: a path, or "text")."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ZoneFileError(
            [
                Problem(
                    None,
                    None,
                    "file",
                    f"{source} is not valid JSON: {exc.msg} "
                    f"at line {exc.lineno} column {exc.colno}",
                    code=ProblemCode.FILE_NOT_JSON,
                    values={"reason": exc.msg, "line": exc.lineno, "column": exc.colno},
                )
            ]
        ) from exc
