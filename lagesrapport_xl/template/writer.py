"""Write the locked Lägesrapport template (XlsxWriter), optionally pre-filled for one insats.

Everything comes from the form specification: texts, cell positions, validations, formats and
the Excel formulas of the conditions. XlsxWriter is used because it stores a cached value with
every formula, so a previewer shows the live status cell correctly before any recalculation, and
because its output is byte-for-byte reproducible (the committed template is checked for drift).
"""

from __future__ import annotations

import datetime as dt
import math
import re
import zipfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from ..common.atomic import atomic_path
from ..common.xlsx_style import FONT, HEADER_FILL, Formats
from ..form.conditions import holds
from ..form.control_sheet import CONTROL_COLUMNS, CONTROL_NOT_CHECKED, CONTROL_NOTE, CONTROL_TITLE
from ..form.fieldtypes import is_blank
from ..form.previous import Previous
from ..form.spec import (  # the version's name and property are re-exported: the template writes them
    FORM_VERSION_NAME,
    INLINE_COLS,
    LABEL_COL,
    PREVIOUS_PREFIX,
    VERSION_PROPERTY,
    Carried,
    Field,
    FormSpec,
    LayoutRow,
    cell_address,
    col_letter,
    default_spec,
)

INPUT_FILL = "#FFFFFF"
LOCKED_FILL = "#F2F2F2"
PREFILLED_FILL = "#E7E6E6"
MISSING_FILL = "#F4B6B6"
REQUIRED_NOW_FILL = "#FFE699"
STATUS_FILL = "#FFF2CC"
BORDER_COLOR = "#8EA9DB"
BUTTON_FILL = "#2F5597"
FIXED_TIME = dt.datetime(2021, 12, 10)  # document timestamps: identical bytes for identical input
MISSING_COUNT_NAME = "missing_count"
BUTTON_NAME = "btnValidera"  # the xlwings Lite button: @script(button="[btnValidera]Lägesrapport!D1")
BUTTON_TEXT = "Validera"
PROTECTION_OPTIONS = {
    "select_locked_cells": True,
    "select_unlocked_cells": True,
    "format_rows": True,  # a coordinator may make a row taller to read a long answer
    "format_columns": True,
}
REPORT_WIDTHS = {0: 2, LABEL_COL: 66, **{col: 13 for col in INLINE_COLS}}
INSTRUCTION_WIDTH = 92
BUDGET_LABEL_WIDTH = 30
BUDGET_AMOUNT_WIDTH = 12.5
BUDGET_SHARE_WIDTH = 10
BUDGET_COMMENT_WIDTH = 18

# Row heights in points. Every row of the form gets an explicit height: the page breaks are
# computed from them, and LibreOffice would otherwise re-fit rows its own way.
POINTS_PER_LINE = 13.0
ROW_PADDING = 5.0
TITLE_HEIGHT = 26.0
SUBTITLE_HEIGHT = 16.0
STATUS_HEIGHT = 30.0
SPACER_HEIGHT = 8.0
COLUMNS_HEIGHT = 15.0
NOTE_HEIGHT = 26.0
QUESTION_GAP = 6.0  # white space above a question, so blocks read as separate questions

# A4 portrait, in points; margins in inches as Excel stores them.
PAGE_WIDTH_PT = 595.3
PAGE_HEIGHT_PT = 841.9
SIDE_MARGIN_IN = 0.45
TOP_MARGIN_IN = 0.75
BOTTOM_MARGIN_IN = 0.75
# LibreOffice measures a column-width unit in Liberation Sans digits (7.4 px) where Excel uses
# whole pixels (7 px): columns print about 6 % wider there. Heights are exact points in both.
WIDTH_SAFETY = 0.92
HEIGHT_SAFETY = 0.96

# Average characters per column-width unit of Arial 10 (conservative: overestimate lines).
CHARS_PER_WIDTH = 1.15
BOLD_CHARS_PER_WIDTH = 1.05


# --- geometry ------------------------------------------------------------------------------------


def text_lines(text: str, width: float, *, bold: bool = False) -> int:
    """How many lines a wrapped text needs in a column `width` characters wide."""
    per_line = max(1.0, width * (BOLD_CHARS_PER_WIDTH if bold else CHARS_PER_WIDTH))
    return sum(max(1, math.ceil(len(part) / per_line)) for part in text.split("\n"))


