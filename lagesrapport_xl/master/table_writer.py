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

from ..consolidate.tables import CELLS, FILE, Column
from .cells import MasterFormats
from .formulas import FormulaRenderer, cached_result
from .placement import Placement
from .rows import FILE_LINK, CellPlan, RowPlan, write_rows
from .sizes import header_height, wrapped_columns
from .split import OwnRows, SplitRows
from .streaming import StreamingWorksheet, column_name, format_attribute
from .trail import Links

RowWriter = OwnRows | SplitRows
TABLE_STYLE = "Table Style Light 9"


@dataclass
class MasterInfo:
    """What write_master wrote: the path and every formula, by (sheet, cell) → '=…' (unless the
    caller said keep_formulas=False: 10 000 reports make 300 000 of them)."""

    path: Path
    formulas: dict[tuple[str, str], str] = field(default_factory=dict)
    keep_formulas: bool = True
    links: Links | None = None  # where the trail's links point (trail.py); None: no links

    def formula(self, sheet: str, row: int, col: int, formula: str) -> None:
        if self.keep_formulas:
            self.formulas[(sheet, xl_rowcol_to_cell(row, col))] = formula


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
        ws.set_row(placement.header_row, header_height(placement, widths))
        for index, column in enumerate(table.columns):
            ws.put_shared_string(placement.header_row, left + index, column.header, self.fmts.header)
        plan = row_plan(placement, widths, self.fmts, self.renderer, chart, self.info.links)
        self.rows.write(self, placement, plan)
        for col, text, cached, fmt in totals:  # the total row's cells, as add_table writes them
            if cached is None:
                ws.put_shared_string(placement.total_row, col, text, fmt)
            else:
                ws.put_formula(placement.total_row, col, text, fmt, cached)
                self.info.formula(self.sheet, placement.total_row, col, text)

    def write_rows(self, plan: RowPlan, rows: Any) -> list[tuple[int, float]]:
        """The data rows here, into this sheet (see rows.write_rows); the taller rows' heights."""
        written = write_rows(self.ws, plan, rows, keep_formulas=self.info.keep_formulas, auto_style=self._auto_style)
        if written.formulas:
            self.info.formulas.update(written.formulas)
        return written.heights

    def _auto_style(self, kind: str) -> str:
        return self.ws.style(self.fmts.cell("text_wrap" if kind == "text" else kind))

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
        return totals if placement.total_row is not None else []

    def _total_formula(self, placement: Placement, col: int, column: Column) -> str | None:
        if column.total == "sum":
            first = xl_rowcol_to_cell(placement.first_data_row, col)
            last = xl_rowcol_to_cell(placement.last_data_row, col)
            return f"=SUBTOTAL(109,{first}:{last})"
        if column.total == "same" and column.formula:
            return self.renderer.render(column.formula, placement, None)
        return None


def row_plan(
    placement: Placement, widths: dict[int, float], fmts: MasterFormats, renderer: FormulaRenderer,
    chart: bool = False, links: Links | None = None,
) -> RowPlan:
    """How the table's data rows are written (rows.RowPlan), worked out once per table. With
    `links`, each traced column links to its source cell and "Källfil" to the file (trail.py)."""
    table = placement.table
    positions = {name: index for index, name in enumerate(table.names)}
    linked = links is not None and FILE in positions
    traced = [column.key for column in table.columns if column.traced] if linked and CELLS in positions else []
    cells = []
    for column in table.columns:
        col = placement.col(column.key)
        pattern = formula = None
        if column.formula:
            pattern = renderer.row_pattern(column.formula, placement)
            if pattern is None:
                formula = renderer.row_formula(column.formula, placement)
        style = format_attribute(fmts.cell(column.kind)) if column.kind != "auto" else ""
        trace = traced.index(column.key) if column.key in traced else None
        if linked and column.kind == "link":
            trace = FILE_LINK
        cells.append(CellPlan(col, column_name(col), table.column_index(column.key), column.kind, style, pattern,
                              formula, trace))
    return RowPlan(table.key, table.sheet, placement.first_data_row, tuple(cells), positions,
                   wrapped_columns(placement, widths), chart, links if linked else None, positions.get(FILE),
                   positions.get(CELLS), positions.get("stored_file"))
