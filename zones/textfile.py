"""Reading a zone file or NPR table from disk: a file that cannot be read or is not UTF-8 is a
``ZoneFileError`` naming the file, like every other problem of an import (never a traceback)."""

from __future__ import annotations

from pathlib import Path

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
