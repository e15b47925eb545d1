"""Check a file before any parser touches it: what kind it really is, and hard size limits.

STUB with the agreed interface; the full version (zip-bomb limits, hostile XML, every wrong
file kind with its Swedish message) replaces it.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from .issues import Issue, Severity

READABLE_KINDS = {"xlsx", "xlsm"}


@dataclass(frozen=True)
class Limits:
    """Refuse a file before parsing when it exceeds any of these (sized for a real report)."""

    max_file_bytes: int = 20 * 2**20
    max_uncompressed_bytes: int = 200 * 2**20
    max_entries: int = 500
    max_ratio: float = 200.0


DEFAULT_LIMITS = Limits()


@dataclass
class FileCheck:
    kind: str  # xlsx, xlsm, ods, xls, xlsb, csv, docx, encrypted, empty, zip, unknown …
    issues: list[Issue] = field(default_factory=list)

    @property
    def readable(self) -> bool:
        return self.kind in READABLE_KINDS and not any(i.severity is Severity.ERROR for i in self.issues)


def inspect_file(path: str | Path, limits: Limits = DEFAULT_LIMITS) -> FileCheck:
    path = Path(path)
    if not zipfile.is_zipfile(path):
        return FileCheck(
            "unknown",
            [Issue(Severity.ERROR, "Filen är ingen Excel-arbetsbok (.xlsx). Spara den som Excel-arbetsbok.", "not_xlsx")],
        )
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
    if "xl/workbook.xml" not in names:
        return FileCheck(
            "zip", [Issue(Severity.ERROR, "Filen är ingen Excel-arbetsbok (.xlsx).", "not_xlsx")]
        )
    return FileCheck("xlsm" if "xl/vbaProject.bin" in names else "xlsx")
