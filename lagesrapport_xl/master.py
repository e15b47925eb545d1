"""Write the consolidated master workbook with XlsxWriter.

Each table of the Consolidation becomes an Excel table (filters, banded rows) on its sheet, tables
stacked top to bottom. Derived columns are written as formulas WITH the Python value as cached
result, so pandas, previewers and e-mail viewers show the numbers Excel shows. User text is always
written with write_string: an answer starting with "=" stays text. The file is written to a
temporary file beside the target and moved into place, so a failure never damages an old master.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import xlsxwriter
from xlsxwriter.utility import quote_sheetname, xl_rowcol_to_cell
from xlsxwriter.worksheet import Worksheet

from .consolidate import (
    ABOUT,
    BUDGET,
    CONTROL,
    HISTORY,
    OVERVIEW,
    PARTICIPANTS,
    SHEETS,
    TEXTS,
    TIME_SHARE,
    Column,
    Consolidation,
    Status,
    Table,
)

FONT = "Arial"
HEADER_FILL = "#D9E1F2"
RED_FILL = "#F8CBAD"
YELLOW_FILL = "#FFE699"
GREEN_FILL = "#C6EFCE"
GREY_FILL = "#E7E6E6"
TABLE_STYLE = "Table Style Light 9"
NUMBER_FORMATS = {
    "int": "0",
    "days": "0",
    "kr": '#,##0 "kr"',
    "pct": "0.0%",
    "date": "yyyy-mm-dd",
    "datetime": "yyyy-mm-dd hh:mm",
}
BASE_WIDTHS = {"int": 8, "days": 8, "kr": 13, "pct": 9, "date": 11, "datetime": 17, "flag": 8, "long_text": 60}
MAX_TEXT_WIDTH = 48
POINTS_PER_LINE = 12.75
MAX_ROW_HEIGHT = 409  # Excel's limit


@dataclass(frozen=True)
class SheetLayout:
    tables: tuple[str, ...]
    freeze_table: str | None  # freeze the rows above this table's first data row
    freeze_cols: int = 0
    # A table below the first may start further right, so that its columns line up with the
    # first table's (the sums per cost line under "Kostnadsrad" and the amounts).
    first_cols: tuple[tuple[str, int], ...] = ()


LAYOUT = {
    OVERVIEW: SheetLayout(("overview",), "overview", 2),
    PARTICIPANTS: SheetLayout(("participants", "participants_latest"), "participants", 3),
    BUDGET: SheetLayout(
        ("budget", "budget_by_initiative", "budget_by_line", "financing"), "budget", 4, (("budget_by_line", 3),)
    ),
    TIME_SHARE: SheetLayout(("time_share",), "time_share", 3),
    TEXTS: SheetLayout(("texts",), "texts", 3),
    HISTORY: SheetLayout(("history",), "history", 2),
    CONTROL: SheetLayout(("control_counts", "control"), "control", 2),
    ABOUT: SheetLayout(("about", "about_files"), None),
}

# Where a sheet's first table points to the tables and chart further down.
JUMP_TO = {PARTICIPANTS: "participants_latest", BUDGET: "budget_by_initiative"}
# The table each sheet's chart draws: one bar group per insats.
CHARTS = {PARTICIPANTS: "participants_latest", BUDGET: "budget_by_initiative"}
CHART_ROW_PIXELS = 20


@dataclass(frozen=True)
class Placement:
    """Where one table sits: its sheet, header row and data rows (0-based)."""

    table: Table
    title_row: int
    header_row: int
    rows: int  # data rows written (at least 1: Excel tables need one)
    first_col: int = 0

    @property
    def first_data_row(self) -> int:
        return self.header_row + 1

    @property
    def last_data_row(self) -> int:
        return self.header_row + self.rows

    @property
    def total_row(self) -> int | None:
        return self.last_data_row + 1 if self.table.totals is not None else None

    @property
    def last_row(self) -> int:
        return self.total_row if self.total_row is not None else self.last_data_row

    def col(self, key: str) -> int:
        """The sheet column of a table column."""
        return self.first_col + self.table.column_index(key)

    @property
    def last_col(self) -> int:
        return self.first_col + len(self.table.columns) - 1


@dataclass
class MasterInfo:
    """What write_master wrote: the path and every formula, by (sheet, cell) → '=…'."""

    path: Path
    formulas: dict[tuple[str, str], str] = field(default_factory=dict)


def _place(consolidation: Consolidation) -> tuple[dict[str, Placement], dict[str, int]]:
    """Every table's position, and the row where each sheet's chart goes (below its tables, so
    that it prints within the tables' width and never covers a table when filters hide rows)."""
    placements: dict[str, Placement] = {}
    chart_rows: dict[str, int] = {}
    for sheet in SHEETS:
        row = 0
        for key in LAYOUT[sheet].tables:
            table = consolidation.tables[key]
            header = row + 1 + (1 if table.note or sheet in JUMP_TO and key == LAYOUT[sheet].tables[0] else 0)
            first_col = dict(LAYOUT[sheet].first_cols).get(key, 0)
            placement = Placement(table, row, header, max(1, len(table.frame)), first_col)
            placements[key] = placement
            row = placement.last_row + 3
        if sheet in CHARTS:
            chart_rows[sheet] = row
    return placements, chart_rows


# --- formulas -----------------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
_FUNCTION = re.compile(r"[A-Z][A-Z0-9._]*\(")


class _FormulaRenderer:
    """Turns a column's formula template into the formula of one cell (see consolidate.Column).

    A template is parsed once per table column: row-independent parts (ranges of other tables,
    named cells) are resolved then, so each row only fills in its own cell references.
    """

    def __init__(self, placements: dict[str, Placement], named: dict[str, str]):
        self.placements = placements
        self.named = named
        self._compiled: dict[tuple[str, str], list[Any]] = {}

    def _prefix(self, placement: Placement, sheet: str) -> str:
        return "" if placement.table.sheet == sheet else quote_sheetname(placement.table.sheet) + "!"

    def _compile(self, template: str, placement: Placement) -> list[Any]:
        """Literal strings, and (column, other placement, ref) triples for row-dependent cells."""
        parts: list[Any] = []
        sheet = placement.table.sheet
        for index, part in enumerate(_PLACEHOLDER.split(template)):
            if index % 2 == 0:
                parts.append(part)
            elif part.startswith("!"):
                parts.append(self.named[part[1:]])
            else:
                target, at, ref = part.partition("@")
                table_key, dot, column_key = target.rpartition(".")
                if not dot:  # a cell of the same row of this table
                    parts.append((placement.col(column_key), placement, "", ""))
                    continue
                other = self.placements[table_key]
                col = other.col(column_key)
                if not at:  # a whole column of another table
                    first = xl_rowcol_to_cell(other.first_data_row, col, True, True)
                    last = xl_rowcol_to_cell(other.last_data_row, col, True, True)
                    parts.append(f"{self._prefix(other, sheet)}{first}:{last}")
                else:  # one cell of another table: the same row, or the row this row names
                    parts.append((col, other, ref or "=", self._prefix(other, sheet)))
        return parts

    def render(self, template: str, placement: Placement, row: int | None, values: dict[str, Any]) -> str | None:
        """The formula for data row `row` of `placement` (None: the total row). None when a row
        reference is missing (e.g. no report 3 for this insats): the cell stays blank."""
        key = (template, placement.table.key)
        parts = self._compiled.get(key)
        if parts is None:
            parts = self._compiled[key] = self._compile(template, placement)
        out = ["="]
        for part in parts:
            if isinstance(part, str):
                out.append(part)
                continue
            col, target, ref, prefix = part
            if not ref:
                cell_row = target.total_row if row is None else target.first_data_row + row
            else:
                index = row if ref == "=" else _as_index(values.get(ref))
                if index is None:
                    return None
                cell_row = target.first_data_row + index
            out.append(prefix + xl_rowcol_to_cell(cell_row, col))
        return "".join(out)


class _Worksheet(Worksheet):
    """XlsxWriter's worksheet, minus ~30 regular expressions per formula.

    XlsxWriter rewrites "future functions" (XLOOKUP → _xlfn.XLOOKUP …) in every formula. It is
    asked once per distinct set of function names; when it changes nothing (ours: IF, SUM,
    SUMPRODUCT …) later formulas with the same functions skip it. Any other set goes through it.
    """

    _unchanged: dict[frozenset[str], bool] = {}

    def _prepare_formula(self, formula, expand_future_functions=False):  # noqa: ANN001
        if expand_future_functions or self.use_future_functions or formula.startswith("{"):
            return super()._prepare_formula(formula, expand_future_functions)
        stripped = formula[1:] if formula.startswith("=") else formula
        names = frozenset(_FUNCTION.findall(stripped))
        unchanged = self._unchanged.get(names)
        if unchanged is None:
            unchanged = self._unchanged[names] = super()._prepare_formula(formula) == stripped
        return stripped if unchanged else super()._prepare_formula(formula)


def _as_index(value: Any) -> int | None:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return int(value)


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _cached(value: Any) -> Any:
    """The cached result stored with a formula: "" for an empty result, plain Python numbers."""
    if _missing(value):
        return ""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return value


# --- formats --------------------------------------------------------------------------------------


class _Formats:
    def __init__(self, wb: xlsxwriter.Workbook):
        self.wb = wb
        self.base = {"font_name": FONT, "font_size": 10, "valign": "top"}
        self.title = wb.add_format({**self.base, "bold": True, "font_size": 13})
        self.note = wb.add_format({**self.base, "italic": True, "font_color": "#404040"})
        self.link = wb.add_format({**self.base, "italic": True, "font_color": "#0563C1", "underline": 1})
        self.header = wb.add_format(
            {**self.base, "bold": True, "text_wrap": True, "bg_color": HEADER_FILL, "border": 1, "valign": "bottom"}
        )
        self.fills = {
            color: wb.add_format({"bg_color": color}) for color in (RED_FILL, YELLOW_FILL, GREEN_FILL, GREY_FILL)
        }
        self._cells: dict[tuple[str, bool], Any] = {}

    def cell(self, kind: str, bold: bool = False):
        key = (kind, bold)
        if key not in self._cells:
            options = {**self.base, "bold": bold}
            if kind in NUMBER_FORMATS:
                options["num_format"] = NUMBER_FORMATS[kind]
            if kind in ("long_text", "text_wrap", "text"):
                options["text_wrap"] = True
            self._cells[key] = self.wb.add_format(options)
        return self._cells[key]


# --- writing cells --------------------------------------------------------------------------------


NUMBER_KINDS = frozenset({"int", "days", "kr", "pct"})


def _write_value(ws: Worksheet, row: int, col: int, value: Any, kind: str, fmt: Any) -> None:
    """A value as its own cell type. Text always with write_string: user text is data, never code.
    Nothing is written for a missing value (the table style and column format cover it)."""
    if _missing(value):
        return
    if kind in NUMBER_KINDS and isinstance(value, (int, float)) and not isinstance(value, bool):
        ws.write_number(row, col, value, fmt)
    elif kind in ("date", "datetime") and isinstance(value, (dt.date, dt.datetime)):
        stamp = value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())
        ws.write_datetime(row, col, stamp, fmt)
    elif isinstance(value, str):
        ws.write_string(row, col, value, fmt)
    elif isinstance(value, bool):
        ws.write_string(row, col, "Ja" if value else "Nej", fmt)
    elif hasattr(value, "item") or isinstance(value, (int, float)):
        number = value.item() if hasattr(value, "item") else value
        ws.write_number(row, col, float(number), fmt)
    else:
        ws.write_string(row, col, str(value), fmt)