def _text_height(text: str, width: float, *, bold: bool = False, minimum: float = 18.0) -> float:
    return max(minimum, text_lines(text, width, bold=bold) * POINTS_PER_LINE + ROW_PADDING)


def column_points(width: float) -> float:
    """Printed width of a column of `width` characters, as Excel computes it (7-pixel Arial 10 digits)."""
    pixels = int(width * 7 + 0.5) + 5 if width >= 1 else int(width * 12 + 0.5)
    return pixels * 0.75


def print_scale(widths: list[float]) -> int:
    """The print zoom (%) at which these columns fill the A4 portrait width.

    A fixed zoom instead of "fit to 1 page wide": Excel ignores manual page breaks under
    fit-to-page, and the breaks keep each question on the page of its answer.
    """
    available = PAGE_WIDTH_PT - 2 * 72 * SIDE_MARGIN_IN
    needed = sum(column_points(w) for w in widths)
    return max(10, min(100, int(available / needed * 100 * WIDTH_SAFETY)))


def page_capacity(scale: int) -> float:
    """Points of rows (at zoom 100 %) that fit on one A4 portrait page at `scale` %."""
    printable = PAGE_HEIGHT_PT - 72 * (TOP_MARGIN_IN + BOTTOM_MARGIN_IN)
    return printable * 100 / scale * HEIGHT_SAFETY


def page_breaks(
    units: list[tuple[int, float]], first_page_used: float, repeated: float, capacity: float
) -> list[int]:
    """Rows to break before so that no unit (rows that belong together) is split across pages.

    `units` are (first row, height) in order; a unit taller than a page simply flows on.
    """
    breaks: list[int] = []
    used = first_page_used
    for first_row, height in units:
        if used + height > capacity and used > repeated:
            breaks.append(first_row)
            used = repeated
        used += height
    return breaks


# --- formats ---------------------------------------------------------------------------------------


class _Formats(Formats):
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

    def input(self, field: Field, prefilled: bool):
        return self.cell(
            field.type.number_format,
            locked=prefilled,
            fill=PREFILLED_FILL if prefilled else INPUT_FILL,
            wrap=field.type.wrap,
        )


# --- values and the status count ------------------------------------------------------------------


def _write_value(ws: Worksheet, row: int, col: int, value: Any, fmt: Any) -> None:
    """Write a Python value as the cell type Excel would store for it; text is never a formula."""
    if value is None:
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, (dt.date, dt.datetime)):
        stamp = value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())
        ws.write_datetime(row, col, stamp, fmt)
    elif isinstance(value, bool):
        ws.write_string(row, col, "Ja" if value else "Nej", fmt)
    elif isinstance(value, (int, float, Decimal)):
        ws.write_number(row, col, float(value), fmt)
    else:
        ws.write_string(row, col, str(value), fmt)


def _as_excel_sees(field: Field, value: Any) -> Any:
    """The value as the template's formulas see it once `_write_value` has stored it.

    Text stays text (ISNUMBER is false for "5"), numbers stay numbers, and a Ja/Nej answer
    compares like Excel's TRIM(x)="Nej": spaces trimmed, letter case ignored.
    """
    if isinstance(value, bool):
        return "Ja" if value else "Nej"
    if isinstance(value, (int, float, Decimal)):
        number = float(value)
        return int(number) if number.is_integer() else number
    if isinstance(value, str) and field.type.name == "yes_no":
        word = " ".join(value.split(" ")).strip(" ").casefold()
        return {"ja": "Ja", "nej": "Nej"}.get(word, value)
    return value


def _excel_blank(value: Any) -> bool:
    """LEN(TRIM(x))=0: Excel's TRIM removes spaces only, not tabs or line breaks."""
    return value is None or (isinstance(value, str) and value.strip(" ") == "")


def _blank_test(name: str) -> str:
    return f"LEN(TRIM({name}))=0"


def missing_count_formula(spec: FormSpec) -> str:
    """Excel formula counting the required answers that are empty, conditions included."""
    terms = []
    for field in spec.fields.values():
        if field.required is True:
            terms.append(f"({_blank_test(field.key)})")
        elif field.condition:
            condition = spec.conditions[field.condition].excel
            terms.append(f"AND({condition},{_blank_test(field.key)})")
    return "=" + "+".join(f"IF({t},1,0)" for t in terms)


