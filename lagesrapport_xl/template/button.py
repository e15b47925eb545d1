"""The Validera button on the Lägesrapport sheet, for xlwings Lite and the xlwings add-in.

Drawn only in a template made for use with the add-in (`TemplateOptions.excel_buttons`): without
it the button does nothing. It sits right of the print area (column F, beside the form), so no
printout has it, in Excel or LibreOffice (which ignores the non-printing flag on shapes).
XlsxWriter writes it as a textbox; `package_patch` then names it BUTTON_NAME and makes it
non-printing, which XlsxWriter has no API for. excel/entry.py finds the button by that name.
"""

from __future__ import annotations

from xlsxwriter.worksheet import Worksheet

from ..common.xlsx_style import FONT
from ..form.spec import INLINE_COLS, cell_address

BUTTON_NAME = "btnValidera"  # the xlwings Lite button: @script(button="[btnValidera]Lägesrapport!F1")
BUTTON_COL = max(INLINE_COLS) + 1  # the first column right of the report's print area
BUTTON_TEXT = "Validera"
BUTTON_FILL = "#2F5597"


def insert_button(ws: Worksheet) -> None:
    """The Validera button for xlwings Lite: a textbox renamed to btnValidera in `patch_package`."""
    ws.insert_textbox(
        0,
        BUTTON_COL,
        BUTTON_TEXT,
        {
            "width": 176,
            "height": 40,
            "x_offset": 8,
            "y_offset": 5,
            "object_position": 3,  # neither moved nor resized when a coordinator resizes rows
            "fill": {"color": BUTTON_FILL},
            "line": {"color": "#1F3864", "width": 1.25},
            "font": {"name": FONT, "size": 12, "bold": True, "color": "#FFFFFF"},
            "align": {"vertical": "middle", "horizontal": "center"},
            "description": "Validera rapporten (kräver xlwings eller xlwings Lite)",
            # xlwings Lite runs the script when the link selects the cell hidden under the button.
            "url": f"internal:'{ws.name}'!{cell_address(0, BUTTON_COL)}",
            "tip": "Kontrollera rapporten (kräver xlwings eller xlwings Lite)",
        },
    )
