"""Check a file before any parser touches it: what kind it really is, and hard size limits.

Parsers are the attack surface: a 20 KB zip can inflate to gigabytes, an XML part can declare
entities that expand exponentially, and python-calamine allocates the whole rectangle from A1 to
the farthest cell (one cell at XFD1048576 makes it abort the process, not raise). So every limit
here is checked while the parts are inflated in chunks, before the reader opens the workbook:
DTDs by bytes, the farthest cell of each sheet by expat (a real parser reads references the way
calamine and openpyxl will). A file is identified by its magic bytes and zip parts, never by its
extension. docs/safety.md lists every check with its default and the reasoning behind it.

The check is `inspect_file`, here; limits.py holds the limits and the verdict, kinds.py tells
what a file that is not a zip archive is, archive.py checks a zip archive part by part and
extent.py how far each sheet reaches. The messages are common/catalogue.py's.
"""

from __future__ import annotations

from pathlib import Path

from ...common import catalogue as codes
from .archive import inspect_zip
from .extent import parsed_extent, sheet_extent
from .kinds import OLE2_MAGIC, ZIP_MAGIC, is_lock_file_name, ole2_kind, sniff_other
from .limits import DEFAULT_LIMITS, READABLE_KINDS, FileCheck, Limits, MiB, kind_check, size_text

__all__ = [
    "DEFAULT_LIMITS", "OLE2_MAGIC", "READABLE_KINDS", "ZIP_MAGIC", "FileCheck", "Limits", "MiB", "inspect_file",
    "parsed_extent", "sheet_extent", "size_text",
]


def inspect_file(path: str | Path, limits: Limits = DEFAULT_LIMITS, *, keep_parts: bool = False) -> FileCheck:
    """Identify the file and check every hard limit; never raises for a bad file.

    `keep_parts`: a readable workbook's check carries the inflated parts (`FileCheck.parts`).
    """
    path = Path(path)
    limits = limits or DEFAULT_LIMITS
    if is_lock_file_name(path.name):
        return kind_check("lock_file")
    try:
        size = path.stat().st_size
        if size == 0:
            return kind_check("empty")
        if size > limits.max_file_bytes:
            return FileCheck(
                "too_large",
                [codes.FILE_TOO_LARGE.issue(size=size_text(size), limit=size_text(limits.max_file_bytes))],
            )
        content = path.read_bytes()  # once (at most max_file_bytes): every check sees the same bytes
        if content.startswith(ZIP_MAGIC):
            check = inspect_zip(content, limits, keep_parts)
            if keep_parts and check.parts is not None:
                check.content = content
            return check
        if content.startswith(OLE2_MAGIC):
            return kind_check(ole2_kind(content))
        return kind_check(sniff_other(content[:8192]))
    except OSError as exc:
        return FileCheck("unreadable", [codes.UNREADABLE.issue(reason=exc.strerror or exc)])
