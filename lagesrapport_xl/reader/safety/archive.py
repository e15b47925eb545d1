"""A zip archive, checked before any parser opens it: its central directory (entries, names,
declared sizes), then every part inflated in chunks straight from the file's bytes, counting what
really comes out, with each XML part searched for DTDs and each sheet the form reads measured
(extent.py) as it inflates. What the archive is (xlsx, xlsm, ods, docx …) is decided by its parts.

The work is bounded by what the form needs (issue 21): the workbook's own two parts are checked
first and say which sheets a defined name points at; only those sheets are measured cell by cell
(and may hold at most `max_form_sheet_cells`, as many shared strings). Every other part — other
sheets, pictures, anything added, and the workbook's own XML and styles, small in any real report —
counts as unused: declared and really inflated, together at most `max_unused_bytes`, and no other
sheet is parsed. A million numbers on the Instruktioner sheet cost 8 s
of processor time before; now the directory refuses them in milliseconds. An unused part whose
stored bytes and directory facts passed every check before (most of a batch's: the template's
theme, styles, workbook) is not inflated again; only the running totals are counted (`_passed`).
"""

from __future__ import annotations

import functools
import io
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator

from ...common import catalogue as codes
from ...common.issues import Issue
from ..sheet_scan import SheetScan, markup_counts
from ..sources.workbook_xml import parse_workbook
from .extent import ParsedExtent, extent_problem, measure
from .limits import READABLE_KINDS, FileCheck, Limits, count_text, kind_check, size_text

_XML_SUFFIXES = (".xml", ".rels", ".vml")
WORKBOOK_PARTS = ("xl/workbook.xml", "xl/_rels/workbook.xml.rels")
SHARED_STRINGS = "xl/sharedstrings.xml"  # lower case
_STRING_ITEM = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?si[\s/>]")
_DOCTYPE, _ENTITY = b"<!DOCTYPE", b"<!ENTITY"
_CHUNK = 256 * 1024
_LOCAL_HEADER = struct.Struct("<4s5H3L2H")  # a zip entry's local header; its last two: name and extra length


