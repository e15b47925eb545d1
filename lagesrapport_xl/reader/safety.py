"""Check a file before any parser touches it: what kind it really is, and hard size limits.

Parsers are the attack surface: a 20 KB zip can inflate to gigabytes, an XML part can declare
entities that expand exponentially, and python-calamine allocates the whole rectangle from A1 to
the farthest cell (one cell at XFD1048576 makes it abort the process, not raise). So every limit
here is checked while the parts are inflated in chunks, before the reader opens the workbook:
DTDs by bytes, the farthest cell of each sheet by expat (a real parser reads references the way
calamine and openpyxl will). A file is identified by its magic bytes and zip parts, never by its
extension. docs/safety.md lists every check with its default and the reasoning behind it.
"""

from __future__ import annotations

import functools
import io
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers import expat

from ..common.issues import Issue, Severity
from .cells import column_number
from .sheet_scan import SheetScan, markup_counts, scan_sheet

READABLE_KINDS = {"xlsx", "xlsm"}
MiB = 2**20


@dataclass(frozen=True)
class Limits:
    """Refuse a file before parsing when it exceeds any of these.

    Sized for a real report (measured, see docs/safety.md): a filled report is 17 KB with 13–17
    parts of at most 40 KB inflated; the largest a coordinator can make (every text cell full
    with 32 767 "&", five bytes of XML each) inflates to 3.9 MB with a 2 MB part that compresses
    232:1, so the ratio test only applies to parts above `ratio_floor_bytes`.
    """

    max_file_bytes: int = 20 * MiB
    max_entries: int = 500
    max_uncompressed_bytes: int = 64 * MiB
    max_part_bytes: int = 32 * MiB
    max_ratio: float = 100.0
    ratio_floor_bytes: int = 16 * MiB
    max_sheet_rows: int = 10_000
    max_sheet_columns: int = 1_000
    max_sheet_cells: int = 1_000_000


DEFAULT_LIMITS = Limits()


@dataclass
class FileCheck:
    """What a file is and what is wrong with it; `readable` says whether a parser may open it."""

    kind: str  # xlsx, xlsm, ods, xls, xlsb, csv, docx, encrypted, empty, zip, truncated, lock_file …
    issues: list[Issue] = field(default_factory=list)
    # With keep_parts: every zip part as inflated and checked here, so that the reader parses
    # these very bytes instead of inflating the archive a second time (None otherwise).
    parts: dict[str, bytes] | None = field(default=None, repr=False, compare=False)
    # With keep_parts, for a readable workbook: the file's bytes as checked, for its hash and parser.
    content: bytes | None = field(default=None, repr=False, compare=False)
    # With keep_parts: part name → the tags of each sheet the quick scan measured (sheet_scan), so
    # that the fast source looks its cells up without a second pass over the same XML.
    sheet_scans: dict[str, SheetScan] | None = field(default=None, repr=False, compare=False)

    @property
    def readable(self) -> bool:
        return self.kind in READABLE_KINDS and not any(i.severity is Severity.ERROR for i in self.issues)

    @property
    def skip(self) -> bool:
        """An Excel/LibreOffice lock file: not a report and not an error, just not read."""
        return self.kind == "lock_file"


# --- messages --------------------------------------------------------------------------------

SAVE_AS_XLSX = "Öppna filen i Excel och spara den som Excel-arbetsbok (.xlsx): Arkiv → Spara som → Excel-arbetsbok."
SEND_AGAIN = "Be avsändaren skicka rapporten på nytt i RAR:s mall (.xlsx)."
REFUSED = "Filen läses inte av säkerhetsskäl."