def _status_formula(cell: str) -> str:
    return (
        f'=IF({cell}=0,"{status_text(0)}",'
        f'IF({cell}=1,"{status_text(1)}",'
        f'{cell}&" obligatoriska svar saknas – se röda celler."))'
    )


def status_text(missing: int) -> str:
    """The status cell's text for a given count; the same wording as the Excel formula."""
    if missing == 0:
        return "Alla obligatoriska svar är ifyllda."
    if missing == 1:
        return "1 obligatoriskt svar saknas – se röda celler."
    return f"{missing} obligatoriska svar saknas – se röda celler."


def count_missing(spec: FormSpec, values: dict[str, Any]) -> int:
    """Required answers that are empty, exactly as the template's status formula counts them.

    `values` are Python values as given to `write_template` (prefill and answers together).
    """
    seen = {
        key: _as_excel_sees(spec.fields[key], value) for key, value in values.items() if key in spec.fields
    }
    missing = 0
    for field in spec.fields.values():
        if not _excel_blank(seen.get(field.key)):
            continue
        if field.required is True or (field.condition and holds(field.condition, seen)):
            missing += 1
    return missing


@dataclass(frozen=True)
class _CellValues:
    """What goes into the input cells: pre-filled values (locked), answers (left open) and, in a
    template rolled forward from `previous`, the carried cells' formulas (left open too)."""

    prefill: dict[str, Any]
    answers: dict[str, Any]
    previous: Previous | None
    carried: dict[str, Carried]  # the cells written as formulas: spec.carried unless answered

    def get(self, key: str) -> tuple[Any, bool]:
        """(value, locked)."""
        if key in self.prefill:
            return self.prefill[key], True
        return self.answers.get(key), False

    def number(self, field: Field) -> float:
        """The number the budget formulas compute with: N() and SUM() count text and blanks as 0."""
        carried = self.carried.get(field.key)
        if carried is not None and self.previous is not None:  # N(previous)+N(plus), as the formula
            before = self.previous.cumulative.get(field.key)
            return _excel_number(before) + _excel_number(self.get(carried.plus)[0])
        return _excel_number(_as_excel_sees(field, self.get(field.key)[0]))


def _excel_number(value: Any) -> float:
    """What N() and SUM() make of a value as stored: a number counts, anything else is 0."""
    return float(value) if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool) else 0.0


# --- input cells -------------------------------------------------------------------------------


def _write_input(ws: Worksheet, field: Field, spec: FormSpec, fmts: _Formats, cells: _CellValues) -> None:
    value, locked = cells.get(field.key)
    carried = cells.carried.get(field.key)
    if carried is not None:  # open: a coordinator may type the right amount over it
        ws.write_formula(field.row, field.col, carried.formula, fmts.input(field, False), cells.number(field))
    else:
        _write_value(ws, field.row, field.col, value, fmts.input(field, locked))
    _add_input_rules(ws, field, spec, fmts, locked)


def _add_input_rules(ws: Worksheet, field: Field, spec: FormSpec, fmts: _Formats, prefilled: bool) -> None:
    """Validation, the red mark when a required answer is empty, the yellow mark when required now."""
    if field.type.validation and not prefilled:
        ws.data_validation(
            field.row, field.col, field.row, field.col, field.type.validation_options(field.label, field.hint)
        )
    cell = field.cell
    blank = _blank_test(cell)
    if field.required is True and not prefilled:
        ws.conditional_format(cell, {"type": "formula", "criteria": f"={blank}", "format": fmts.missing})
    elif field.condition:
        condition = spec.conditions[field.condition].excel
        ws.conditional_format(
            cell,
            {
                "type": "formula",
                "criteria": f"=AND({condition},{blank})",
                "format": fmts.missing,
                "stop_if_true": True,
            },
        )
        ws.conditional_format(
            cell, {"type": "formula", "criteria": f"={condition}", "format": fmts.required_now}
        )


# --- the sheet "Lägesrapport" -------------------------------------------------------------------