def inspect_zip(content: bytes, limits: Limits, keep_parts: bool = False) -> FileCheck:
    """inspect_file for a zip archive: its kind, then every limit (a refused kind is never inflated)."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            infos = archive.infolist()
            problems = _check_directory(infos, limits)
            if problems:
                return FileCheck(_zip_kind({i.filename for i in infos}, archive), problems)
            kind = _zip_kind({i.filename for i in infos}, archive)
            if kind not in READABLE_KINDS:  # refused for what it is; its parts are never parsed
                return kind_check(kind)
            scan = _ContentScan(limits, keep_parts)
            first = [info for info in infos if info.filename in WORKBOOK_PARTS]  # they say which sheets are read
            declared = sum(info.file_size for info in first)
            if declared > limits.max_unused_bytes:
                return FileCheck(kind, [_unused_problem(declared, limits)])
            for info in first:
                problem = scan.entry(archive, content, info)
                if problem:
                    return FileCheck(kind, [problem])
            scan.form_sheets = _form_sheets(scan.workbook)
            rest = [info for info in infos if info.filename not in WORKBOOK_PARTS]
            declared = scan.unused_total + sum(info.file_size for info in rest if scan.unused(info.filename))
            if declared > limits.max_unused_bytes:  # decided from the directory: nothing unused is inflated
                return FileCheck(kind, [_unused_problem(declared, limits)])
            for info in rest:
                problem = scan.entry(archive, content, info)
                if problem:
                    return FileCheck(kind, [problem])
            notices = _notices(kind, {i.filename for i in infos})
            if not keep_parts:
                return FileCheck(kind, notices)
            return FileCheck(kind, notices, scan.parts, sheet_scans=scan.sheets)
    except OSError:  # the file itself could not be read: inspect_file reports it
        raise
    except Exception:  # noqa: BLE001 - BadZipFile, zlib.error, EOFError …: a damaged or crafted archive
        return kind_check("truncated")


def _check_directory(infos: list[zipfile.ZipInfo], limits: Limits) -> list[Issue]:
    """Limits decided from the central directory alone, before a single byte is inflated."""
    if len(infos) > limits.max_entries:
        return [codes.TOO_MANY_ENTRIES.issue(count=count_text(len(infos)), limit=limits.max_entries)]
    names = [info.filename for info in infos]
    unsafe = next((n for n in names if _unsafe_name(n)), None)
    if unsafe is not None:
        return [codes.PATH_TRAVERSAL.issue(name=unsafe[:80])]
    if len(set(n.lower() for n in names)) != len(names):
        return [codes.DUPLICATE_ENTRY.issue()]
    total = sum(info.file_size for info in infos)
    if total > limits.max_uncompressed_bytes:
        return [codes.ZIP_BOMB.issue(variant="total", size=size_text(total),
                                     limit=size_text(limits.max_uncompressed_bytes))]
    for info in infos:
        if info.flag_bits & 0x1:
            return [codes.ZIP_ENCRYPTED_ENTRY.issue()]
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            return [codes.UNSUPPORTED_COMPRESSION.issue()]
        problem = _part_size_problem(info.file_size, info.compress_size, limits)
        if problem:
            return [problem]
    return []


def _unsafe_name(name: str) -> bool:
    if "\\" in name or "\x00" in name or name.startswith("/") or _DRIVE.match(name):
        return True
    return ".." in name.split("/")  # a step up, wherever it stands


_DRIVE = re.compile(r"[A-Za-z]:")


def _part_size_problem(size: int, compressed: int, limits: Limits) -> Issue | None:
    if size > limits.max_part_bytes:
        return codes.ZIP_BOMB.issue(variant="part", size=size_text(size), limit=size_text(limits.max_part_bytes))
    if size > limits.ratio_floor_bytes and size > limits.max_ratio * max(compressed, 1):
        return codes.ZIP_BOMB.issue(variant="ratio", ratio=size // max(compressed, 1), limit=limits.max_ratio,
                                    floor=size_text(limits.ratio_floor_bytes))
    return None


def _zip_kind(names: set[str], archive: zipfile.ZipFile) -> str:
    if "mimetype" in names and "content.xml" in names:
        try:
            with archive.open("mimetype") as handle:
                mimetype = handle.read(100)
        except Exception:  # noqa: BLE001 - a broken mimetype entry still names an OpenDocument file
            mimetype = b""
        return "ods" if b"spreadsheet" in mimetype else "odf"
    if "xl/workbook.bin" in names:
        return "xlsb"
    if "xl/workbook.xml" in names:
        macro = "xl/vbaProject.bin" in names or _content_types_mention(archive, names, b"macroEnabled")
        return "xlsm" if macro else "xlsx"
    if any(n.startswith("word/") for n in names):
        return "docx"
    if any(n.startswith("ppt/") for n in names):
        return "pptx"
    return "zip"


def _content_types_mention(archive: zipfile.ZipFile, names: set[str], marker: bytes) -> bool:
    if "[Content_Types].xml" not in names:
        return False
    with archive.open("[Content_Types].xml") as handle:
        return marker in handle.read(256 * 1024)


def _notices(kind: str, names: set[str]) -> list[Issue]:
    """Warnings for parts that are never used: macros, links to other files, embedded objects."""
    notices = []
    if kind == "xlsm":
        notices.append(codes.MACROS.issue())
    if any(n.startswith("xl/externalLinks/") for n in names):
        notices.append(codes.EXTERNAL_LINKS.issue())
    if any(n.startswith(("xl/embeddings/", "xl/activeX/")) for n in names):
        notices.append(codes.EMBEDDED_OBJECTS.issue())
    return notices


class _ContentScan:
    """Inflates every part in chunks, counting real bytes (headers can lie); XML parts are checked
    for DTDs by bytes before any parser sees them, and each sheet's farthest cell is found in the
    whole inflated part (a sheet is at most `max_part_bytes`). With `keep`, the bytes of every part
    that passed are kept in `parts` for the reader."""

    def __init__(self, limits: Limits, keep: bool = False):
        self.limits = limits
        self.total = 0
        self.unused_total = 0
        self.keep = keep
        self.parts: dict[str, bytes] = {}
        self.sheets: dict[str, SheetScan] = {}  # the tags of the sheets the quick scan measured
        self.workbook: dict[str, bytes] = {}  # WORKBOOK_PARTS, always kept: they name the sheets read
        self.form_sheets: frozenset[str] | None = None  # lower-case part names; None: every sheet
        self.pieces, self.last = 0, b""  # the last part _entry inflated: in how many chunks, its bytes

    def unused(self, name: str) -> bool:
        """Any part but the sheets the form reads and the shared strings (which are bounded by
        their count): counted against max_unused_bytes, inflated (its CRC checked, its bytes kept
        for the annotated copy) but never measured cell by cell. The workbook's own XML and styles
        are small in any real report, and so count here too."""
        lower = name.lower()
        if lower == SHARED_STRINGS:
            return False
        if self.form_sheets is None:
            return not lower.startswith("xl/worksheets/")
        return lower not in self.form_sheets

    def entry(self, archive: zipfile.ZipFile, content: bytes, info: zipfile.ZipInfo) -> Issue | None:
        unused = self.unused(info.filename)
        key = _part_key(content, info, self.limits) if unused else None
        data = _passed.get(key) if key is not None else None
        if data is not None:
            return self._counted(info, data)
        problem = self._entry(archive, content, info, unused)
        if problem is None and key is not None and self.pieces == 1:
            if len(_passed) >= _PASSED_KEEP:
                _passed.clear()
            _passed[key] = self.last
        return problem

    def _counted(self, info: zipfile.ZipInfo, data: bytes) -> Issue | None:
        """An unused part whose bytes passed before (`_passed`): what _entry does with its one
        chunk beyond the checks of those bytes alone, the running totals."""
        self.total += len(data)
        self.unused_total += len(data)
        if self.unused_total > self.limits.max_unused_bytes:
            return _unused_problem(self.unused_total, self.limits)
        if self.total > self.limits.max_uncompressed_bytes:
            return codes.ZIP_BOMB.issue(variant="streamed", limit=size_text(self.limits.max_uncompressed_bytes))
        if self.keep:
            self.parts[info.filename] = data
        if info.filename in WORKBOOK_PARTS:
            self.workbook[info.filename] = data
        return None

    def _entry(self, archive: zipfile.ZipFile, content: bytes, info: zipfile.ZipInfo, unused: bool) -> Issue | None:
        name = info.filename.lower()
        is_xml = name.endswith(_XML_SUFFIXES)
        wants_extent = is_xml and not unused and (name.startswith("xl/worksheets/") or name in (self.form_sheets or ()))
        streamed: ParsedExtent | None = None  # a sheet of more than one chunk: expat, as it inflates
        tail, size, markup = b"", 0, 0
        chunks: list[bytes] = []
        for chunk in _inflated(content, info):  # never more than _CHUNK at a time: headers can lie
            chunks.append(chunk)
            if not size and is_xml and not _plain_xml_start(chunk):
                return codes.XML_ENCODING.issue()
            size += len(chunk)
            self.total += len(chunk)
            if unused:
                self.unused_total += len(chunk)
                if self.unused_total > self.limits.max_unused_bytes:  # real bytes: headers can lie
                    return _unused_problem(self.unused_total, self.limits)
            if self.total > self.limits.max_uncompressed_bytes:
                limit = size_text(self.limits.max_uncompressed_bytes)
                return codes.ZIP_BOMB.issue(variant="streamed", limit=limit)
            problem = _part_size_problem(size, info.compress_size, self.limits)
            if problem:
                return problem
            if not is_xml:
                continue
            window = tail + chunk
            declarations, instructions = markup_counts(window)  # for the DTD test and the sheet scan
            if declarations and (_DOCTYPE in window or _ENTITY in window):  # before any parser sees it
                return codes.XML_DTD.issue()
            tail = chunk[-16:]
            markup += declarations + instructions
            wants_extent = wants_extent or (not unused and b"sheetData" in window)  # cells, in whatever part read
            if wants_extent and len(chunks) > 1:  # a long sheet: stop at the first cell past a limit
                pieces = (chunk,) if streamed is not None else chunks  # expat starts from the first chunk
                streamed = streamed or ParsedExtent(self.limits)
                for piece in pieces:
                    problem = streamed.feed(piece)
                    if problem:
                        return extent_problem(problem, info.filename, self.limits, archive)
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        self.pieces, self.last = len(chunks), data
        problem = None
        if streamed is not None:
            problem = streamed.feed(b"", final=True)
        elif wants_extent:
            problem, scanned = measure(data, self.limits, markup)
            if scanned is not None and self.keep:
                self.sheets[info.filename] = scanned
        if problem:
            return extent_problem(problem, info.filename, self.limits, archive)
        if name == SHARED_STRINGS and _more_items(data, self.limits.max_form_sheet_cells):
            return codes.UNUSED_CONTENT.issue(variant="strings", limit=count_text(self.limits.max_form_sheet_cells))
        if self.keep:
            self.parts[info.filename] = data
        if info.filename in WORKBOOK_PARTS:
            self.workbook[info.filename] = data
        return None


# Unused parts that passed every check of their own bytes, in one chunk, by _part_key: a batch's
# reports share most parts byte for byte (the template's theme, styles, workbook, relationships),
# and each is then neither inflated nor searched again (0.2 ms a report). Only the running totals
# depend on the rest of the file; _counted checks them.
_passed: dict[tuple[object, ...], bytes] = {}
_PASSED_KEEP = 128
_PASSED_LARGEST = 32 * 1024


def _part_key(content: bytes, info: zipfile.ZipInfo, limits: Limits) -> tuple[object, ...] | None:
    """Everything _inflated and _entry's checks of one part read: the directory's facts, the
    limits, and the part's local header, name, extra field and compressed bytes as stored.
    None for a part too large to remember or without a local header (_entry reports it)."""
    if info.file_size > _PASSED_LARGEST or info.compress_size > _PASSED_LARGEST:
        return None
    offset = info.header_offset
    header = content[offset : offset + _LOCAL_HEADER.size]
    if len(header) != _LOCAL_HEADER.size:
        return None
    name_length, extra_length = _LOCAL_HEADER.unpack(header)[-2:]
    end = offset + _LOCAL_HEADER.size + name_length + extra_length + info.compress_size
    return (limits, info.filename, info.orig_filename, info.flag_bits, info.compress_type, info.compress_size,
            info.file_size, info.CRC, content[offset:end])


def _more_items(strings: bytes, limit: int) -> bool:
    """More string items than `limit`? Each item starts at a '<' of its own, so a part with no
    more '<' than that has no more items: counted in C (5 µs), not found by the pattern (80 µs)."""
    return strings.count(b"<") > limit and len(_STRING_ITEM.findall(strings)) > limit


def _form_sheets(workbook: dict[str, bytes]) -> frozenset[str] | None:
    """The parts of the sheets a defined name points at: the only sheets a reader parses. None
    when the workbook does not say (every sheet then counts as read, and is measured)."""
    try:
        return _named_sheet_parts(workbook["xl/workbook.xml"], workbook["xl/_rels/workbook.xml.rels"])
    except Exception:  # noqa: BLE001 - a workbook part missing or damaged: the reader reports it
        return None


@functools.lru_cache(maxsize=16)  # the same two parts in every report of a batch
def _named_sheet_parts(workbook: bytes, rels: bytes) -> frozenset[str]:
    _sheets, _hidden, names, paths = parse_workbook(workbook, rels)
    return frozenset(paths[target.sheet].lower() for target in names.values() if target.sheet in paths)


def _unused_problem(size: int, limits: Limits) -> Issue:
    return codes.UNUSED_CONTENT.issue(variant="parts", size=size_text(size), limit=size_text(limits.max_unused_bytes))


def _inflated(content: bytes, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """One part's bytes, inflated in chunks of at most _CHUNK, straight from the archive's bytes.

    What zipfile's ZipExtFile gives, without its layers of file objects (a report has 18 parts;
    this takes half the time). Anything that disagrees raises BadZipFile, as zipfile would: a local
    header that is not one or names another part, a stream cut short or longer than the directory
    says, a wrong CRC. Encryption and other methods were refused before.
    """
    offset = info.header_offset
    header = content[offset : offset + _LOCAL_HEADER.size]
    if len(header) != _LOCAL_HEADER.size or not header.startswith(b"PK\x03\x04"):
        raise zipfile.BadZipFile(f"no local header for {info.filename!r}")
    name_length, extra_length = _LOCAL_HEADER.unpack(header)[-2:]
    start = offset + _LOCAL_HEADER.size
    name = info.orig_filename  # an ASCII name is the same bytes in both encodings (cp437's codec is slow)
    encoded = name.encode("ascii") if name.isascii() else name.encode("utf-8" if info.flag_bits & 0x800 else "cp437")
    if content[start : start + name_length] != encoded:
        raise zipfile.BadZipFile(f"the local header names another part than {info.filename!r}")
    start += name_length + extra_length
    raw = memoryview(content)[start : start + info.compress_size]
    if len(raw) != info.compress_size:
        raise zipfile.BadZipFile(f"{info.filename!r} is cut short")
    crc = size = 0
    if info.compress_type == zipfile.ZIP_STORED:
        pieces: Iterator[bytes] = (bytes(raw[at : at + _CHUNK]) for at in range(0, len(raw), _CHUNK))
    else:
        pieces = _deflated(raw, info)
    for piece in pieces:
        size += len(piece)
        if size > info.file_size:
            raise zipfile.BadZipFile(f"{info.filename!r} is longer than the directory says")
        crc = zlib.crc32(piece, crc)
        yield piece
    if crc != info.CRC:  # (shorter than the directory says, with the right CRC, zipfile accepts too)
        raise zipfile.BadZipFile(f"{info.filename!r} is damaged (wrong CRC)")


def _deflated(raw: memoryview, info: zipfile.ZipInfo) -> Iterator[bytes]:
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)  # a raw deflate stream, as zip stores it
    data: bytes | memoryview = raw
    while not inflater.eof:
        piece = inflater.decompress(data, _CHUNK)
        data = inflater.unconsumed_tail
        if piece:
            yield piece
        elif not inflater.eof:  # all of it read, no end of stream: a part cut short
            raise zipfile.BadZipFile(f"{info.filename!r} ends early")



def _plain_xml_start(chunk: bytes) -> bool:
    """UTF-8 (or ASCII-compatible) XML: no UTF-16/32 byte order marks or NUL bytes up front."""
    head = chunk[:64]
    return not (head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in head)
