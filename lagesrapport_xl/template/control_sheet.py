"""Writing the open sheet "Kontroll" empty, with its texts and columns from form/control_sheet.py.

The Validera button (excel/feedback.py) and the annotated copies (reader/annotate.py) fill its
list later; the template only prepares it, because Excel cannot add a sheet to the locked workbook.
"""

from __future__ import annotations

from xlsxwriter.worksheet import Worksheet

from ..form.control_sheet import (
    CONTROL_COLUMNS,
    CONTROL_NOT_CHECKED,
    CONTROL_NOT_CHECKED_NO_BUTTON,
    CONTROL_NOTE,
    CONTROL_NOTE_NO_BUTTON,
    CONTROL_TITLE,
)
from .formats import TemplateFormats


def write_control_sheet(ws: Worksheet, fmts: TemplateFormats, with_button: bool) -> None:
    """The open sheet where the Validera button writes its list (Excel cannot add it later:
    the workbook structure is locked) and annotated copies write theirs. Left unprotected on
    purpose; the reader ignores it. Its text names the button only where there is one.

    Its print area is one cell that stays empty, so printing the whole workbook gives the report
    and no near-empty Kontroll page (LibreOffice prints no page for it; Excel drops a blank last
    page). The list written into it is a working aid on screen; "Skriv ut markering" prints it.
    """
    for col, (_header, width) in enumerate(CONTROL_COLUMNS):
        ws.set_column(col, col, width)
    ws.write_string(0, 0, CONTROL_TITLE, fmts.control_heading)
    ws.write_string(1, 0, CONTROL_NOT_CHECKED if with_button else CONTROL_NOT_CHECKED_NO_BUTTON, fmts.control_summary)
    ws.write_string(2, 0, CONTROL_NOTE if with_button else CONTROL_NOTE_NO_BUTTON, fmts.control_note)
    ws.set_row(0, 22)
    empty = len(CONTROL_COLUMNS)  # the column right of the list: nothing is ever written there
    ws.print_area(0, empty, 0, empty)
    ws.set_paper(9)  # A4
    ws.set_landscape()
    ws.fit_to_pages(1, 0)  # a selected part of the list prints one page wide
