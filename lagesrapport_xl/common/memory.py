"""What keeps a batch's memory bounded: Python's cyclic garbage collector paused while a batch
allocates millions of short-lived objects (batch_gc), and records kept in a temporary file instead
of in memory (Spool), read back one at a time or in order by this process or another.
"""

from __future__ import annotations

import ctypes
import functools
import gc
import marshal
import os
import pickle
import shutil
import sys
import tempfile
import weakref
from array import array
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from itertools import islice
from typing import Any, overload


@contextmanager
def batch_gc() -> Iterator[None]:
    """Cyclic garbage collection paused for a batch, as batch programs do (6–8 % of the reading).

    Reading allocates millions of short-lived containers and Python's collector keeps scanning
    them although nearly all die by reference counting; the few cycles (exception tracebacks)
    are collected after each chunk of files (consolidate/parallel.py) and at the end. What exists
    when the batch starts (modules, the spec) is frozen, so those collections never scan it.
    """
    enabled = gc.isenabled()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.unfreeze()
        if enabled:
            gc.enable()


def before_forking() -> None:
    """Before a process that holds a batch forks more: the memory it freed goes back to the system
    (glibc's malloc_trim; nothing where the C library has no such call), so that the new processes
    do not count it as theirs, and what it holds is frozen for the cyclic collector, whose runs in
    the new processes (after each chunk of files) would otherwise scan all of it every time."""
    gc.freeze()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # a C library without it (musl)
        return None


_READ_AHEAD = 1 << 20  # bytes read at a time when records are read in order


class Spool:
    """Records (picklable objects) appended to a temporary file and read back by their number.

    A batch of 32 000 reports holds 550 MB of free text and as much again of other answers: kept
    here, they cost a few bytes each in memory (their end in the file) and are read back when
    needed, one at a time (`get`) or in order (`sequence`). The file is named, in a folder of its
    own, so that another process may read it (a SpooledSequence pickles as the file's name and the
    records' places); it is removed by `close`, or when the spool is garbage or the program ends.

    A record of plain values (a table's row of texts and numbers) is written with marshal, anything
    else with pickle: pickle keeps a UTF-8 copy inside every non-ASCII text it writes (CPython
    caches it in the string), which for texts that stay in memory doubled them. The records are
    this program's own, written and read by the same run, so neither format is a risk here.
    """

    def __init__(self) -> None:
        self.folder = tempfile.mkdtemp(prefix="lagesrapport-spool-")
        self.path = os.path.join(self.folder, "records")
        self._file = open(self.path, "wb")  # noqa: SIM115 - open until close (or the finalizer)
        self._reader = open(self.path, "rb")  # noqa: SIM115 - likewise: `get` reads here, writing goes on
        self._ends = array("q")
        self._unflushed = False
        self._cleanup = weakref.finalize(self, _remove, (self._file, self._reader), self.folder)

    def __len__(self) -> int:
        return len(self._ends)

    def put(self, record: Any) -> int:
        """Append a record; its number."""
        try:
            kind, data = _MARSHALLED, marshal.dumps(record)
        except ValueError:  # a date, a Decimal, an object: not plain values
            kind, data = _PICKLED, pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL)
        self._file.write(kind)
        self._file.write(data)
        self._ends.append((self._ends[-1] if self._ends else 0) + 1 + len(data))
        self._unflushed = True
        return len(self._ends) - 1

    def get(self, number: int) -> Any:
        """The record with this number, read again from the file (nothing is kept)."""
        self.flush()
        start = self._ends[number - 1] if number else 0
        return _record(_read_at(self._reader, start, self._ends[number] - start))

    def sequence(self, first: int = 0, stop: int | None = None) -> SpooledSequence:
        """The records first … stop-1 as a sequence that reads them from the file as asked."""
        self.flush()
        stop = len(self._ends) if stop is None else stop
        start = self._ends[first - 1] if first else 0
        return SpooledSequence(self.path, start, self._ends[first:stop])

    def flush(self) -> None:
        if self._unflushed:
            self._file.flush()
            self._unflushed = False

    def close(self) -> None:
        self._cleanup()


_MARSHALLED, _PICKLED = b"m", b"p"


def _record(data: bytes | memoryview) -> Any:
    """A record from its bytes: the kind, then the marshalled or pickled record."""
    body = memoryview(data)[1:]
    return marshal.loads(body) if data[0] == _MARSHALLED[0] else pickle.loads(body)


def _read_at(file: Any, start: int, size: int) -> bytes:
    file.seek(start)
    return file.read(size)


def _remove(files: tuple[Any, ...], folder: str) -> None:
    for file in files:
        file.close()
    shutil.rmtree(folder, ignore_errors=True)


class SpooledSequence(Sequence):
    """Records of a Spool as a read-only sequence: in order they are read a megabyte at a time,
    by number one at a time. It pickles as the file's name and the records' places, so another
    process reads the same records from the same file (while the spool is open)."""

    def __init__(self, path: str, start: int, ends: array):
        self.path = path
        self.start = start  # where the first record begins
        self.ends = ends  # where each record ends

    def __len__(self) -> int:
        return len(self.ends)

    @overload
    def __getitem__(self, index: int) -> Any: ...
    @overload
    def __getitem__(self, index: slice) -> list[Any]: ...
    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            first, stop, step = index.indices(len(self))
            if step != 1:
                return [self[i] for i in range(first, stop, step)]
            return list(islice(self._read(first), max(0, stop - first)))
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("spooled record out of range")
        start = self.ends[index - 1] if index else self.start
        with open(self.path, "rb") as file:
            return _record(_read_at(file, start, self.ends[index] - start))

    def __iter__(self) -> Iterator[Any]:
        return self._read(0)

    def _read(self, first: int) -> Iterator[Any]:
        """The records from number `first` on, read in pieces of about a megabyte."""
        ends = self.ends
        if first >= len(ends):
            return
        with open(self.path, "rb") as file:
            index = first
            while index < len(ends):
                begin = ends[index - 1] if index else self.start
                last = index  # the records read in this piece: index … last
                while last + 1 < len(ends) and ends[last + 1] - begin <= _READ_AHEAD:
                    last += 1
                piece = memoryview(_read_at(file, begin, ends[last] - begin))
                at = begin
                for number in range(index, last + 1):
                    yield _record(piece[at - begin : ends[number] - begin])
                    at = ends[number]
                index = last + 1

    def __reduce__(self) -> tuple[Any, ...]:
        return (SpooledSequence, (self.path, self.start, self.ends))