def _write_column_headers(ws: Worksheet, row: int, texts: tuple[str, ...], fmts: _Formats) -> None:
    """Headers above the inline columns C, D, E; equal neighbouring texts span one merged header."""
    col = 0
    while col < len(texts):
        span = 1
        while col + span < len(texts) and texts[col + span] == texts[col]:
            span += 1
        first = INLINE_COLS[col]
        if texts[col] and span > 1:
            ws.merge_range(row, first, row, first + span - 1, texts[col], fmts.column)
        elif texts[col]:
            ws.write_string(row, first, texts[col], fmts.column)
        col += span


def _layout_heights(item: LayoutRow) -> dict[int, float]:
    """Row heights of one layout item: its text row and, for a block, the answer row below."""
    width = REPORT_WIDTHS[LABEL_COL]
    if item.kind == "heading":
        return {item.row: text_lines(item.text, width * 0.8, bold=True) * 16 + ROW_PADDING + QUESTION_GAP}
    if item.kind == "note":
        return {item.row: NOTE_HEIGHT}
    if item.kind == "columns":
        return {item.row: COLUMNS_HEIGHT}
    if item.kind == "inline":
        return {item.row: _text_height(item.text, width, minimum=20.0)}
    question = _text_height(item.text, width, bold=True) + QUESTION_GAP
    return {item.row: question, item.row + 1: max(item.lines * POINTS_PER_LINE + ROW_PADDING, 20.0)}


def _report_units(layout: tuple[LayoutRow, ...], heights: dict[int, float]) -> list[tuple[int, float]]:
    """Rows that must print on one page: a block with its answer, a row with `keep_with_next`."""
    units: list[tuple[int, float]] = []
    glue = False
    for item in layout:
        height = sum(h for row, h in heights.items() if item.row <= row <= item.row + (item.kind == "block"))
        if glue:
            first, previous = units.pop()
            units.append((first, previous + height))
        else:
            units.append((item.row, height))
        glue = item.keep_with_next
    return units


def _insert_button(ws: Worksheet) -> None:
    """The Validera button for xlwings Lite: a textbox renamed to btnValidera in `_patch_package`."""
    ws.insert_textbox(
        0,
        INLINE_COLS[1],
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
            "url": f"internal:'{ws.name}'!{cell_address(0, INLINE_COLS[1])}",
            "tip": "Kontrollera rapporten (kräver xlwings eller xlwings Lite)",
        },
    )


def _write_report_sheet(
    ws: Worksheet, spec: FormSpec, fmts: _Formats, cells: _CellValues, missing: int
) -> None:
    for col, width in REPORT_WIDTHS.items():
        ws.set_column(col, col, width)
    ws.write_string(0, LABEL_COL, spec.title, fmts.title)
    ws.write_string(1, LABEL_COL, spec.subtitle, fmts.subtitle)
    ws.write_formula(2, LABEL_COL, _status_formula(MISSING_COUNT_NAME), fmts.status, status_text(missing))
    heights = {0: TITLE_HEIGHT, 1: SUBTITLE_HEIGHT, 2: STATUS_HEIGHT, 3: SPACER_HEIGHT}
    for item in spec.layout:
        heights.update(_layout_heights(item))
        if item.kind == "heading":
            ws.write_string(item.row, LABEL_COL, item.text, fmts.heading)
        elif item.kind == "note":
            ws.write_string(item.row, LABEL_COL, item.text, fmts.note)
        elif item.kind == "columns":
            _write_column_headers(ws, item.row, item.texts, fmts)
        else:
            ws.write_string(
                item.row, LABEL_COL, item.text, fmts.question if item.kind == "block" else fmts.label
            )
        for key in item.fields:
            _write_input(ws, spec.fields[key], spec, fmts, cells)
    for row, height in heights.items():
        ws.set_row(row, height)
    _insert_button(ws)
    ws.freeze_panes(3, 0)
    last = max(heights)
    ws.print_area(0, 0, last, max(INLINE_COLS))
    scale = print_scale(list(REPORT_WIDTHS.values()))
    _setup_print(ws, spec, scale, repeat_to_row=1)
    repeated = heights[0] + heights[1]
    first_page = sum(heights[row] for row in range(4))
    units = _report_units(spec.layout, heights)
    ws.set_h_pagebreaks(page_breaks(units, first_page, repeated, page_capacity(scale)))


