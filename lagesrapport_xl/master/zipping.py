"""How the master's parts are zipped: at zlib level 1, each sheet deflated in a thread as soon as it
is written, while the next sheet is written and the other parts are zipped (zlib lets other threads
run while it works); the bytes the same as zipping them one after the other.

XlsxWriter deflates at zlib's default level 6 and zips the parts one after the other when the
workbook closes. The master is 20 MB of XML per 1 000 reports, most of it the free texts of one
sheet: level 1 takes a third of the time for a file a quarter larger, and a sheet deflated while
the next one is written takes it off the path (6 400 reports: 150 MB of sheets, 0.3 s of deflating
that waited for the last sheet to be written). Deflate's output does not depend on how its input is
cut into pieces (tests/test_master_split.py compares the files), so a part deflated ahead is stored
exactly as zipfile would have stored it. XlsxWriter has no option for either: while the workbook
closes, its ZipFile and Packager are replaced by the subclasses here.

A large sheet's rows are not copied into its file either: they stay in the files they were written
to (this process's and the helper's, split.py), and are read from there as the sheet is deflated
(Splices). The copy was the largest part of this process's work while the workbook closed: 150 MB
written and read again at 6 400 reports, 0.16 s.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import zipfile
import zlib
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import IO, Any, NamedTuple

import xlsxwriter.workbook

from .streaming import read_range

LEVEL = 1
AHEAD_BYTES = 1 << 20  # a sheet at least this large is deflated ahead (smaller: not worth a thread)
# A thread for each sheet: none waits for a thread to be free, they share the cores. With a thread
# a core and one more, the master's largest sheet (Texter, written fifth: 94 MB at 6 400 reports)
# waited 0.15 s for one, and was then deflated alone while the other threads had nothing to do.
THREADS = 16
_PIECE = 1 << 16  # 64 kB: a megabyte at a time cost the peak memory of a batch two
_COPY = 1 << 20  # deflated bytes copied into the zip a megabyte at a time
_ENTRY_STATE = ("_compressor", "_fileobj", "_compress_size", "_file_size", "_crc")  # zipfile's, set here


class Deflated(NamedTuple):
    """A part deflated ahead: the file of its deflated bytes, and its CRC-32 and size, as zipfile
    would have worked them out while deflating."""

    path: str
    crc: int
    size: int


class Splices:
    """Parts written without their middle: at byte `at` of the part's file belong the pieces, which
    are still in the files they were written to. The part is read whole through `chunks` (as it is
    deflated) or made whole on disk (`whole`) when zipfile is to read it itself.

    A piece is (file open to read, start, size): `size` bytes of that file from `start`."""

    def __init__(self) -> None:
        self.parts: dict[str, tuple[int, list[tuple[IO[bytes], int, int]]]] = {}
        self.files: list[IO[Any]] = []  # the pieces' files, closed by close()

    def keep(self, part: str, at: int, pieces: list[tuple[IO[bytes], int, int]], files: list[IO[Any]]) -> bool:
        """Note the pieces of `part` at `at` and take charge of their `files`; False: too small to
        be deflated ahead, so the writer copies them in itself (and keeps its files)."""
        if sum(size for _, _, size in pieces) < AHEAD_BYTES:
            return False
        self.parts[part] = (at, pieces)
        self.files.extend(files)
        return True

    def size(self, part: str) -> int:
        _, pieces = self.parts.get(part, (0, []))
        return os.path.getsize(part) + sum(size for _, _, size in pieces)

    def chunks(self, part: str) -> Iterator[bytes]:
        """The part's bytes in order, 64 kB at a time."""
        at, pieces = self.parts.get(part, (None, []))
        with open(part, "rb") as head:
            if at is not None:
                yield from read_range(head, 0, at)
                for piece in pieces:
                    yield from read_range(*piece)
                head.seek(at)
            while chunk := head.read(_PIECE):
                yield chunk

    def whole(self, part: str) -> None:
        """Put the pieces into the part's file (same mode and times: zipfile stores them)."""
        if part not in self.parts:
            return
        made = part + ".whole"
        try:
            with open(made, "wb") as out:
                for chunk in self.chunks(part):
                    out.write(chunk)
            shutil.copystat(part, made)
            os.replace(made, part)
        finally:
            with contextlib.suppress(OSError):
                os.remove(made)
        del self.parts[part]

    def close(self) -> None:
        for file in self.files:
            file.close()
        self.files.clear()
        self.parts.clear()


class _Ahead:
    """The sheets, each deflated in a thread into a file beside it as soon as it is written."""

    def __init__(self) -> None:
        self.parts: dict[str, Future[Deflated]] = {}
        self.pool: ThreadPoolExecutor | None = None
        self.splices = Splices()

    def submit(self, path: str) -> None:
        """Deflate the part written (and closed) at `path`, if it is large enough to be worth it."""
        try:
            if self.splices.size(path) < AHEAD_BYTES:
                return
        except OSError:
            return
        if self.pool is None:
            self.pool = ThreadPoolExecutor(THREADS, thread_name_prefix="deflate")
        self.parts[path] = self.pool.submit(_deflate, path, self.splices.chunks(path))

    def take(self, name: str) -> Deflated | None:
        """A part's deflated bytes, when it was deflated ahead (None: deflate it now)."""
        done = self.parts.pop(name, None)
        if done is None:
            return None
        try:
            return done.result()
        except Exception:  # noqa: BLE001 - e.g. a full disk: zipfile deflates it itself
            return None

    def finish(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True)
        for done in self.parts.values():  # deflated but never zipped (the workbook failed)
            if done.exception() is None:
                os.remove(done.result().path)
        self.splices.close()


