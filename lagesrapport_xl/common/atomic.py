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
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `target`; when the block ends normally it replaces `target`
    (with the permissions a new file would get), otherwise it is removed."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=".tmp-", suffix=target.suffix, dir=target.parent)
    os.close(handle)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; outputs are shared documents
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
