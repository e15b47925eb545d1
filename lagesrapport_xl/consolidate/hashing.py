"""Each file's SHA-256 for the cache (cache.py), computed only when nothing vouches for it.

A warm run must know every file's content, and hashing 6 400 files (150 MB) costs 0.4 s of a core
on every run. Two things spare it while a file's stat is the one they saw:

- `known`, the web intake's log: path → (SHA-256, size, mtime) as the file was received;
- the cache's memo of stats, (device, inode) → (size, mtime, ctime, SHA-256), kept by every run for
  the files it hashed. The ctime is the kernel's own (a write or a `touch -d` sets it to now, and
  nothing sets it back), so a file whose bytes changed never matches its old stamp. A file changed
  within RACY_NS of its stamp could keep the same times (the clock's tick): such a stamp is not
  kept, as git does with a racily clean index. Only on POSIX, where ctime means change, not creation.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple

from ..common.digest import file_sha256


class Known(NamedTuple):
    """A file's SHA-256 as a log recorded it, with the size and time the file had then."""

    sha256: str
    size: int
    mtime_ns: int


class Stamp(NamedTuple):
    """What the memo keeps of a file it hashed: its stat then, and its SHA-256."""

    size: int
    mtime_ns: int
    ctime_ns: int
    sha256: str


Memo = Mapping[tuple[int, int], Stamp]  # (st_dev, st_ino) → Stamp
Fresh = tuple[int, int, int, int, int, str]  # a memo row to store: dev, inode, size, mtime_ns, ctime_ns, sha256
Digest = tuple[str | None, int | None, dt.datetime | None]
Hashed = tuple[str | None, int | None, dt.datetime | None, Fresh | None]

MEMO_WORKS = os.name == "posix"  # elsewhere st_ctime is the creation time: a write leaves it as it was
RACY_NS = 2_000_000_000  # a stamp younger than this when hashed is not kept (see above)


def _when(stat: os.stat_result) -> dt.datetime:
    return dt.datetime.fromtimestamp(stat.st_mtime)


def digest(path: str, known: Mapping[str, Known] | None, memo: Memo | None) -> Hashed:
    """The file's SHA-256, size and time, and a memo row when the file was hashed and its stamp can
    be kept; Nones for a file that cannot be read."""
    try:
        stat = os.stat(path)
    except OSError:
        return None, None, None, None
    vouched = known.get(path) if known else None
    if vouched is not None and (stat.st_size, stat.st_mtime_ns) == (vouched.size, vouched.mtime_ns):
        return vouched.sha256, stat.st_size, _when(stat), None
    key = (stat.st_dev, stat.st_ino)
    stamp = memo.get(key) if memo else None
    if stamp is not None and stamp[:3] == (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns):
        return stamp.sha256, stat.st_size, _when(stat), None
    sha256 = file_sha256(path)
    try:
        after = os.stat(path)
    except OSError:
        return None, None, None, None
    if sha256 is None:
        return None, None, None, None
    fresh = None
    seen = (stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
    if MEMO_WORKS and seen == (after.st_ino, after.st_size, after.st_mtime_ns, after.st_ctime_ns) \
            and after.st_ctime_ns < time.time_ns() - RACY_NS:
        fresh = (after.st_dev, after.st_ino, after.st_size, after.st_mtime_ns, after.st_ctime_ns, sha256)
    return sha256, after.st_size, _when(after), fresh


_FORKED_FROM = 200  # files: fewer are hashed by the caller (a process costs more than it saves)
_SENT = 100  # digests the hashing process sends at a time


@contextmanager
def hashed(paths: Sequence[str], known: Mapping[str, Known] | None, memo: Memo | None = None
           ) -> Iterator[Iterator[Hashed]]:
    """Each path's `digest` in order. Many files are hashed by a forked process while the caller
    decodes the ones hashed before (threads would fight the decoding for the GIL). Whatever the
    process does, the files it did not hash are hashed here; it is gone when the block ends."""
    if len(paths) < _FORKED_FROM or not sys.platform.startswith("linux") or threading.active_count() > 1:
        yield (digest(path, known, memo) for path in paths)  # a forked thread's locks could stay held
        return
    context = multiprocessing.get_context("fork")
    receiving, sending = context.Pipe(duplex=False)
    process = context.Process(target=_hash_into, args=(paths, known, memo, sending), daemon=True)
    try:
        process.start()
    except OSError:  # no process to be had (limits, memory): hashed here
        receiving.close()
        yield (digest(path, known, memo) for path in paths)
        return
    finally:
        sending.close()  # the process's end only: a process that dies reads as the end of the pipe
    try:
        yield _received(paths, known, memo, receiving)
    finally:
        receiving.close()
        process.join(timeout=1)
        if process.is_alive():
            process.kill()
            process.join()


def _received(paths: Sequence[str], known: Mapping[str, Known] | None, memo: Memo | None, pipe: Any
              ) -> Iterator[Hashed]:
    done = 0
    while done < len(paths):
        try:
            digests = pipe.recv()
        except (EOFError, OSError):
            break
        yield from digests
        done += len(digests)
    for path in paths[done:]:
        yield digest(path, known, memo)


def _hash_into(paths: Sequence[str], known: Mapping[str, Known] | None, memo: Memo | None, pipe: Any) -> None:
    """The hashing process: the digests, _SENT at a time, in order."""
    try:
        for start in range(0, len(paths), _SENT):
            pipe.send([digest(path, known, memo) for path in paths[start : start + _SENT]])
    except BaseException:  # noqa: BLE001, S110 - whatever went wrong, the caller hashes the rest
        pass
    finally:
        pipe.close()
