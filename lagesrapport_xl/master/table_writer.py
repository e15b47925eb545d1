"""The tables of one sheet written cell by cell: title, note and link, the Excel table (filters,
banded rows, total row), the header, and the data rows — values as their own cell types, derived
columns as formulas WITH the Python value as cached result, so pandas, previewers and e-mail
viewers show the numbers Excel shows. Every formula written is recorded in MasterInfo.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xlsxwriter.utility import xl_rowcol_to_cell

from ..consolidate.tables import Column
from .cells import MasterFormats, value_cell
from .formulas import FormulaRenderer, cached_result
from .placement import Placement
from .sizes import row_heights
from .split import HelperRows, OwnRows, SplitRows
from .streaming import StreamingWorksheet, chart_value, column_name

RowWriter = OwnRows | HelperRows | SplitRows
TABLE_STYLE = "Table Style Light 9"


@dataclass
class MasterInfo:
    """What write_master wrote: the path and every formula, by (sheet, cell) → '=…' (unless the
    caller said keep_formulas=False: 10 000 reports make 300 000 of them)."""

    path: Path
    formulas: dict[tuple[str, str], str] = field(default_factory=dict)
    keep_formulas: bool = True

    def formula(self, sheet: str, row: int, col: int, formula: str) -> None:
        if self.keep_formulas:
            self.formulas[(sheet, xl_rowcol_to_cell(row, col))] = formula


@dataclass(frozen=True)
class _ColumnPlan:
    """How one column's cells are written: where its values sit in a row, its sheet column
    letters and its format attribute."""

    column: Column
    col: int  # sheet column
    letters: str
    position: int  # index in the table's row tuples
    style: str
    pattern: str | None = None  # a formula column's row_pattern, when it has one


class TableWriter:
    """Writes the tables of one sheet, top to bottom; records every formula it writes."""

    def __init__(
        self, ws: StreamingWorksheet, fmts: MasterFormats, renderer: FormulaRenderer, info: MasterInfo, rows: RowWriter
    ):
        self.ws = ws
        self.rows = rows  # who writes the data rows: this process, or a helper (split.py)
        self.fmts = fmts
        self.renderer = renderer
        self.info = info
        self.sheet = ws.get_name()

    def table(
        self, placement: Placement, widths: dict[int, float], note_link: tuple[str, str] | None = None,
        chart: bool = False,
    ) -> None:
        table, ws = placement.table, self.ws
        left = placement.first_col
        totals = self._add_table(placement)  # first: it stores the header and total texts
        ws.put_string(placement.title_row, left, table.title, self.fmts.title)
        note_row = placement.title_row + 1
        if note_row < placement.header_row:
            if table.note:
                ws.put_string(note_row, left, table.note, self.fmts.note)
            if note_link:
                target, text = note_link
                col = left if not table.note else left + min(len(table.columns) - 1, 6)
                ws.write_url(note_row, col, f"internal:{target}", self.fmts.link, string=text)  # the link
                ws.put_shared_string(note_row, col, text, self.fmts.link)
        heights = row_heights(placement, widths)
        ws.set_row(placement.header_row, heights.pop(placement.header_row))
        for index, column in enumerate(table.columns):
            ws.put_shared_string(placement.header_row, left + index, column.header, self.fmts.header)
        self.rows.write(self, placement, heights, chart)
        for col, text, cached, fmt in totals:  # the total row's cells, as add_table writes them
            if cached is None:
                ws.put_shared_string(placement.total_row, col, text, fmt)
            else:
                ws.put_formula(placement.total_row, col, text, fmt, cached)
                self.info.formula(self.sheet, placement.total_row, col, text)

    def write_rows(self, placement: Placement, heights: dict[int, float], chart: bool) -> None:
        """The data rows, a whole row at a time (the hot loop: 120 000 cells per 1 000 reports)."""
        table, ws, render = placement.table, self.ws, self.renderer.render
        keep = self.info.formula if self.info.keep_formulas else None
        plans = [
            _ColumnPlan(column, col, column_name(col), table.column_index(column.key),
                        ws.style(self.fmts.cell(column.kind)) if column.kind != "auto" else "",
                        self.renderer.row_pattern(column.formula, placement) if column.formula else None)
            for column in table.columns
            for col in [placement.col(column.key)]
        ]
        plain: dict[int, bool] = {}  # per formula column: XlsxWriter would change nothing (asked once)
        kind_at = table.names.index("_kind") if "_kind" in table.names else None
        first = placement.first_data_row
        for offset, values in enumerate(table.rows):
            row = first + offset
            number = row + 1
            if row in heights:
                ws.set_row(row, heights[row])

            def hidden(key: str, offset: int = offset) -> Any:  # this row's hidden references
                return table.value(offset, key)

            cells = []
            for plan in plans:
                column, ref = plan.column, f"{plan.letters}{number}"
                value = values[plan.position]
                if column.formula is not None:
                    if plan.pattern is not None:
                        formula = plan.pattern.format(number)
                    else:
                        formula = render(column.formula, placement, offset, hidden)
                        if formula is None:  # the row it refers to does not exist (no report 3 yet)
                            continue
                    written = cached_result(value)
                    unchanged = plain.get(plan.col)
                    if unchanged is None:  # the function names come from the template: alike in every row
                        unchanged = plain[plan.col] = ws.plain_functions(formula)
                    cells.append((plan.col, ws.formula_xml(ref, plan.style, formula, written, unchanged)))
                    if keep is not None:
                        keep(self.sheet, row, plan.col, formula)
                else:
                    if column.kind == "auto":  # the Om table: each row says its own kind
                        kind = values[kind_at] if kind_at is not None else None
                        kind = kind if isinstance(kind, str) and kind else "text"
                        style = ws.style(self.fmts.cell("text_wrap" if kind == "text" else kind))
                        cell = value_cell(ws, ref, style, value, kind)
                    else:
                        cell = value_cell(ws, ref, plan.style, value, column.kind)
                    if cell is None:
                        continue
                    cells.append((plan.col, cell[0]))
                    written = cell[1]
                if chart:
                    ws.chart_data[(row, plan.col)] = chart_value(written, column.formula is not None)
            ws.put_row(row, cells)

    def _add_table(self, placement: Placement) -> list[tuple[int, str, Any, Any]]:
        """The Excel table over the table's cells; returns its total row's cells (column, text or
        formula, cached value or None for a text, format), for writing in row order."""
        table, ws = placement.table, self.ws
        options: dict[str, Any] = {
            "name": f"Tabell_{table.file_stem}",
            "style": TABLE_STYLE,
            "total_row": table.totals is not None,
            "columns": [],
        }
        totals: list[tuple[int, str, Any, Any]] = []  # (col, label or formula, cached value, format)
        for index, column in enumerate(table.columns):
            spec: dict[str, Any] = {
                "header": column.header,
                "header_format": self.fmts.header,
                "format": self.fmts.cell(column.kind if column.kind != "auto" else "text"),
            }
            col = placement.first_col + index
            if table.totals is not None:
                if index == 0:
                    spec["total_string"] = table.total_label
                    spec["format"] = self.fmts.cell("text", bold=True)
                formula = self._total_formula(placement, col, column)
                if formula:
                    spec["total_function"] = formula
                    spec["total_value"] = cached_result(table.totals.get(column.key))
                    spec["format"] = self.fmts.cell(column.kind, bold=True)
                    totals.append((col, formula, spec["total_value"], spec["format"]))
                elif index == 0:
                    totals.append((col, table.total_label, None, spec["format"]))
            options["columns"].append(spec)
        ws.add_table(placement.header_row, placement.first_col, placement.last_row, placement.last_col, options)
        ws.table_cells.clear()  # one entry per table cell, kept only to refuse overlaps: our layout has none
        return totals if placement.total_row is not None else []

    def _total_formula(self, placement: Placement, col: int, column: Column) -> str | None:
        if column.total == "sum":
            first = xl_rowcol_to_cell(placement.first_data_row, col)
            last = xl_rowcol_to_cell(placement.last_data_row, col)
            return f"=SUBTOTAL(109,{first}:{last})"
        if column.total == "same" and column.formula:
            return self.renderer.render(column.formula, placement, None)
        return None
