"""Files an attacker (or a careless hand) sends to the intake, built from a real filled report:
the parts the form reads stay as they are, the parts it does not read are made large.

Used by the tests of issue 21 and by the load test; every builder returns the bytes of a workbook
that Excel would still open.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

from lagesrapport_xl.form.spec import col_letter
from lagesrapport_xl.reader.sources.workbook_xml import parse_workbook

COLUMNS = 50  # cells per row of a filled unused sheet (within safety's 10 000 rows × 1 000 columns)
FIRST_ROW = 101  # below everything the template's sheets hold


def number_rows(count: int, first_row: int = FIRST_ROW) -> bytes:
    """`count` numbers as sheet rows, COLUMNS a row (what a pasted data dump looks like)."""
    columns = [col_letter(c) for c in range(COLUMNS)]
    rows = []
    for index in range(count // COLUMNS):
        row = first_row + index
        cells = "".join(f'<c r="{col}{row}"><v>{(index * COLUMNS + c) * 7 % 100003}.25</v></c>'
                        for c, col in enumerate(columns))
        rows.append(f'<row r="{row}">{cells}</row>')
    return "".join(rows).encode()


def _sheet_parts(parts: dict[str, bytes]) -> dict[str, str]:
    """Sheet name → its part, from the workbook's own XML."""
    _, _, _, paths = parse_workbook(parts["xl/workbook.xml"], parts["xl/_rels/workbook.xml.rels"])
    return paths


def rezip(parts: dict[str, bytes], extra: dict[str, tuple[bytes, int]] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
        for name, (data, method) in (extra or {}).items():
            archive.writestr(zipfile.ZipInfo(name, (2024, 1, 1, 0, 0, 0)), data, compress_type=method)
    return buffer.getvalue()


def parts_of(report: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(report)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def with_filled_unused_sheets(report: bytes, numbers: int = 1_000_000,
                              sheets: tuple[str, ...] = ("Instruktioner", "Data")) -> bytes:
    """The report with `numbers` numbers added below what the sheets the form does not ask about
    hold (issue 21: 3.9 MB, accepted, and 15–19 s of the server's processor time each). The Data
    sheet keeps its two cells the reader does read (the form version), as the attack did."""
    parts = parts_of(report)
    paths = _sheet_parts(parts)
    rows = number_rows(numbers // len(sheets))
    for sheet in sheets:
        part = paths[sheet]
        parts[part] = parts[part].replace(b"</sheetData>", rows + b"</sheetData>", 1)
    return rezip(parts)


def with_extra_part(report: bytes, size: int = 19 * 2**20, name: str = "xl/media/extra.bin") -> bytes:
    """The report with a part of `size` random bytes that nothing refers to (stored, incompressible)."""
    return rezip(parts_of(report), {name: (os.urandom(size), zipfile.ZIP_STORED)})


def write(path: str | Path, content: bytes) -> Path:
    path = Path(path)
    path.write_bytes(content)
    return path
