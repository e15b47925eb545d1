"""A file's SHA-256 (and, for the lists of inputs, its size and modification time).

The reader hashes a file it cannot inflate; the consolidation hashes a file whose reading crashed
and RAR's register. One function reads the file in blocks, so a large file never sits in memory.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path


def file_sha256(path: str | Path) -> str | None:
    """The file's SHA-256, or None when it cannot be read."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()


def file_digest(path: str | Path) -> tuple[str | None, int | None, dt.datetime | None]:
    """SHA-256, size and modification time, or Nones when the file cannot be read."""
    sha256 = file_sha256(path)
    if sha256 is None:
        return None, None, None
    try:
        stat = os.stat(path)
    except OSError:
        return None, None, None
    return sha256, stat.st_size, dt.datetime.fromtimestamp(stat.st_mtime)