KIND_MESSAGES = {
    "empty": "Filen är tom (0 byte). Den kan ha skadats vid kopiering eller e-post. " + SEND_AGAIN,
    "xls": "Filen är sparad i det gamla Excel-formatet (.xls, Excel 97–2003) och kan inte läsas. "
    + SAVE_AS_XLSX,
    "encrypted": "Arbetsboken är lösenordsskyddad (krypterad) och kan inte öppnas. Ta bort lösenordet "
    "(Arkiv → Information → Skydda arbetsbok → Kryptera med lösenord, töm fältet) och spara den som "
    "Excel-arbetsbok (.xlsx). Mallens bladskydd är ingen kryptering och gör inget.",
    "ole2": "Filen är i ett äldre Office-format som inte kan läsas. " + SAVE_AS_XLSX,
    "doc": "Filen är ett Word-dokument (.doc), inte en Excel-arbetsbok. Fyll i rapporten i RAR:s Excel-mall.",
    "docx": "Filen är ett Word-dokument (.docx), inte en Excel-arbetsbok. Fyll i rapporten i RAR:s Excel-mall.",
    "pptx": "Filen är en PowerPoint-presentation, inte en Excel-arbetsbok. Fyll i rapporten i RAR:s Excel-mall.",
    "ods": "Filen är sparad i OpenDocument-format (.ods, t.ex. från LibreOffice). Spara den som "
    "Excel-arbetsbok: Arkiv → Spara som → filtyp Excel 2007-365 (.xlsx).",
    "odf": "Filen är ett OpenDocument-dokument, inte en Excel-arbetsbok. Fyll i rapporten i RAR:s Excel-mall.",
    "xlsb": "Filen är sparad som binär Excel-arbetsbok (.xlsb) och kan inte läsas. " + SAVE_AS_XLSX,
    "csv": "Filen är en textfil (t.ex. CSV), inte en Excel-arbetsbok. Fyll i rapporten i RAR:s mall och "
    "spara den som Excel-arbetsbok (.xlsx).",
    "html": "Filen är en webbsida (HTML) med filändelse för Excel, inte en Excel-arbetsbok. " + SAVE_AS_XLSX,
    "xml_spreadsheet": "Filen är sparad som XML-kalkylblad (Excel 2003), inte som Excel-arbetsbok. "
    + SAVE_AS_XLSX,
    "pdf": "Filen är en PDF, inte en Excel-arbetsbok. Skicka den ifyllda Excel-filen i stället.",
    "zip": "Filen är ett zip-arkiv utan Excel-arbetsbok i. Skicka själva Excel-filen (.xlsx), inte ett arkiv.",
    "truncated": "Filen är ofullständig eller skadad (zip-arkivet går inte att öppna); den kan ha avbrutits "
    "vid kopiering eller e-post. " + SEND_AGAIN,
    "unknown": "Filen är ingen Excel-arbetsbok och dess format känns inte igen. " + SAVE_AS_XLSX,
    "lock_file": "Filen är en tillfällig låsfil som Excel eller LibreOffice skapar medan en arbetsbok är "
    "öppen. Den är ingen rapport och hoppas över.",
}


def _error(code: str, message: str) -> Issue:
    return Issue(Severity.ERROR, message, code)


def _count(number: int) -> str:
    """1000000 → '1 000 000', as Swedish text groups digits."""
    return f"{number:,}".replace(",", "\u00a0")


def size_text(number: int) -> str:
    """Bytes as a Swede reads them: '20 MB', '512 kB'."""
    if number >= MiB:
        return f"{number / MiB:.0f} MB".replace(".", ",")
    return f"{max(1, round(number / 1024))} kB"


# --- entry point -----------------------------------------------------------------------------


def inspect_file(path: str | Path, limits: Limits = DEFAULT_LIMITS, *, keep_parts: bool = False) -> FileCheck:
    """Identify the file and check every hard limit; never raises for a bad file.

    `keep_parts`: a readable workbook's check carries the inflated parts (`FileCheck.parts`).
    """
    path = Path(path)
    limits = limits or DEFAULT_LIMITS
    if _is_lock_file_name(path.name):
        return FileCheck("lock_file", [Issue(Severity.WARNING, KIND_MESSAGES["lock_file"], "lock_file")])
    try:
        size = path.stat().st_size
        if size == 0:
            return _kind_only("empty")
        if size > limits.max_file_bytes:
            return FileCheck(
                "too_large",
                [_error("file_too_large", f"Filen är {size_text(size)}; en rapport är högst några hundra kB och "
                        f"filer över {size_text(limits.max_file_bytes)} läses inte. {SEND_AGAIN}")],
            )
        content = path.read_bytes()  # once (at most max_file_bytes): every check sees the same bytes
        if content.startswith(ZIP_MAGIC):
            check = _inspect_zip(content, limits, keep_parts)
            if keep_parts and check.parts is not None:
                check.content = content
            return check
        if content.startswith(OLE2_MAGIC):
            return _kind_only(_ole2_kind(content))
        return _kind_only(_sniff_other(content[:8192]))
    except OSError as exc:
        return FileCheck("unreadable", [_error("unreadable", f"Filen kunde inte läsas ({exc.strerror or exc}).")])