def _setup_print(
    ws: Worksheet, spec: FormSpec, scale: int, repeat_to_row: int, repeat_from_row: int = 0
) -> None:
    ws.set_paper(9)  # A4
    ws.set_portrait()
    ws.set_print_scale(scale)
    ws.set_margins(left=SIDE_MARGIN_IN, right=SIDE_MARGIN_IN, top=TOP_MARGIN_IN, bottom=BOTTOM_MARGIN_IN)
    ws.repeat_rows(repeat_from_row, repeat_to_row)
    ws.set_header(f"&L&8{spec.organisation}&R&8{spec.title} (formulärversion {spec.version})")
    ws.set_footer("&L&8&A&R&9Sida &P av &N")


# --- the sheet "Budget" ---------------------------------------------------------------------------


def _budget_width(column_type: str) -> float:
    return {"text": BUDGET_COMMENT_WIDTH, "share": BUDGET_SHARE_WIDTH}.get(column_type, BUDGET_AMOUNT_WIDTH)


def _budget_formula(template: str, spec: FormSpec, row: int) -> str:
    def replace(match: re.Match[str]) -> str:
        return cell_address(row, spec.budget.column(match.group(1)).col)

    return "=" + re.sub(r"\{(\w+)\}", replace, template)


def _formula_value(column_key: str, values: dict[str, float]) -> Any:
    """Cached results of the two formula columns, matching their Excel formulas."""
    if column_key == "deviation_period":
        return values.get("budget_period", 0.0) - values.get("actual_period", 0.0)
    if column_key == "used_share":
        total = values.get("budget_total", 0.0)
        return "" if total == 0 else values.get("actual_cumulative", 0.0) / total
    return 0.0


def _write_budget_sheet(
    ws: Worksheet, spec: FormSpec, fmts: _Formats, cells: _CellValues, missing: int
) -> None:
    budget = spec.budget
    widths = {0: BUDGET_LABEL_WIDTH} | {c.col: _budget_width(c.type.name) for c in budget.columns}
    for col, width in widths.items():
        ws.set_column(col, col, width)
    last_col = max(c.col for c in budget.columns)
    ws.write_string(0, 0, budget.title, fmts.title)
    ws.write_string(1, 0, budget.intro, fmts.subtitle)
    ws.merge_range(2, 0, 2, min(3, last_col), "", fmts.status)
    ws.write_formula(2, 0, _status_formula(MISSING_COUNT_NAME), fmts.status, status_text(missing))
    ws.set_row(0, TITLE_HEIGHT)
    ws.set_row(1, SUBTITLE_HEIGHT)
    ws.set_row(2, STATUS_HEIGHT)
    # headers are 9 pt: a column holds 10/9 as many characters as the 10 pt estimate assumes
    header_height = max(
        _text_height(c.label, _budget_width(c.type.name) * 10 / 9, bold=True) for c in budget.columns
    )

    totals: dict[str, dict[str, float]] = {"budget": {}, "financing": {}}
    for group, heading, header_row, lines, total_row in (
        ("budget", budget.lines_heading, budget.header_row, budget.lines, budget.lines_total_row),
        (
            "financing",
            budget.financing_heading,
            budget.financing_header_row,
            budget.financing,
            budget.financing_total_row,
        ),
    ):
        ws.write_string(header_row, 0, heading, fmts.header)
        for column in budget.columns:
            ws.write_string(header_row, column.col, column.label, fmts.header)
        ws.set_row(header_row, header_height)
        for line in lines:
            ws.write_string(line.row, 0, line.label, fmts.line_label)
            ws.set_row(line.row, _text_height(line.label, BUDGET_LABEL_WIDTH))
            values: dict[str, float] = {}
            for column in budget.columns:
                if column.is_input:
                    field = spec.fields[spec.budget_key(line.key, column.key)]
                    _write_input(ws, field, spec, fmts, cells)
                    if column.type.name == "amount":
                        values[column.key] = cells.number(field)
                else:
                    fmt = fmts.cell(column.type.number_format, locked=True, fill=LOCKED_FILL)
                    cached = _formula_value(column.key, values)
                    ws.write_formula(
                        line.row, column.col, _budget_formula(column.formula, spec, line.row), fmt, cached
                    )
            for key, value in values.items():
                totals[group][key] = totals[group].get(key, 0.0) + value
        _write_total_row(ws, spec, fmts, total_row, lines[0].row if lines else total_row, totals[group])

    label = "Kostnader minus finansiering (ska vara 0)"
    ws.write_string(budget.balance_row, 0, label, fmts.total_label)
    ws.set_row(budget.balance_row, _text_height(label, BUDGET_LABEL_WIDTH, bold=True))
    for column in budget.columns:
        if column.type.name == "amount" and column.is_input:
            letter = col_letter(column.col)
            cell = f"{letter}{budget.balance_row + 1}"
            fmt = fmts.cell(column.type.number_format, locked=True, fill=LOCKED_FILL, bold=True)
            cached = totals["budget"].get(column.key, 0.0) - totals["financing"].get(column.key, 0.0)
            ws.write_formula(
                budget.balance_row,
                column.col,
                f"={letter}{budget.lines_total_row + 1}-{letter}{budget.financing_total_row + 1}",
                fmt,
                cached,
            )
            ws.conditional_format(
                cell, {"type": "formula", "criteria": f"=ROUND({cell},0)<>0", "format": fmts.warning}
            )
    ws.freeze_panes(budget.header_row + 1, 1)
    ws.print_area(0, 0, budget.balance_row, last_col)
    _setup_print(ws, spec, print_scale(list(widths.values())), budget.header_row, budget.header_row)


