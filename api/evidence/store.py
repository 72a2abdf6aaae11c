"""Content-addressed evidence files under the data directory.

A file is stored once per SHA-256 at ``evidence/ab/cd/<sha256>``, written to a temporary file,
fsynced and renamed, so a crash never leaves a half-written file under its final name. When a
file is read back its hash is checked again: a tampered file is reported, never served.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
import tempfile
from pathlib import Path


class EvidenceStoreError(Exception):
    pass


class EvidenceTampered(EvidenceStoreError):
    pass


class EvidenceMissing(EvidenceStoreError):
    pass


class EvidenceDiskFull(EvidenceStoreError):
    pass


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class EvidenceStore:
    def __init__(self, root: Path):
        self.root = root

    def path_for(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a sha256 hex digest: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def exists(self, sha256: str) -> bool:
        return self.path_for(sha256).exists()

    def put(self, data: bytes) -> tuple[str, bool]:
        """Store ``data``; return (sha256, created) where created is False if it was there."""
        digest = sha256_hex(data)
        final = self.path_for(digest)
        if final.exists():
            return digest, False
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=final.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, final)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
                raise
            dir_fd = os.open(final.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise EvidenceDiskFull("the evidence disk is full") from exc
            raise
        return digest, True

    def read(self, sha256: str) -> bytes:
        path = self.path_for(sha256)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise EvidenceMissing(f"evidence file {sha256} is missing") from None
        if sha256_hex(data) != sha256:
            raise EvidenceTampered(
                f"evidence file {sha256} does not match its hash: it was changed on disk"
            )
        return data

    def delete(self, sha256: str) -> bool:
        try:
            self.path_for(sha256).unlink()
        except FileNotFoundError:
            return False
        return True

    def free_bytes(self) -> int | None:
        """Bytes free for an unprivileged writer on the evidence disk (``None``: unknown)."""
        path = self.root
        while not path.exists() and path != path.parent:
            path = path.parent
        try:
            return shutil.disk_usage(path).free
        except OSError:
            return None

    def is_writable(self) -> bool:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.root, prefix=".probe-"):
                pass
        except OSError:
            return False
        return True
