"""What the safety check decides with and what it decides: the hard limits (`Limits`), the
verdict on a file (`FileCheck`), and sizes and counts as its Swedish messages write them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ...common.catalogue import READER
from ...common.issues import Issue, Severity
from ..sheet_scan import SheetScan

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
    # What the form does not read (issue 21): the bytes of the parts no reader opens (other sheets,
    # pictures, attachments), and the cells written on the sheets it reads. A filled report has
    # about 25 kB of the one and at most 139 cells a sheet of the other.
    max_unused_bytes: int = 1 * MiB
    max_form_sheet_cells: int = 10_000


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


def kind_check(kind: str) -> FileCheck:
    """A file refused for what it is (or skipped, a lock file), with its kind's message."""
    return FileCheck(kind, [READER["zip_no_workbook" if kind == "zip" else kind].issue()])


def count_text(number: int) -> str:
    """1000000 → '1 000 000', as Swedish text groups digits."""
    return f"{number:,}".replace(",", "\u00a0")


def size_text(number: int) -> str:
    """Bytes as a Swede reads them: '20 MB', '512 kB'."""
    if number >= MiB:
        return f"{number / MiB:.0f} MB".replace(".", ",")
    return f"{max(1, round(number / 1024))} kB"