def _kind_only(kind: str) -> FileCheck:
    return FileCheck(kind, [_error(kind if kind != "zip" else "zip_no_workbook", KIND_MESSAGES[kind])])


def _is_lock_file_name(name: str) -> bool:
    """Excel writes '~$rapport.xlsx' and LibreOffice '.~lock.rapport.xlsx#' beside an open file."""
    return name.startswith("~$") or (name.startswith(".~lock.") and name.endswith("#"))


# --- files that are not zip archives ---------------------------------------------------------

OLE2_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")  # a local header, an empty archive, a spanned one


def _sniff_other(head: bytes) -> str:
    if head.startswith(b"%PDF"):
        return "pdf"
    if b"\x00" in head:
        return "unknown"
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n").lower()
    if "urn:schemas-microsoft-com:office:spreadsheet" in text:
        return "xml_spreadsheet"
    if text.startswith(("<!doctype html", "<html", "<table")) or "<html" in text[:512]:
        return "html"
    return "csv"


def _ole2_kind(data: bytes) -> str:
    """xls, encrypted (Office's EncryptionInfo/EncryptedPackage streams), doc or plain ole2."""
    names = _ole2_stream_names(data)
    if names is None:  # a damaged directory: fall back to looking for the stream name itself
        names = {"EncryptionInfo"} if "EncryptionInfo".encode("utf-16-le") in data else set()
    if names & {"EncryptionInfo", "EncryptedPackage"}:
        return "encrypted"
    if names & {"Workbook", "Book"}:
        return "xls"
    if "WordDocument" in names:
        return "doc"
    return "ole2"