class _SheetWriter:
    """Writes the tables of one sheet; records every formula it writes."""

    def __init__(self, ws: Worksheet, fmts: _Formats, renderer: _FormulaRenderer, info: MasterInfo):
        self.ws = ws
        self.fmts = fmts
        self.renderer = renderer
        self.info = info
        self.sheet = ws.get_name()

    def formula(self, row: int, col: int, formula: str, fmt: Any, value: Any) -> None:
        self.ws.write_formula(row, col, formula, fmt, _cached(value))
        self.info.formulas[(self.sheet, xl_rowcol_to_cell(row, col))] = formula

    def table(self, placement: Placement, note_link: tuple[str, str] | None = None) -> None:
        table, ws = placement.table, self.ws
        left = placement.first_col
        ws.write_string(placement.title_row, left, table.title, self.fmts.title)
        note_row = placement.title_row + 1
        if note_row < placement.header_row:
            if table.note:
                ws.write_string(note_row, left, table.note, self.fmts.note)
            if note_link:
                target, text = note_link
                col = left if not table.note else left + min(len(table.columns) - 1, 6)
                ws.write_url(note_row, col, f"internal:{target}", self.fmts.link, string=text)
        frame = table.frame
        for column in table.columns:
            self._column(placement, placement.col(column.key), column, frame)
        self._add_table(placement)

    def _column(self, placement: Placement, index: int, column: Column, frame: pd.DataFrame) -> None:
        ws, first = self.ws, placement.first_data_row
        values = frame[column.key].tolist() if column.key in frame else []
        if column.kind == "auto":
            kinds = frame["_kind"].tolist() if "_kind" in frame else ["text"] * len(values)
            for offset, (value, kind) in enumerate(zip(values, kinds)):
                kind = kind if isinstance(kind, str) and kind else "text"
                fmt = self.fmts.cell("text_wrap" if kind == "text" else kind)
                _write_value(ws, first + offset, index, value, kind, fmt)
            return
        fmt = self.fmts.cell(column.kind)
        if column.formula is None:
            for offset, value in enumerate(values):
                _write_value(ws, first + offset, index, value, column.kind, fmt)
            return
        refs = frame.to_dict("records") if re.search(r"@\w", column.formula) else None
        for offset, value in enumerate(values):
            formula = self.renderer.render(column.formula, placement, offset, refs[offset] if refs else {})
            if formula is not None:  # None: the row it refers to does not exist (no report 3 yet)
                self.formula(first + offset, index, formula, fmt, value)

    def _add_table(self, placement: Placement) -> None:
        table = placement.table
        options: dict[str, Any] = {
            "name": f"Tabell_{table.file_stem}",
            "style": TABLE_STYLE,
            "total_row": table.totals is not None,
            "columns": [],
        }
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
                    spec["total_value"] = _cached(table.totals.get(column.key))
                    spec["format"] = self.fmts.cell(column.kind, bold=True)
                    self.info.formulas[(self.sheet, xl_rowcol_to_cell(placement.total_row, col))] = formula
            options["columns"].append(spec)
        self.ws.add_table(placement.header_row, placement.first_col, placement.last_row, placement.last_col, options)

    def _total_formula(self, placement: Placement, col: int, column: Column) -> str | None:
        if column.total == "sum":
            first = xl_rowcol_to_cell(placement.first_data_row, col)
            last = xl_rowcol_to_cell(placement.last_data_row, col)
            return f"=SUBTOTAL(109,{first}:{last})"
        if column.total == "same" and column.formula:
            return self.renderer.render(column.formula, placement, None, {})
        return None


