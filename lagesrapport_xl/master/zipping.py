"""How the master's parts are zipped: deflated by ISA-L at level 1, each sheet in a thread as soon
as it is written, while the next sheet is written and the other parts are zipped; the bytes the same
whichever way a part went.

XlsxWriter deflates with zlib at its default level 6 and zips the parts one after the other when
the workbook closes. The master is 20 MB of XML per 1 000 reports, most of it the free texts of one
sheet. ISA-L's level 1 (the isal package) deflates it seven times as fast as zlib's level 1, itself
three times as fast as level 6, into a slightly smaller file (6 400 reports: the Texter sheet's 94 MB
in 0.016 s against 0.111 s; where isal has no wheel, zlib's level 1 is used). A sheet deflated while
the next one is written takes it off the path. XlsxWriter has no option for either: while the
workbook closes, its ZipFile and Packager are replaced by the subclasses here, and every part goes
through one compressor (Deflater), which gets its input in blocks of one size however it was read,
so a part deflated ahead is stored exactly as one deflated in turn (tests/test_master_split.py
compares the files).

A large sheet's rows are not copied into its file either: they stay in the files they were written
to (this process's and the helper's, split.py), and are read from there as the sheet is deflated
(Splices). The copy was the largest part of this process's work while the workbook closed: 150 MB
written and read again at 6 400 reports, 0.16 s.
"""

from __future__ import annotations

import contextlib
import functools
import os
import zipfile
import zlib
from collections.abc import Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import IO, Any, NamedTuple

import xlsxwriter.workbook

from .streaming import CHUNK, read_range

try:
    from isal import isal_zlib as _codec
except ImportError:  # no isal wheel for this machine: zlib (the same format, seven times slower)
    _codec = zlib  # type: ignore[no-redef]

LEVEL = 1
_BLOCK = CHUNK  # what the compressor is given at a time, whatever the pieces read
AHEAD_BYTES = 1 << 20  # a sheet at least this large is deflated ahead (smaller: not worth a thread)
# A thread for each sheet: none waits for a thread to be free, they share the cores. With a thread
# a core and one more, the master's largest sheet (Texter, written fifth: 94 MB at 6 400 reports)
# waited 0.15 s for one, and was then deflated alone while the other threads had nothing to do.
THREADS = 16
_PIECE = CHUNK  # a part's file read a chunk at a time (streaming.CHUNK: why that size)
_COPY = 1 << 20  # deflated bytes copied into the zip a megabyte at a time
_ENTRY_STATE = ("_compressor", "_fileobj", "_compress_size", "_file_size", "_crc")  # zipfile's, set here


class Deflated(NamedTuple):
    """A part deflated ahead: the file of its deflated bytes, and its CRC-32 and size, as zipfile
    would have worked them out while deflating."""

    path: str
    crc: int
    size: int


class Deflater:
    """Raw deflate at LEVEL (zipfile's format), its input handed on in blocks of exactly _BLOCK
    bytes: ISA-L's output depends on how its input is cut (zlib's does not), and a part must come
    out the same whether it was read from its pieces (Splices) or through zipfile's entry."""

    def __init__(self) -> None:
        self._compressor = _codec.compressobj(LEVEL, _codec.DEFLATED, -15)
        self._pending = bytearray()

    def compress(self, data: bytes) -> bytes:
        out = []
        view = memoryview(data)
        if self._pending:
            missing = _BLOCK - len(self._pending)
            self._pending += view[:missing]
            view = view[missing:]
            if len(self._pending) < _BLOCK:
                return b""
            out.append(self._compressor.compress(self._pending))
            self._pending = bytearray()
        while len(view) >= _BLOCK:
            out.append(self._compressor.compress(view[:_BLOCK]))
            view = view[_BLOCK:]
        self._pending += view
        return b"".join(out)

    def flush(self) -> bytes:
        last = self._compressor.compress(self._pending) if self._pending else b""
        self._pending = bytearray()
        return last + self._compressor.flush()


