"""How the master's parts are zipped: at zlib level 1, the largest part deflated in a thread while
the others are zipped (zlib lets other threads run while it works), the bytes the same as zipping
them one after the other.

XlsxWriter deflates at zlib's default level 6 and zips the parts one after the other when the
workbook closes. The master is 20 MB of XML per 1 000 reports, most of it the free texts of one
sheet: level 1 takes a third of the time for a file a quarter larger, and that sheet deflated
beside the others takes it off the path. Deflate's output does not depend on how its input is cut
into pieces (tests/test_master_split.py compares the files), so the part deflated ahead is stored
exactly as zipfile would have stored it. XlsxWriter has no option for either: while the workbook
closes, its ZipFile and Packager are replaced by the subclasses here.
"""

from __future__ import annotations

import functools
import os
import threading
import zipfile
import zlib
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Any

import xlsxwriter.workbook

LEVEL = 1
AHEAD_BYTES = 4 << 20  # a part at least this large is deflated ahead (smaller: not worth a thread)
_PIECE = 1 << 16  # 64 kB: a megabyte at a time cost the peak memory of a batch two


class _Ahead:
    """The largest part, deflated in a thread into a file beside it."""

    def __init__(self) -> None:
        self.parts: dict[str, Future[str]] = {}
        self.threads: list[threading.Thread] = []

    def start(self, files: list[tuple[Any, str, bool]]) -> None:
        on_disk = [name for name, _part, _binary in files if isinstance(name, str)]
        if not on_disk:
            return
        largest = max(on_disk, key=os.path.getsize)
        if os.path.getsize(largest) < AHEAD_BYTES:
            return
        done: Future[str] = Future()
        thread = threading.Thread(target=_deflate, args=(largest, done), daemon=True)
        self.parts[largest] = done
        self.threads.append(thread)
        thread.start()

    def take(self, name: str) -> str | None:
        """The file of a part's deflated bytes, when it was deflated ahead (None: deflate it now)."""
        done = self.parts.pop(name, None)
        if done is None:
            return None
        try:
            return done.result()
        except Exception:  # noqa: BLE001 - e.g. a full disk: zipfile deflates it itself
            return None

    def finish(self) -> None:
        for thread in self.threads:
            thread.join()
        for done in self.parts.values():  # deflated but never zipped (the workbook failed)
            if done.exception() is None:
                os.remove(done.result())


def _deflate(path: str, done: Future[str]) -> None:
    """The part's bytes deflated as zipfile deflates them (raw deflate, LEVEL), into path + '.z'."""
    try:
        target = path + ".z"
        deflater = zlib.compressobj(LEVEL, zlib.DEFLATED, -15)
        with open(path, "rb") as source, open(target, "wb") as out:
            while piece := source.read(_PIECE):
                out.write(deflater.compress(piece))
            out.write(deflater.flush())
        done.set_result(target)
    except BaseException as exc:  # noqa: BLE001 - reported to take(), which falls back
        done.set_exception(exc)


class _Replay:
    """A compressor for zipfile that gives back bytes deflated before: as much as it is given
    (deflated data is rarely larger), the rest at the end."""

    def __init__(self, path: str):
        self.file = open(path, "rb")  # noqa: SIM115 - closed by flush

    def compress(self, data: bytes) -> bytes:
        return self.file.read(len(data))

    def flush(self) -> bytes:
        rest = self.file.read()
        self.file.close()
        return rest


class _AheadZipFile(zipfile.ZipFile):
    """XlsxWriter's ZipFile at LEVEL, storing the part deflated ahead as it was deflated."""

    def __init__(self, *args: Any, ahead: _Ahead, **kwargs: Any):
        super().__init__(*args, compresslevel=LEVEL, **kwargs)
        self.ahead = ahead
        self.replay: _Replay | None = None

    def write(self, filename: Any, arcname: Any = None, compress_type: Any = None, compresslevel: Any = None) -> None:
        deflated = self.ahead.take(filename) if isinstance(filename, str) else None
        if deflated is None:
            super().write(filename, arcname, compress_type, compresslevel)
            return
        self.replay = _Replay(deflated)
        try:
            super().write(filename, arcname, compress_type, compresslevel)
        finally:
            if not self.replay.file.closed:
                self.replay.file.close()
            self.replay = None
            os.remove(deflated)

    def _open_to_write(self, zinfo: zipfile.ZipInfo, force_zip64: bool = False) -> Any:
        written = super()._open_to_write(zinfo, force_zip64)
        if self.replay is not None and zinfo.compress_type == zipfile.ZIP_DEFLATED:
            written._compressor = self.replay
        return written


class _AheadPackager(xlsxwriter.workbook.Packager):
    """XlsxWriter's Packager, starting the largest part's deflation once every part is written."""

    def __init__(self, ahead: _Ahead):
        super().__init__()
        self.ahead = ahead

    def _create_package(self) -> list[tuple[Any, str, bool]]:
        files = super()._create_package()
        self.ahead.start(files)
        return files


@contextmanager
def quick_zip() -> Iterator[None]:
    """While a workbook closes: its parts zipped at LEVEL, the largest deflated ahead."""
    ahead = _Ahead()
    originals = xlsxwriter.workbook.ZipFile, xlsxwriter.workbook.Packager
    xlsxwriter.workbook.ZipFile = functools.partial(_AheadZipFile, ahead=ahead)
    xlsxwriter.workbook.Packager = functools.partial(_AheadPackager, ahead)
    try:
        yield
    finally:
        xlsxwriter.workbook.ZipFile, xlsxwriter.workbook.Packager = originals
        ahead.finish()
