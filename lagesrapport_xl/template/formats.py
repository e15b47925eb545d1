"""The template's cell formats and fills: one `TemplateFormats` per workbook, on the house style.

Every sheet writer takes its formats from here, so the colours of input, locked, pre-filled and
marked cells are set in one place. XlsxWriter numbers formats in the order they are made: the
fixed order of `__init__` and `once` keeps the template's bytes the same for the same input.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..common.xlsx_style import FONT, HEADER_FILL, Formats
from ..form.spec import Field

if TYPE_CHECKING:
    import xlsxwriter

INPUT_FILL = "#FFFFFF"
LOCKED_FILL = "#F2F2F2"
PREFILLED_FILL = "#E7E6E6"
MISSING_FILL = "#F4B6B6"
REQUIRED_NOW_FILL = "#FFE699"
STATUS_FILL = "#FFF2CC"
BORDER_COLOR = "#8EA9DB"


class TemplateFormats(Formats):
    """All cell formats of the template, created once per workbook."""

    def __init__(self, wb: xlsxwriter.Workbook):
        base = {"font_name": FONT, "font_size": 10, "font_scheme": "none", "valign": "top"}
        super().__init__(wb, base)
        self.title = wb.add_format({**base, "bold": True, "font_size": 16, "valign": "vcenter"})
        self.subtitle = wb.add_format({**base, "italic": True, "valign": "vcenter"})
        self.status = wb.add_format(
            {
                **base,
                "bold": True,
                "font_size": 11,
                "border": 1,
                "bg_color": STATUS_FILL,
                "valign": "vcenter",
                "text_wrap": True,
            }
        )
        self.heading = wb.add_format(
            {**base, "bold": True, "font_size": 12, "text_wrap": True, "valign": "bottom"}
        )
        self.question = wb.add_format({**base, "bold": True, "text_wrap": True, "valign": "bottom"})
        self.label = wb.add_format({**base, "text_wrap": True, "valign": "vcenter"})
        self.column = wb.add_format(
            {**base, "bold": True, "align": "center", "valign": "bottom", "text_wrap": True}
        )
        self.note = wb.add_format({**base, "italic": True, "text_wrap": True, "valign": "bottom"})
        self.paragraph = wb.add_format({**base, "text_wrap": True})
        self.header = wb.add_format(
            {
                **base,
                "bold": True,
                "font_size": 9,
                "text_wrap": True,
                "bg_color": HEADER_FILL,
                "border": 1,
                "valign": "bottom",
            }
        )
        self.total_label = wb.add_format(
            {
                **base,
                "bold": True,
                "border": 1,
                "bg_color": LOCKED_FILL,
                "text_wrap": True,
                "valign": "vcenter",
            }
        )
        self.line_label = wb.add_format({**base, "border": 1, "text_wrap": True, "valign": "vcenter"})
        self.missing = wb.add_format({"bg_color": MISSING_FILL})
        self.required_now = wb.add_format({"bg_color": REQUIRED_NOW_FILL})
        self.warning = wb.add_format({"font_color": "#C00000", "bold": True})
        # The control sheet's texts run on over the empty cells to their right: no wrapping.
        self.control_heading = wb.add_format({**base, "bold": True, "font_size": 12, "valign": "bottom"})
        self.control_summary = wb.add_format({**base, "bold": True})
        self.control_note = wb.add_format({**base, "italic": True})

    def cell(self, number_format: str, *, locked: bool, fill: str, wrap: bool = False, bold: bool = False):
        return self.once(
            (number_format, locked, fill, wrap, bold),
            {
                "num_format": number_format,
                "locked": locked,
                "bg_color": fill,
                "border": 1,
                "border_color": BORDER_COLOR if not locked else "#BFBFBF",
                "text_wrap": wrap,
                "valign": "top" if wrap else "vcenter",
                "bold": bold,
            },
        )

    def locked(self, number_format: str, *, bold: bool = False):
        """A locked, grey cell: a formula's result or a carried value, never typed over."""
        return self.cell(number_format, locked=True, fill=LOCKED_FILL, bold=bold)

    def input(self, field: Field, prefilled: bool):
        return self.cell(
            field.type.number_format,
            locked=prefilled,
            fill=PREFILLED_FILL if prefilled else INPUT_FILL,
            wrap=field.type.wrap,
        )