def _write_total_row(
    ws: Worksheet, spec: FormSpec, fmts: _Formats, total_row: int, first: int, totals: dict[str, float]
) -> None:
    """The "Summa" row: SUM over the lines above for amounts, the same formulas for the rest."""
    ws.write_string(total_row, 0, spec.budget.total_label, fmts.total_label)
    ws.set_row(total_row, 18)
    for column in spec.budget.columns:
        fmt = fmts.cell(column.type.number_format, locked=True, fill=LOCKED_FILL, bold=True)
        if column.type.name == "amount" and column.is_input:
            letter = col_letter(column.col)
            formula = f"=SUM({letter}{first + 1}:{letter}{total_row})"
            ws.write_formula(total_row, column.col, formula, fmt, totals.get(column.key, 0.0))
        elif column.formula:
            formula = _budget_formula(column.formula, spec, total_row)
            ws.write_formula(total_row, column.col, formula, fmt, _formula_value(column.key, totals))
        else:
            ws.write_blank(total_row, column.col, None, fmt)


# --- the sheets "Instruktioner" and "Data" --------------------------------------------------------


def _write_instructions(ws: Worksheet, spec: FormSpec, fmts: _Formats) -> None:
    ws.set_column(0, 0, 2)
    ws.set_column(1, 1, INSTRUCTION_WIDTH)
    row = 0
    for index, (heading, text) in enumerate(spec.instructions):
        ws.write_string(row, 1, heading, fmts.title if index == 0 else fmts.heading)
        ws.set_row(row, TITLE_HEIGHT if index == 0 else 22)
        row += 1
        for paragraph in text.splitlines():
            if paragraph.strip():
                ws.write_string(row, 1, paragraph, fmts.paragraph)
                ws.set_row(row, _text_height(paragraph, INSTRUCTION_WIDTH, minimum=15.0))
                row += 1
        row += 1
    ws.write_string(row, 1, f"Formulärversion {spec.version}", fmts.note)
    ws.print_area(0, 0, row, 1)
    _setup_print(ws, spec, print_scale([2, INSTRUCTION_WIDTH]), repeat_to_row=0)


def _write_control_sheet(ws: Worksheet, fmts: _Formats) -> None:
    """The open sheet where the Validera button writes its list (Excel cannot add it later:
    the workbook structure is locked). Left unprotected on purpose; the reader ignores it.

    Its print area is one cell that stays empty, so printing the whole workbook gives the report
    and no near-empty Kontroll page (LibreOffice prints no page for it; Excel drops a blank last
    page). The list written into it is a working aid on screen; "Skriv ut markering" prints it.
    """
    for col, (_header, width) in enumerate(CONTROL_COLUMNS):
        ws.set_column(col, col, width)
    ws.write_string(0, 0, CONTROL_TITLE, fmts.control_heading)
    ws.write_string(1, 0, CONTROL_NOT_CHECKED, fmts.control_summary)
    ws.write_string(2, 0, CONTROL_NOTE, fmts.control_note)
    ws.set_row(0, 22)
    empty = len(CONTROL_COLUMNS)  # the column right of the list: nothing is ever written there
    ws.print_area(0, empty, 0, empty)
    ws.set_paper(9)  # A4
    ws.set_landscape()
    ws.fit_to_pages(1, 0)  # a selected part of the list prints one page wide