# --- layout details: widths, heights, conditional formats, charts, printing ---------------------


def _text_length(values: list[Any]) -> int:
    longest = 0
    for value in values[:2000]:
        if isinstance(value, str):
            longest = max(longest, max((len(line) for line in value.splitlines()), default=0))
    return longest


def _column_width(column: Column, frame: pd.DataFrame) -> float:
    header_word = max((len(word) for word in column.header.split()), default=6) + 2
    if column.kind in BASE_WIDTHS:
        return max(BASE_WIDTHS[column.kind], header_word)
    if column.kind == "auto":
        return MAX_TEXT_WIDTH
    content = _text_length(frame[column.key].tolist()) + 2 if column.key in frame else 8
    return max(8, header_word, min(content, MAX_TEXT_WIDTH), min(len(column.header) / 3, MAX_TEXT_WIDTH))


def _lines(text: str, width: float) -> int:
    """Lines a wrapped text needs in a column (Arial 10 fits about 1.3 characters per width unit)."""
    per_line = max(1, int(width * 1.3))
    return sum(max(1, math.ceil(len(part) / per_line)) for part in text.splitlines() or [""])


def _set_widths(ws: Worksheet, placements: list[Placement]) -> dict[int, float]:
    """Column widths from headers and contents; row heights for headers and long answers.

    Heights are set explicitly: Excel fits rows with wrapped text itself, LibreOffice not always.
    """
    widths: dict[int, float] = {}
    for placement in placements:
        for column in placement.table.columns:
            col = placement.col(column.key)
            widths[col] = max(widths.get(col, 0), _column_width(column, placement.table.frame))
    for col, width in widths.items():
        ws.set_column(col, col, width)
    for placement in placements:
        table = placement.table
        lines = max(_lines(c.header, widths[placement.col(c.key)]) for c in table.columns)
        ws.set_row(placement.header_row, POINTS_PER_LINE * lines + 4)
        wrapped = [c for c in table.columns if c.kind in ("long_text", "auto") and c.key in table.frame]
        texts = {c.key: table.frame[c.key].tolist() for c in wrapped}
        for offset in range(len(table.frame)):
            lines = max(
                (
                    _lines(texts[c.key][offset], widths[placement.col(c.key)])
                    for c in wrapped
                    if isinstance(texts[c.key][offset], str)
                ),
                default=1,
            )
            if lines > 1:
                ws.set_row(placement.first_data_row + offset, min(MAX_ROW_HEIGHT, POINTS_PER_LINE * lines + 3))
    return widths


