"""The sheet "Lägesrapport": title, status box, the form's questions with their answer cells, the
Validera button (only when RAR uses the add-in; right of the print area, so it never prints), and
page breaks that keep each question on the page of its answer.

The layout (rows, texts, which cells) comes from the form specification (spec.layout).
"""

from __future__ import annotations

from xlsxwriter.worksheet import Worksheet

from ..common.config import TemplateOptions
from ..form.spec import INLINE_COLS, LABEL_COL, FormSpec, LayoutRow
from .button import insert_button
from .cells import CellValues, write_input
from .formats import TemplateFormats
from .page import (
    COLUMNS_HEIGHT,
    NOTE_HEIGHT,
    POINTS_PER_LINE,
    QUESTION_GAP,
    ROW_PADDING,
    SPACER_HEIGHT,
    STATUS_HEIGHT,
    SUBTITLE_HEIGHT,
    TITLE_HEIGHT,
    page_breaks,
    page_capacity,
    print_scale,
    setup_print,
    text_height,
    text_lines,
)
from .status import INVALID_COUNT_NAMES, MISSING_COUNT_NAME, status_formula

REPORT_WIDTHS = {0: 2, LABEL_COL: 66, **{col: 13 for col in INLINE_COLS}}


def write_report_sheet(
    ws: Worksheet, spec: FormSpec, fmts: TemplateFormats, cells: CellValues, status: str, options: TemplateOptions
) -> None:
    """The whole sheet; `status` is the status box's cached text."""
    for col, width in REPORT_WIDTHS.items():
        ws.set_column(col, col, width)
    ws.write_string(0, LABEL_COL, spec.title, fmts.title)
    ws.write_string(1, LABEL_COL, spec.subtitle, fmts.subtitle)
    here, other = INVALID_COUNT_NAMES
    formula = status_formula(MISSING_COUNT_NAME, here, other, spec.budget_sheet)
    ws.write_formula(2, LABEL_COL, formula, fmts.status, status)
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
            write_input(ws, spec.fields[key], spec, fmts, cells)
    for row, height in heights.items():
        ws.set_row(row, height)
    if options.excel_buttons:
        insert_button(ws)
    ws.freeze_panes(3, 0)
    last = max(heights)
    ws.print_area(0, 0, last, max(INLINE_COLS))
    scale = print_scale(list(REPORT_WIDTHS.values()))
    setup_print(ws, spec, scale, repeat_to_row=1)
    repeated = heights[0] + heights[1]
    first_page = sum(heights[row] for row in range(4))
    units = _report_units(spec.layout, heights)
    ws.set_h_pagebreaks(page_breaks(units, first_page, repeated, page_capacity(scale)))


def _write_column_headers(ws: Worksheet, row: int, texts: tuple[str, ...], fmts: TemplateFormats) -> None:
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
        return {item.row: text_height(item.text, width, minimum=20.0)}
    question = text_height(item.text, width, bold=True) + QUESTION_GAP
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