PREVIOUS_HEADING = "Föregående lägesrapport (mallen är framförd från den)"
PREVIOUS_LABELS = {
    "report_number": "Lägesrapport nr",
    "period_end": "Rapportperiodens slut",
    "file": "Fil",
    "sha256": "Filens kontrollsumma (SHA-256)",
}
PREVIOUS_FIRST_ROW = 4  # 0-based, below the version, the missing count and the heading


def _write_data_sheet(ws: Worksheet, spec: FormSpec, missing: int) -> None:
    """The hidden helper sheet: the form version for the reader and the live missing count."""
    ws.write_string(0, 0, "Formulärversion")
    ws.write_string(0, 1, spec.version)
    ws.write_string(1, 0, "Saknade obligatoriska svar")
    ws.write_formula(1, 1, missing_count_formula(spec), None, missing)
    ws.set_column(0, 0, 30)
    ws.hide()


def _write_previous(
    wb: xlsxwriter.Workbook, ws: Worksheet, spec: FormSpec, fmts: _Formats, previous: Previous
) -> None:
    """A rolled-forward template's facts of the previous report, on the Data sheet under the
    workbook names `previous_<fact>` and `previous_<carried cell>` (spec.previous_names)."""
    ws.write_string(PREVIOUS_FIRST_ROW - 1, 0, PREVIOUS_HEADING)
    facts = {
        "report_number": previous.report_number,
        "period_end": previous.period_end,
        "file": previous.file,
        "sha256": previous.sha256,
    }
    rows = [(PREVIOUS_PREFIX + fact, PREVIOUS_LABELS[fact], value, spec.fields.get(fact))
            for fact, value in facts.items()]
    rows += [(c.previous, spec.fields[key].label, previous.cumulative.get(key), spec.fields[key])
             for key, c in spec.carried.items()]
    for row, (name, label, value, field) in enumerate(rows, start=PREVIOUS_FIRST_ROW):
        number_format = field.type.number_format if field is not None else "@"
        ws.write_string(row, 0, label)
        _write_value(ws, row, 1, value, fmts.cell(number_format, locked=True, fill=LOCKED_FILL))
        wb.define_name(name, f"='{spec.data_sheet}'!$B${row + 1}")


# --- the file -------------------------------------------------------------------------------------