def _column_range(placement: Placement, key: str) -> str:
    col = placement.col(key)
    return f"{xl_rowcol_to_cell(placement.first_data_row, col)}:{xl_rowcol_to_cell(placement.last_data_row, col)}"


def _highlight(ws: Worksheet, placement: Placement, key: str, value: str, fill: Any) -> None:
    ws.conditional_format(
        _column_range(placement, key), {"type": "cell", "criteria": "==", "value": f'"{value}"', "format": fill}
    )


def _conditional_formats(ws: Worksheet, sheet: str, placements: dict[str, Placement], fmts: _Formats) -> None:
    red, yellow, green, grey = (fmts.fills[c] for c in (RED_FILL, YELLOW_FILL, GREEN_FILL, GREY_FILL))
    if sheet == PARTICIPANTS:
        main = placements["participants"]
        _highlight(ws, main, "below_plan", "Ja", red)
        for key in ("women_pct_min", "men_pct_min", "total_pct_min"):
            ws.conditional_format(
                _column_range(main, key), {"type": "cell", "criteria": "<", "value": 1, "format": red}
            )
    elif sheet == TIME_SHARE:
        main = placements["time_share"]
        _highlight(ws, main, "disagrees", "Ja", red)
        _highlight(ws, main, "computed_in_line", "Nej", yellow)
    elif sheet == OVERVIEW:
        main = placements["overview"]
        _highlight(ws, main, "budget_in_line_computed", "Nej", yellow)
        _highlight(ws, main, "budget_on_track", "Nej", yellow)
    elif sheet == BUDGET:
        for key in ("budget", "budget_by_initiative", "budget_by_line"):
            ws.conditional_format(
                _column_range(placements[key], "used_share"),
                {"type": "data_bar", "bar_color": "#5B9BD5", "bar_solid": True, "min_type": "num", "min_value": 0,
                 "max_type": "num", "max_value": 1},
            )
    elif sheet == CONTROL:
        main = placements["control"]
        colors = {Status.REJECTED: red, Status.WARNINGS: yellow, Status.ACCEPTED: green, Status.SUPERSEDED: grey,
                  Status.SKIPPED: grey}
        for status, fill in colors.items():
            _highlight(ws, main, "status", status.value, fill)


