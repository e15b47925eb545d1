"""A list as a one-sheet workbook and as CSV, the way RAR opens them: the utskick list and the
audit log's exports.

The workbook has bold headings in the house colour, a filter, the first row frozen and every value
as text or a number (never a formula or a link). The CSV is UTF-8 with BOM and semicolons, so
that Swedish Excel opens it as columns, like the master's CSV.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..common.xlsx_style import HEADER_FILL


def write_xlsx(path: Path, sheet_name: str, headings: Sequence[str], rows: Sequence[Sequence[Any]],
               widths: Sequence[int]) -> Path:
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False})
    sheet = workbook.add_worksheet(sheet_name)
    bold = workbook.add_format({"bold": True, "bg_color": HEADER_FILL, "border": 1})
    for column, heading in enumerate(headings):
        sheet.write_string(0, column, heading, bold)
    for number, row in enumerate(rows, start=1):
        for column, value in enumerate(row):
            if value is None or value == "":
                continue
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                sheet.write_number(number, column, value)
            else:
                sheet.write_string(number, column, str(value))
    sheet.autofilter(0, 0, max(len(rows), 1), len(headings) - 1)
    sheet.freeze_panes(1, 0)
    for column, width in enumerate(widths):
        sheet.set_column(column, column, width)
    workbook.close()
    return path


def csv_bytes(headings: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(headings)
    writer.writerows(["" if value is None else value for value in row] for row in rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