def _patch_package(path: Path) -> None:
    """Edit two things XlsxWriter has no API for, directly in the package's XML.

    1. <workbookProtection lockStructure="1"> in xl/workbook.xml; the password hash is copied from
       the sheets' own protection element (the same legacy algorithm).
    2. The textbox becomes the named, non-printing button btnValidera in xl/drawings/.
    """
    with zipfile.ZipFile(path) as source:
        items = [(info, source.read(info.filename)) for info in source.infolist()]
    parts = {info.filename: data for info, data in items}
    sheets = b"".join(data for name, data in parts.items() if name.startswith("xl/worksheets/"))
    hash_match = re.search(rb'<sheetProtection password="([0-9A-F]+)"', sheets)
    attributes = b' lockStructure="1"'
    if hash_match:
        attributes += b' workbookPassword="' + hash_match.group(1) + b'"'
    patched = {
        "xl/workbook.xml": _patch_once(
            parts["xl/workbook.xml"], rb"(<workbookPr[^>]*/>)", rb"\1<workbookProtection" + attributes + b"/>"
        )
    }
    drawings = [name for name in parts if re.fullmatch(r"xl/drawings/drawing\d+\.xml", name)]
    if len(drawings) != 1:  # pragma: no cover - the button is the template's only drawing
        raise RuntimeError(f"expected one drawing part, found {drawings}")
    drawing = _patch_once(parts[drawings[0]], rb'name="TextBox \d+"', b'name="' + BUTTON_NAME.encode() + b'"')
    patched[drawings[0]] = _patch_once(
        drawing, rb"<xdr:clientData/>", rb'<xdr:clientData fPrintsWithSheet="0"/>'
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in items:
            target.writestr(info, patched.get(info.filename, data))


def _patch_once(xml: bytes, pattern: bytes, replacement: bytes) -> bytes:
    result, count = re.subn(pattern, replacement, xml, count=1)
    if count != 1:  # pragma: no cover - XlsxWriter always writes these elements
        raise RuntimeError(f"pattern {pattern!r} not found while patching the template")
    return result


def write_template(
    path: str | Path,
    spec: FormSpec | None = None,
    *,
    prefill: dict[str, Any] | None = None,
    answers: dict[str, Any] | None = None,
    password: str | None = None,
    previous: Previous | None = None,
) -> Path:
    """Write the template to `path` atomically (temporary file, then rename) and return the path.

    `prefill` maps field keys to Python values (str, int, Decimal, date); those cells are
    written and locked. `answers` are written into open input cells as they are given (a string
    stays a string), which makes filled example reports without a spreadsheet program.
    `previous` (rollforward.py) makes the template the next report after it: its facts go on the
    Data sheet and each carried cell (spec.carried) not among `answers` becomes its formula.
    """
    spec = spec or default_spec()
    prefill = {k: v for k, v in (prefill or {}).items() if not is_blank(v)}
    answers = dict(answers or {})
    unknown = sorted((set(prefill) | set(answers)) - set(spec.fields))
    if unknown:
        raise KeyError(f"Okända fält: {', '.join(unknown)}")
    not_prefillable = sorted(k for k in prefill if not spec.fields[k].prefill)
    if not_prefillable:
        raise KeyError(f"Fälten kan inte förifyllas: {', '.join(not_prefillable)}")
    both = sorted(set(prefill) & set(answers))
    if both:
        raise KeyError(f"Fälten är både förifyllda och besvarade: {', '.join(both)}")
    with atomic_path(path) as tmp:
        _build(tmp, spec, prefill, answers, password, previous)
        _patch_package(tmp)
    return Path(path)


def _build(
    path: Path,
    spec: FormSpec,
    prefill: dict[str, Any],
    answers: dict[str, Any],
    password: str | None,
    previous: Previous | None,
) -> None:
    wb = xlsxwriter.Workbook(
        str(path),
        {
            "strings_to_formulas": False,
            "strings_to_urls": False,
            # Arial 10 as the workbook's default font: column widths are measured in its digits,
            # and LibreOffice has a metric-compatible Arial (Liberation Sans) but no Calibri.
            "default_format_properties": {"font_name": FONT, "font_size": 10, "font_scheme": "none"},
            "default_row_height": 17,
            "default_column_width": 64,
        },
    )
    wb.set_properties(
        {
            "title": f"{spec.title} – {spec.organisation}",
            "subject": "Lägesrapport till Samordningsförbundet RAR",
            "company": spec.organisation,
            "comments": f"Formulärversion {spec.version}. Genererad av lagesrapport_xl.",
            "created": FIXED_TIME,
        }
    )
    wb.set_custom_property(VERSION_PROPERTY, spec.version)
    wb.set_calc_mode("auto")
    fmts = _Formats(wb)
    missing = count_missing(spec, {**answers, **prefill})
    carried = {k: c for k, c in spec.carried.items() if k not in answers} if previous is not None else {}
    cells = _CellValues(prefill, answers, previous, carried)
    instructions = wb.add_worksheet(spec.instructions_sheet)
    report = wb.add_worksheet(spec.report_sheet)
    budget = wb.add_worksheet(spec.budget_sheet)
    data = wb.add_worksheet(spec.data_sheet)
    control = wb.add_worksheet(spec.control_sheet)
    _write_instructions(instructions, spec, fmts)
    _write_report_sheet(report, spec, fmts, cells, missing)
    _write_budget_sheet(budget, spec, fmts, cells, missing)
    _write_data_sheet(data, spec, missing)
    if previous is not None:
        _write_previous(wb, data, spec, fmts, previous)
    _write_control_sheet(control, fmts)
    for field in spec.fields.values():
        wb.define_name(field.key, f"={field.ref}")
    wb.define_name(FORM_VERSION_NAME, f"='{spec.data_sheet}'!$B$1")
    wb.define_name(MISSING_COUNT_NAME, f"='{spec.data_sheet}'!$B$2")
    for ws in (instructions, report, budget, data):
        ws.protect(password or "", PROTECTION_OPTIONS)
    report.activate()
    wb.close()
