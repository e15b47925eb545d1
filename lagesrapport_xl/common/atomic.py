"""Write a file so that it either appears whole or not at all.

Every output of the package (template, master, annotated copy, exports, control workbook) is
written to a temporary file beside its target and moved into place in one step: a failure halfway
leaves an existing file untouched, and a reader never sees half a workbook.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(target: str | Path, *, temporary_folder: str | Path | None = None) -> Iterator[Path]:
    """Yield a temporary path beside `target`; when the block ends normally it replaces `target`
    (with the permissions a new file would get), otherwise it is removed.

    `temporary_folder` keeps the temporary file out of the target's folder (the web intake's inbox,
    which the consolidation lists), when it is on the same file system: a move is one step only there."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    folder = target.parent
    if temporary_folder is not None:
        Path(temporary_folder).mkdir(parents=True, exist_ok=True)
        if os.stat(temporary_folder).st_dev == os.stat(folder).st_dev:
            folder = Path(temporary_folder)
    handle, name = tempfile.mkstemp(prefix=".tmp-", suffix=target.suffix, dir=folder)
    os.close(handle)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; outputs are shared documents
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