class Splices:
    """Parts written without their middle: at byte `at` of the part's file belong the pieces, which
    are still in the files they were written to. The part is read whole through `chunks` (as it is
    deflated ahead, or into zipfile's entry).

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

    def chunks(self, part: str) -> Generator[bytes, None, None]:
        """The part's bytes in order, a chunk at a time."""
        at, pieces = self.parts.get(part, (None, []))
        with open(part, "rb") as head:
            if at is not None:
                yield from read_range(head, 0, at)
                for piece in pieces:
                    yield from read_range(*piece)
                head.seek(at)
            while chunk := head.read(_PIECE):
                yield chunk

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


def _deflate(path: str, chunks: Generator[bytes, None, None]) -> Deflated:
    """The part's bytes (`chunks`) deflated (Deflater) into path + '.z', with their CRC-32 and size."""
    target = path + ".z"
    deflater = Deflater()
    crc = size = 0
    try:
        with open(target, "wb") as out:
            for piece in chunks:
                crc = _codec.crc32(piece, crc)
                size += len(piece)
                out.write(deflater.compress(piece))
            out.write(deflater.flush())
    except BaseException:  # e.g. a full disk: no half file left behind (take() falls back)
        with contextlib.suppress(OSError):
            os.remove(target)
        raise
    finally:
        chunks.close()  # its files closed now, not when it is collected (Windows removes no open file)
    return Deflated(target, crc, size)


class _Written:
    """The compressor of an entry whose deflated bytes are written as they are: nothing left at the end."""

    @staticmethod
    def flush() -> bytes:
        return b""


class _AheadZipFile(zipfile.ZipFile):
    """XlsxWriter's ZipFile, deflating every part with Deflater and storing a part deflated ahead
    as it was deflated."""

    def __init__(self, *args: Any, ahead: _Ahead, **kwargs: Any):
        super().__init__(*args, compresslevel=LEVEL, **kwargs)
        self.ahead = ahead

    def write(self, filename: Any, arcname: Any = None, compress_type: Any = None, compresslevel: Any = None) -> None:
        if not isinstance(filename, str) or os.path.isdir(filename):  # not one of XlsxWriter's parts
            super().write(filename, arcname, compress_type, compresslevel)
            return
        deflated = self.ahead.take(filename)
        try:
            self._write_part(filename, arcname, deflated)
        finally:
            if deflated is not None:
                os.remove(deflated.path)

    def _write_part(self, filename: str, arcname: Any, deflated: Deflated | None) -> None:
        """The entry ZipFile.write would make of the file (same header), its bytes deflated by
        Deflater or, when `deflated` ahead, copied from there with the CRC and size worked out
        there: then the part is not read again (150 MB at 6 400 reports)."""
        zinfo = zipfile.ZipInfo.from_file(filename, arcname, strict_timestamps=self._strict_timestamps)
        zinfo.file_size = self.ahead.splices.size(filename)  # the whole part's (its file may lack its rows)
        zinfo.compress_type = zipfile.ZIP_DEFLATED
        zinfo._compresslevel = LEVEL  # type: ignore[attr-defined] # as ZipFile.write sets it
        with self.open(zinfo, "w") as entry:
            known = all(hasattr(entry, name) for name in _ENTRY_STATE)  # else another Python's zipfile
            if deflated is not None and known:
                entry._compressor = _Written()  # ZipFile's own writer, told what it would have counted
                with open(deflated.path, "rb") as source:
                    while piece := source.read(_COPY):
                        entry._fileobj.write(piece)
                        entry._compress_size += len(piece)
                entry._file_size, entry._crc = deflated.size, deflated.crc
                return
            if known:
                entry._compressor = Deflater()  # else zipfile's own (zlib): the same format
            for chunk in self.ahead.splices.chunks(filename):
                entry.write(chunk)


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
