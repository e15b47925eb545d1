"""The master's cell formats, and what kind of cell each value becomes.

Text is always written as text (an answer starting with "=" stays text: user text is data, never
code), numbers and dates as numbers with the column's number format, a yes/no as "Ja"/"Nej".
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import xlsxwriter

from ..common.xlsx_style import FONT, HEADER_FILL, Formats
from ..consolidate.tables import missing
from .sheets import HIGHLIGHT_FILLS
from .streaming import StreamingWorksheet, column_name

NUMBER_FORMATS = {
    "int": "0",
    "days": "0",
    "kr": '#,##0 "kr"',
    "pct": "0.0%",
    "date": "yyyy-mm-dd",
    "datetime": "yyyy-mm-dd hh:mm",
}


class MasterFormats(Formats):
    """The master's cell formats: one per kind of value (bold or not), titles, notes, links, fills."""

    def __init__(self, wb: xlsxwriter.Workbook):
        super().__init__(wb, {"font_name": FONT, "font_size": 10, "valign": "top"})
        self.title = wb.add_format({**self.base, "bold": True, "font_size": 13})
        self.note = wb.add_format({**self.base, "italic": True, "font_color": "#404040"})
        self.link = wb.add_format({**self.base, "italic": True, "font_color": "#0563C1", "underline": 1})
        self.header = wb.add_format(
            {**self.base, "bold": True, "text_wrap": True, "bg_color": HEADER_FILL, "border": 1, "valign": "bottom"}
        )
        self.fills = {color: wb.add_format({"bg_color": color}) for color in HIGHLIGHT_FILLS}
        # Every format gets its XF index now, in this order, whatever is written first: a helper
        # process that skips some tables (split.py) must number the formats alike.
        for kind in ("text", "long_text", "text_wrap", *NUMBER_FORMATS, "flag", "link"):
            for bold in (False, True):
                self.cell(kind, bold)
        for fmt in (self.title, self.note, self.link, self.header, *self.made()):
            fmt._get_xf_index()

    def cell(self, kind: str, bold: bool = False):
        options: dict[str, Any] = {"bold": bold}
        if kind in NUMBER_FORMATS:
            options["num_format"] = NUMBER_FORMATS[kind]
        if kind in ("long_text", "text_wrap", "text", "link"):
            options["text_wrap"] = True
        if kind == "link":  # a file name that opens the file: drawn as a link
            options.update(font_color="#0563C1", underline=1)
        return self.once((kind, bold), options)


NUMBER_KINDS = frozenset({"int", "days", "kr", "pct"})
DATE_KINDS = frozenset({"date", "datetime"})


def value_cell(ws: StreamingWorksheet, ref: str, style: str, value: Any, kind: str) -> tuple[str, Any] | None:
    """A value as its own cell type: (its XML, the value as written, a date as its serial number).
    Text always as text: user text is data, never code. None for a missing value: nothing is
    written (the table style and column format cover the empty cell)."""
    if value is None:
        return None
    kind_of = value.__class__  # the common cases first, decided as the general ones below decide them
    if kind_of is str:
        return ws.string_xml(ref, style, value), value
    if kind_of is float:
        return None if math.isnan(value) else (ws.number_xml(ref, style, value), value)
    if kind_of is int and kind in NUMBER_KINDS:
        return ws.number_xml(ref, style, value), value
    if missing(value):
        return None
    if kind in NUMBER_KINDS and isinstance(value, (int, float)) and not isinstance(value, bool):
        return ws.number_xml(ref, style, value), value
    if kind in DATE_KINDS and isinstance(value, (dt.date, dt.datetime)):
        number = ws.date_number(value)
        return ws.number_xml(ref, style, number), number
    if isinstance(value, str):
        return ws.string_xml(ref, style, value), value
    if isinstance(value, bool):
        text = "Ja" if value else "Nej"
        return ws.string_xml(ref, style, text), text
    if hasattr(value, "item") or isinstance(value, (int, float)):
        number = float(value.item() if hasattr(value, "item") else value)
        return ws.number_xml(ref, style, number), number
    text = str(value)
    return ws.string_xml(ref, style, text), text


def write_value(ws: StreamingWorksheet, row: int, col: int, value: Any, kind: str, fmt: Any) -> None:
    """One value in one cell (see value_cell)."""
    cell = value_cell(ws, f"{column_name(col)}{row + 1}", ws.style(fmt), value, kind)
    if cell is not None:
        ws.put(row, col, cell[0])