CHART_SERIES = {
    PARTICIPANTS: (
        "Planerat och faktiskt antal deltagare (senaste rapporten per insats)",
        "0",
        [("planned_min", "Planerat från", "#BDD7EE"), ("planned_max", "Planerat till", "#5B9BD5"),
         ("actual", "Faktiskt", "#ED7D31")],
    ),
    BUDGET: (
        "Förbrukat av beviljad budget och förfluten tid, per insats (senaste rapporten)",
        "0%",
        [("used_share", "Förbrukat av beviljad budget", "#5B9BD5"),
         ("elapsed_share", "Förfluten tid av insatsens period", "#A5A5A5")],
    ),
}


def _chart_height(placement: Placement, series: int) -> int:
    return min(2400, max(300, 22 * series * len(placement.table.frame) + 130))


def _chart(wb: xlsxwriter.Workbook, ws: Worksheet, sheet: str, placements: dict[str, Placement], row: int,
           width_px: int) -> int:
    """A horizontal bar chart per insats below the tables; returns the last row it covers."""
    placement = placements[CHARTS[sheet]]
    title, axis_format, series = CHART_SERIES[sheet]
    first, last = placement.first_data_row, placement.last_data_row
    category = placement.col("initiative_name")
    chart = wb.add_chart({"type": "bar"})
    for key, name, color in series:
        col = placement.col(key)
        chart.add_series(
            {
                "name": name,
                "categories": [sheet, first, category, last, category],
                "values": [sheet, first, col, last, col],
                "fill": {"color": color},
                "gap": 60,
            }
        )
    chart.set_title({"name": title, "name_font": {"size": 11, "bold": True}})
    chart.set_x_axis({"num_format": axis_format, "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
    chart.set_y_axis({"reverse": True})
    chart.set_legend({"position": "bottom"})
    height = _chart_height(placement, len(series))
    chart.set_size({"width": max(600, min(width_px, 1100)), "height": height})
    ws.insert_chart(row, 0, chart, {"object_position": 3})
    return row + math.ceil(height / CHART_ROW_PIXELS)


def _print_setup(ws: Worksheet, sheet: str, placements: list[Placement], last_row: int, last_col: int,
                 title: str) -> None:
    ws.set_paper(9)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.set_header(f"&L&8{title}&R&8&A")
    ws.set_footer("&L&8&F&RSida &P av &N")
    ws.print_area(0, 0, last_row, last_col)
    freeze = LAYOUT[sheet].freeze_table
    if freeze:
        ws.repeat_rows(0, next(p for p in placements if p.table.key == freeze).header_row)


# --- the workbook ---------------------------------------------------------------------------------


def _named_cells(placements: dict[str, Placement]) -> dict[str, str]:
    """`{!name}` targets: the value cells of the Om table, absolute and sheet-qualified."""
    about = placements["about"]
    named = {}
    for offset, name in enumerate(about.table.frame["_name"].tolist()):
        cell = xl_rowcol_to_cell(about.first_data_row + offset, about.col("value"), True, True)
        named[name] = f"{quote_sheetname(about.table.sheet)}!{cell}"
    return named


def write_sheet(
    wb: xlsxwriter.Workbook,
    sheet: str,
    consolidation: Consolidation,
    placements: dict[str, Placement],
    chart_rows: dict[str, int],
    fmts: _Formats,
    renderer: _FormulaRenderer,
    info: MasterInfo,
) -> Worksheet:
    """One sheet: its tables, widths, conditional formats, chart, frozen header and print layout."""
    ws = wb.add_worksheet(sheet, worksheet_class=_Worksheet)
    mine = [placements[key] for key in LAYOUT[sheet].tables]
    writer = _SheetWriter(ws, fmts, renderer, info)
    for index, placement in enumerate(mine):
        link = None
        if index == 0 and sheet in JUMP_TO:
            target = placements[JUMP_TO[sheet]]
            link = (
                f"{quote_sheetname(sheet)}!A{target.title_row + 1}",
                f"→ Summor och diagram längre ned, från rad {target.title_row + 1}",
            )
        writer.table(placement, link)
    widths = _set_widths(ws, mine)
    _conditional_formats(ws, sheet, placements, fmts)
    last_row = max(p.last_row for p in mine)
    if sheet in chart_rows:
        last_row = _chart(wb, ws, sheet, placements, chart_rows[sheet], int(sum(widths.values()) * 7))
    layout = LAYOUT[sheet]
    if layout.freeze_table:
        ws.freeze_panes(placements[layout.freeze_table].first_data_row, layout.freeze_cols)
    last_col = max(p.last_col for p in mine)
    title = f"{consolidation.spec.organisation} – sammanställning av lägesrapporter"
    _print_setup(ws, sheet, mine, last_row, last_col, title)
    return ws


def _build(path: Path, consolidation: Consolidation, info: MasterInfo) -> None:
    wb = xlsxwriter.Workbook(
        str(path), {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    )
    try:
        wb.set_properties(
            {
                "title": "Sammanställning av lägesrapporter",
                "subject": f"{consolidation.spec.title} – {consolidation.spec.organisation}",
                "company": consolidation.spec.organisation,
                "comments": f"Formulärversion {consolidation.spec.version}. Skapad av lagesrapport_xl.",
                "created": consolidation.started.replace(microsecond=0),
            }
        )
        wb.set_calc_mode("auto")
        fmts = _Formats(wb)
        placements, chart_rows = _place(consolidation)
        renderer = _FormulaRenderer(placements, _named_cells(placements))
        for sheet in SHEETS:
            write_sheet(wb, sheet, consolidation, placements, chart_rows, fmts, renderer, info)
        wb.worksheets()[0].activate()
    finally:
        wb.close()


def write_master(consolidation: Consolidation, path: str | Path) -> MasterInfo:
    """Write the master workbook atomically: a failure leaves any existing file at `path` untouched."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(prefix=".tmp-master-", suffix=".xlsx", dir=target.parent)
    os.close(handle)
    tmp = Path(tmp_name)
    info = MasterInfo(target)
    try:
        _build(tmp, consolidation, info)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return info


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


__all__ = ["LAYOUT", "MasterInfo", "write_master", "write_sheet"]