def _deflate(path: str, chunks: Iterator[bytes]) -> Deflated:
    """The part's bytes (`chunks`) deflated as zipfile deflates them (raw deflate, LEVEL), into
    path + '.z', with their CRC-32 and size."""
    target = path + ".z"
    deflater = zlib.compressobj(LEVEL, zlib.DEFLATED, -15)
    crc = size = 0
    try:
        with open(target, "wb") as out:
            for piece in chunks:
                crc = zlib.crc32(piece, crc)
                size += len(piece)
                out.write(deflater.compress(piece))
            out.write(deflater.flush())
    except BaseException:  # e.g. a full disk: no half file left behind (take() falls back)
        with contextlib.suppress(OSError):
            os.remove(target)
        raise
    return Deflated(target, crc, size)


class _Written:
    """The compressor of an entry whose deflated bytes are written as they are: nothing left at the end."""

    @staticmethod
    def flush() -> bytes:
        return b""


class _AheadZipFile(zipfile.ZipFile):
    """XlsxWriter's ZipFile at LEVEL, storing a part deflated ahead as it was deflated."""

    def __init__(self, *args: Any, ahead: _Ahead, **kwargs: Any):
        super().__init__(*args, compresslevel=LEVEL, **kwargs)
        self.ahead = ahead

    def write(self, filename: Any, arcname: Any = None, compress_type: Any = None, compresslevel: Any = None) -> None:
        deflated = self.ahead.take(filename) if isinstance(filename, str) else None
        if deflated is None:
            if isinstance(filename, str):
                self.ahead.splices.whole(filename)
            super().write(filename, arcname, compress_type, compresslevel)
            return
        try:
            self._write_deflated(filename, arcname, deflated)
        finally:
            os.remove(deflated.path)

    def _write_deflated(self, filename: str, arcname: Any, deflated: Deflated) -> None:
        """The entry ZipFile.write would make of the file (same header, same bytes), its deflated
        bytes copied from the file deflated ahead and its CRC and size as worked out there: the
        part is not read again (150 MB at 6 400 reports)."""
        zinfo = zipfile.ZipInfo.from_file(filename, arcname, strict_timestamps=self._strict_timestamps)
        zinfo.file_size = deflated.size  # the whole part's (its file may lack its rows: Splices)
        zinfo.compress_type = zipfile.ZIP_DEFLATED
        zinfo._compresslevel = LEVEL  # type: ignore[attr-defined] # as ZipFile.write sets it
        with self.open(zinfo, "w") as entry:
            if not all(hasattr(entry, name) for name in _ENTRY_STATE):  # another Python's zipfile: as usual
                for chunk in self.ahead.splices.chunks(filename):
                    entry.write(chunk)
                return
            entry._compressor = _Written()  # ZipFile's own writer, told what it would have counted
            with open(deflated.path, "rb") as source:
                while piece := source.read(_COPY):
                    entry._fileobj.write(piece)
                    entry._compress_size += len(piece)
            entry._file_size, entry._crc = deflated.size, deflated.crc


class _AheadPackager(xlsxwriter.workbook.Packager):
    """XlsxWriter's Packager, handing each sheet to be deflated as soon as it is written."""

    def __init__(self, ahead: _Ahead):
        super().__init__()
        self.ahead = ahead
        self.sheet: str | None = None  # the sheet being written (while the sheets are)
        self.writing_sheets = False

    def _write_worksheet_files(self) -> None:
        for sheet in self.workbook.worksheets():
            if hasattr(sheet, "splices"):  # a StreamingWorksheet: its rows may stay where they are
                sheet.splices = self.ahead.splices
        self.writing_sheets = True
        try:
            super()._write_worksheet_files()
        finally:
            self.writing_sheets = False
            self._sheet_done()

    def _filename(self, xml_filename: str) -> Any:
        if self.writing_sheets:  # XlsxWriter closes a sheet's file before it asks for the next one's
            self._sheet_done()
        name = super()._filename(xml_filename)
        if self.writing_sheets and isinstance(name, str):
            self.sheet = name
        return name

    def _sheet_done(self) -> None:
        if self.sheet is not None:
            self.ahead.submit(self.sheet)
            self.sheet = None


@contextlib.contextmanager
def quick_zip() -> Iterator[None]:
    """While a workbook closes: its parts zipped at LEVEL, the sheets deflated ahead."""
    ahead = _Ahead()
    originals = xlsxwriter.workbook.ZipFile, xlsxwriter.workbook.Packager
    xlsxwriter.workbook.ZipFile = functools.partial(_AheadZipFile, ahead=ahead)
    xlsxwriter.workbook.Packager = functools.partial(_AheadPackager, ahead)
    try:
        yield
    finally:
        xlsxwriter.workbook.ZipFile, xlsxwriter.workbook.Packager = originals
        ahead.finish()