def _ole2_stream_names(data: bytes) -> set[str] | None:
    """Names in a compound file's directory (MS-CFB), following the FAT with bounded loops."""
    try:
        sector_size = 1 << struct.unpack_from("<H", data, 0x1E)[0]
        if sector_size not in (512, 4096):
            return None
        sector_count = max(0, len(data) // sector_size - 1)

        def sector(index: int) -> bytes:
            if index >= sector_count:
                raise ValueError("sector outside the file")
            start = (index + 1) * sector_size
            return data[start : start + sector_size]

        fat_sectors = [s for s in struct.unpack_from("<109I", data, 0x4C) if s < 0xFFFFFFFA]
        difat, difat_count = struct.unpack_from("<II", data, 0x44)
        for _ in range(min(difat_count, sector_count)):
            if difat >= 0xFFFFFFFA:
                break
            entries = struct.unpack(f"<{sector_size // 4}I", sector(difat))
            fat_sectors += [s for s in entries[:-1] if s < 0xFFFFFFFA]
            difat = entries[-1]
        fat: list[int] = []
        for index in fat_sectors[:sector_count]:
            fat.extend(struct.unpack(f"<{sector_size // 4}I", sector(index)))
        names: set[str] = set()
        current, seen = struct.unpack_from("<I", data, 0x30)[0], set()
        while current < 0xFFFFFFFA and current not in seen and current < len(fat):
            seen.add(current)
            block = sector(current)
            for offset in range(0, sector_size, 128):
                entry = block[offset : offset + 128]
                length = min(struct.unpack_from("<H", entry, 64)[0], 64)
                if entry[66] in (1, 2, 5) and length >= 2:
                    names.add(entry[: length - 2].decode("utf-16-le", errors="replace"))
            current = fat[current]
        return names
    except (struct.error, ValueError, IndexError):
        return None


# --- zip archives ----------------------------------------------------------------------------

_XML_SUFFIXES = (".xml", ".rels", ".vml")
_DOCTYPE, _ENTITY = b"<!DOCTYPE", b"<!ENTITY"
_CHUNK = 256 * 1024
_LOCAL_HEADER = struct.Struct("<4s5H3L2H")  # a zip entry's local header; its last two: name and extra length


def _inspect_zip(content: bytes, limits: Limits, keep_parts: bool = False) -> FileCheck:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            infos = archive.infolist()
            problems = _check_directory(infos, limits)
            if problems:
                return FileCheck(_zip_kind({i.filename for i in infos}, archive), problems)
            kind = _zip_kind({i.filename for i in infos}, archive)
            if kind not in READABLE_KINDS:  # refused for what it is; its parts are never parsed
                return _kind_only(kind)
            scan = _ContentScan(limits, keep_parts)
            for info in infos:
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
        return _kind_only("truncated")


def _check_directory(infos: list[zipfile.ZipInfo], limits: Limits) -> list[Issue]:
    """Limits decided from the central directory alone, before a single byte is inflated."""
    if len(infos) > limits.max_entries:
        return [_error("too_many_entries", f"Filen innehåller {_count(len(infos))} delar; en arbetsbok har sällan fler "
                       f"än 50 och högst {limits.max_entries} godtas. {REFUSED} {SEND_AGAIN}")]
    names = [info.filename for info in infos]
    unsafe = next((n for n in names if _unsafe_name(n)), None)
    if unsafe is not None:
        return [_error("path_traversal", f"Filen innehåller en ogiltig sökväg ({unsafe[:80]!r}) som aldrig "
                       f"förekommer i en arbetsbok. {REFUSED} {SEND_AGAIN}")]
    if len(set(n.lower() for n in names)) != len(names):
        return [_error("duplicate_entry", f"Filen innehåller samma del två gånger, vilket aldrig förekommer i en "
                       f"arbetsbok. {REFUSED} {SEND_AGAIN}")]
    total = sum(info.file_size for info in infos)
    if total > limits.max_uncompressed_bytes:
        return [_zip_bomb(f"packas upp till {size_text(total)}; högst {size_text(limits.max_uncompressed_bytes)} godtas")]
    for info in infos:
        if info.flag_bits & 0x1:
            return [_error("zip_encrypted_entry", "Delar av filen är krypterade med lösenord och kan inte läsas. "
                           + SAVE_AS_XLSX)]
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            return [_error("unsupported_compression", "Filen är packad med en komprimering som Excel aldrig "
                           f"använder. {REFUSED} {SEND_AGAIN}")]
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
        return _zip_bomb(f"har en del som packas upp till {size_text(size)}; högst {size_text(limits.max_part_bytes)} godtas")
    if size > limits.ratio_floor_bytes and size > limits.max_ratio * max(compressed, 1):
        return _zip_bomb(
            f"har en del som packas upp {size // max(compressed, 1)} gånger; högst "
            f"{limits.max_ratio:.0f} gånger godtas för delar över {size_text(limits.ratio_floor_bytes)}"
        )
    return None


def _zip_bomb(detail: str) -> Issue:
    return _error("zip_bomb", f"Filen {detail} (en så kallad zip-bomb eller en skadad fil). {REFUSED} {SEND_AGAIN}")


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
        notices.append(Issue(Severity.WARNING, "Arbetsboken innehåller makron. Makron körs aldrig här och "
                             "ignoreras; spara gärna rapporten som vanlig Excel-arbetsbok (.xlsx).", "macros"))
    if any(n.startswith("xl/externalLinks/") for n in names):
        notices.append(Issue(Severity.WARNING, "Arbetsboken har länkar till andra filer. Länkarna följs aldrig och "
                             "uppdateras inte; skriv svaren direkt i cellerna i stället för att hämta dem från "
                             "en annan fil.", "external_links"))
    if any(n.startswith(("xl/embeddings/", "xl/activeX/")) for n in names):
        notices.append(Issue(Severity.WARNING, "Arbetsboken innehåller inbäddade objekt. De öppnas aldrig och "
                             "ignoreras.", "embedded_objects"))
    return notices


class _ContentScan:
    """Inflates every part in chunks, counting real bytes (headers can lie); XML parts are checked
    for DTDs by bytes before any parser sees them, and each sheet's farthest cell is found in the
    whole inflated part (a sheet is at most `max_part_bytes`). With `keep`, the bytes of every part
    that passed are kept in `parts` for the reader."""

    def __init__(self, limits: Limits, keep: bool = False):
        self.limits = limits
        self.total = 0
        self.keep = keep
        self.parts: dict[str, bytes] = {}
        self.sheets: dict[str, SheetScan] = {}  # the tags of the sheets the quick scan measured

    def entry(self, archive: zipfile.ZipFile, content: bytes, info: zipfile.ZipInfo) -> Issue | None:
        name = info.filename.lower()
        is_xml = name.endswith(_XML_SUFFIXES)
        wants_extent = is_xml and name.startswith("xl/worksheets/")
        streamed: _ParsedExtent | None = None  # a sheet of more than one chunk: expat, as it inflates
        tail, size, markup = b"", 0, 0
        chunks: list[bytes] = []
        for chunk in _inflated(content, info):  # never more than _CHUNK at a time: headers can lie
            chunks.append(chunk)
            if not size and is_xml and not _plain_xml_start(chunk):
                return _error("xml_encoding", "Filen innehåller XML i en teckenkodning som Excel och "
                              f"LibreOffice aldrig använder. {REFUSED} {SEND_AGAIN}")
            size += len(chunk)
            self.total += len(chunk)
            if self.total > self.limits.max_uncompressed_bytes:
                return _zip_bomb(f"packas upp till mer än {size_text(self.limits.max_uncompressed_bytes)}")
            problem = _part_size_problem(size, info.compress_size, self.limits)
            if problem:
                return problem
            if not is_xml:
                continue
            window = tail + chunk
            declarations, instructions = markup_counts(window)  # for the DTD test and the sheet scan
            if declarations and (_DOCTYPE in window or _ENTITY in window):  # before any parser sees it
                return _dtd_refused()
            tail = chunk[-16:]
            markup += declarations + instructions
            wants_extent = wants_extent or b"sheetData" in window  # cells, in whatever part
            if wants_extent and len(chunks) > 1:  # a long sheet: stop at the first cell past a limit
                pieces = (chunk,) if streamed is not None else chunks  # expat starts from the first chunk
                streamed = streamed or _ParsedExtent(self.limits)
                for piece in pieces:
                    problem = streamed.feed(piece)
                    if problem:
                        return _extent_problem(problem, info.filename, self.limits, archive)
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        problem = None
        if streamed is not None:
            problem = streamed.feed(b"", final=True)
        elif wants_extent:
            problem, scanned = _measure(data, self.limits, markup)
            if scanned is not None and self.keep:
                self.sheets[info.filename] = scanned
        if problem:
            return _extent_problem(problem, info.filename, self.limits, archive)
        if self.keep:
            self.parts[info.filename] = data
        return None


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
    encoding = "utf-8" if info.flag_bits & 0x800 else "cp437"
    if content[start : start + name_length] != info.orig_filename.encode(encoding):
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


def _dtd_refused() -> Issue:
    return _error("xml_dtd", "Filen innehåller XML-deklarationer (DTD/ENTITY) som aldrig förekommer i en "
                  f"arbetsbok från Excel eller LibreOffice och kan användas för angrepp. {REFUSED} {SEND_AGAIN}")


def _plain_xml_start(chunk: bytes) -> bool:
    """UTF-8 (or ASCII-compatible) XML: no UTF-16/32 byte order marks or NUL bytes up front."""
    head = chunk[:64]
    return not (head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in head)


class _Stop(Exception):
    """Ends an expat parse as soon as the answer is known."""


def _beyond(limits: Limits, rows: int, cols: int) -> bool:
    return rows > limits.max_sheet_rows or cols > limits.max_sheet_columns or rows * cols > limits.max_sheet_cells


def _extent_problem(problem: Issue | tuple[int, int], part: str, limits: Limits, archive: zipfile.ZipFile) -> Issue:
    """An issue as it is, or (rows, cols) past a limit as the sheet's message."""
    return problem if isinstance(problem, Issue) else _sheet_problem(part, *problem, limits, archive)


def sheet_extent(data: bytes, limits: Limits, markup: int | None = None) -> Issue | tuple[int, int] | None:
    """None when the sheet's farthest cell is within the limits, else (rows, cols) or an Issue.

    The regular expressions decide for the XML every writer produces; anything they cannot vouch
    for is read by expat, which decides for every well-formed part.
    """
    return _measure(data, limits, markup)[0]


def _measure(
    data: bytes, limits: Limits, markup: int | None
) -> tuple[Issue | tuple[int, int] | None, SheetScan | None]:
    """sheet_extent's answer, and the scan it came from (None when expat decided)."""
    scanned = scan_sheet(data, markup)
    if scanned is None:
        return parsed_extent(data, limits), None
    return ((scanned.rows, scanned.cols) if _beyond(limits, scanned.rows, scanned.cols) else None), scanned


def parsed_extent(data: bytes, limits: Limits) -> Issue | tuple[int, int] | None:
    """sheet_extent by expat alone: None, (rows, cols) past a limit, or the Issue of a bad part."""
    return _ParsedExtent(limits).feed(data, final=True)


class _ParsedExtent:
    """The farthest cell as a real XML parser (expat) reads the `r` attributes of <row> and <c>,
    character references, comments and all; cells without `r` count on from the previous one, as
    spreadsheet readers place them. Malformed XML is refused: a lenient reader could find cells in
    it that no check saw."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.row = self.col = self.max_row = self.max_col = 0
        self.problem: Issue | None = None
        self.parser = expat.ParserCreate()
        self.parser.StartElementHandler = self._start
        self.parser.StartDoctypeDeclHandler = self._doctype
        self.parser.EntityDeclHandler = self._doctype
        self.parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def feed(self, chunk: bytes, final: bool = False) -> Issue | tuple[int, int] | None:
        try:
            self.parser.Parse(chunk, final)
        except _Stop:
            pass
        except expat.ExpatError as exc:
            return _error("xml_damaged", "Filen är skadad: en del av arbetsboken är inte giltig XML "
                          f"({expat.ErrorString(exc.code)}, rad {exc.lineno}). {SEND_AGAIN}")
        if self.problem is not None:
            return self.problem
        return (self.max_row, self.max_col) if _beyond(self.limits, self.max_row, self.max_col) else None

    def _doctype(self, *_: object) -> None:
        self.problem = _dtd_refused()
        raise _Stop

    def _start(self, name: str, attributes: dict[str, str]) -> None:
        if name != "c" and name != "row":  # elements as written, prefixes included (no namespace pass)
            if not name.endswith((":c", ":row")):
                return
            name = name.rpartition(":")[2]
        row = col = 0
        for key, value in attributes.items():  # every r a parser might use; the farthest counts
            if key != "r" and key[-2:] != ":r":
                continue
            ref = _CELL_REF.fullmatch(value)
            if ref is None:
                self.problem = _error("xml_unusual", "Filen innehåller cellreferenser i en form som Excel och "
                                      f"LibreOffice aldrig skriver. {REFUSED} {SEND_AGAIN}")
                raise _Stop
            row = max(row, int(ref.group(2) or 0))
            col = max(col, column_number(ref.group(1) or ""))
        if name == "row":
            self.row, self.col = row or self.row + 1, 0
            return
        self.col = col or self.col + 1
        self.row = row or self.row
        if self.row > self.max_row or self.col > self.max_col:
            self.max_row, self.max_col = max(self.row, self.max_row), max(self.col, self.max_col)
            if _beyond(self.limits, self.max_row, self.max_col):
                raise _Stop  # a hostile sheet can be long: stop at the first cell past a limit


_CELL_REF = re.compile(r"([A-Za-z]{1,3})?([0-9]{1,7})?")


@functools.lru_cache(maxsize=4096)
def _sheet_problem(part: str, rows: int, cols: int, limits: Limits, archive: zipfile.ZipFile) -> Issue:
    sheet = _sheet_names_by_part(archive).get(part)
    return Issue(
        Severity.ERROR,
        f"Bladet {('”' + sheet + '” ') if sheet else ''}har celler ända ned till rad {_count(rows)} och kolumn "
        f"{_count(cols)}; en rapport använder några hundra rader, och högst {_count(limits.max_sheet_rows)} rader, "
        f"{_count(limits.max_sheet_columns)} kolumner och {_count(limits.max_sheet_cells)} celler godtas. {REFUSED} "
        "Ta bort innehållet långt ned eller långt till höger och spara igen.",
        "sheet_too_large",
        sheet=sheet,
    )


def _sheet_names_by_part(archive: zipfile.ZipFile) -> dict[str, str]:
    """'xl/worksheets/sheet2.xml' → 'Lägesrapport', for the message only (defusedxml refuses any DTD)."""
    from defusedxml import ElementTree

    try:
        workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except Exception:  # noqa: BLE001 - the name is only for the message
        return {}
    targets = {rel.get("Id"): rel.get("Target", "") for rel in rels}
    relationship = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
    names = {}
    for sheet in workbook.iter("{http://schemas.openxmlformats.org/spreadsheetml/2006/main}sheet"):
        target = targets.get(sheet.get(relationship), "")
        part = target.lstrip("/") if target.startswith("/") else "xl/" + target
        names[part] = sheet.get("name", "")
    return names
