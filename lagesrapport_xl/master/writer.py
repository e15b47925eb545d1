"""Write the consolidated master workbook with XlsxWriter.

Each table of the Consolidation becomes an Excel table (filters, banded rows) on its sheet, tables
stacked top to bottom. Derived columns are written as formulas WITH the Python value as cached
result, so pandas, previewers and e-mail viewers show the numbers Excel shows. User text is always
written as text: an answer starting with "=" stays text. The file is written to a temporary file
beside the target and moved into place, so a failure never damages an old master.

The cells themselves (120 000 for 1 000 reports) are written by `_Worksheet`, row by row, straight
into a temporary file: XlsxWriter would keep every cell in memory until the end and spend about
11 µs on each. XlsxWriter still writes everything else: styles, tables, charts, links, printing.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import xlsxwriter
import xlsxwriter.workbook
from xlsxwriter.utility import quote_sheetname, xl_col_to_name, xl_rowcol_to_cell
from xlsxwriter.worksheet import Worksheet

from ..common.atomic import atomic_path
from ..common.memory import batch_gc
from ..common.xlsx_style import FONT, HEADER_FILL, Formats
from ..consolidate.batch import Consolidation
from ..consolidate.tables import (
    ABOUT,
    BUDGET,
    CONTROL,
    HISTORY,
    NOT_IN_REGISTER,
    OVERVIEW,
    PARTICIPANTS,
    SHEETS,
    TEXTS,
    TIME_SHARE,
    Column,
    Coverage,
    Status,
    Table,
)
from ..consolidate.tables import missing as _missing
from .split import HelperRows, OwnRows, SplitRows, split_rows

RowWriter = OwnRows | HelperRows | SplitRows

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
    optional: tuple[str, ...] = ()  # written below the others when the consolidation has them

    def keys(self, tables: dict[str, Any]) -> list[str]:
        """The sheet's tables, top to bottom, of those in `tables` (the optional ones may be absent)."""
        return [*self.tables, *(key for key in self.optional if key in tables)]


LAYOUT = {
    OVERVIEW: SheetLayout(("overview",), "overview", 2),
    PARTICIPANTS: SheetLayout(("participants", "participants_latest"), "participants", 3),
    BUDGET: SheetLayout(
        ("budget", "budget_by_initiative", "budget_by_line", "financing"), "budget", 4, (("budget_by_line", 3),)
    ),
    TIME_SHARE: SheetLayout(("time_share",), "time_share", 3),
    TEXTS: SheetLayout(("texts",), "texts", 3),
    HISTORY: SheetLayout(("history",), "history", 2),
    CONTROL: SheetLayout(("control_counts", "control"), "control", 2, optional=("register_counts", "register")),
    ABOUT: SheetLayout(("about", "about_files"), None),
}

# Where a sheet's first table points to the tables and chart further down (when that table is there).
JUMP_TO = {
    PARTICIPANTS: ("participants_latest", "Summor och diagram längre ned"),
    BUDGET: ("budget_by_initiative", "Summor och diagram längre ned"),
    CONTROL: ("register_counts", "Registret längre ned: vilka insatser som har rapporterat"),
}
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
    """What write_master wrote: the path and every formula, by (sheet, cell) → '=…' (unless the
    caller said keep_formulas=False: 10 000 reports make 300 000 of them)."""

    path: Path
    formulas: dict[tuple[str, str], str] = field(default_factory=dict)
    keep_formulas: bool = True

    def formula(self, sheet: str, row: int, col: int, formula: str) -> None:
        if self.keep_formulas:
            self.formulas[(sheet, xl_rowcol_to_cell(row, col))] = formula


def _jump(sheet: str, tables: dict[str, Any]) -> tuple[str, str] | None:
    """(target table, link text) of the sheet's link to a table further down, when it has one."""
    jump = JUMP_TO.get(sheet)
    return jump if jump is not None and jump[0] in tables else None


def _place(consolidation: Consolidation) -> tuple[dict[str, Placement], dict[str, int]]:
    """Every table's position, and the row where each sheet's chart goes (below its tables, so
    that it prints within the tables' width and never covers a table when filters hide rows)."""
    placements: dict[str, Placement] = {}
    chart_rows: dict[str, int] = {}
    for sheet in SHEETS:
        row = 0
        linked = _jump(sheet, consolidation.tables) is not None
        for key in LAYOUT[sheet].keys(consolidation.tables):
            table = consolidation.tables[key]
            header = row + 1 + (1 if table.note or linked and key == LAYOUT[sheet].tables[0] else 0)
            first_col = dict(LAYOUT[sheet].first_cols).get(key, 0)
            placement = Placement(table, row, header, max(1, len(table.rows)), first_col)
            placements[key] = placement
            row = placement.last_row + 3
        if sheet in CHARTS:
            chart_rows[sheet] = row
    return placements, chart_rows


# --- formulas -----------------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
_FUNCTION = re.compile(r"[A-Z][A-Z0-9._]*\(")


class _FormulaRenderer:
    """Turns a column's formula template into the formula of one cell (see tables.Column).

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
        """Literal strings, and (column letters, other placement, ref) triples for row-dependent cells."""
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
                    parts.append((xl_col_to_name(placement.col(column_key)), placement, ""))
                    continue
                other = self.placements[table_key]
                col = other.col(column_key)
                if not at:  # a whole column of another table
                    first = xl_rowcol_to_cell(other.first_data_row, col, True, True)
                    last = xl_rowcol_to_cell(other.last_data_row, col, True, True)
                    parts.append(f"{self._prefix(other, sheet)}{first}:{last}")
                else:  # one cell of another table: the same row, or the row this row names
                    parts.append((self._prefix(other, sheet) + xl_col_to_name(col), other, ref or "="))
        return parts

    def _parts(self, template: str, placement: Placement) -> list[Any]:
        """The template compiled for this table, once."""
        key = (template, placement.table.key)
        parts = self._compiled.get(key)
        if parts is None:
            parts = self._compiled[key] = self._compile(template, placement)
        return parts

    def row_pattern(self, template: str, placement: Placement) -> str | None:
        """The formulas of a template whose every row-dependent part is a cell of the row itself,
        as a str.format pattern of the row number (the common case: no parts walked per row).
        None for a template that refers to other rows or tables (render handles it)."""
        out = ["="]
        for part in self._parts(template, placement):
            if part.__class__ is str:
                out.append(part.replace("{", "{{").replace("}", "}}"))
            elif part[2] == "" and part[1] is placement:
                out.append(part[0] + "{0}")
            else:
                return None
        return "".join(out)

    def render(self, template: str, placement: Placement, row: int | None, values: Any = None) -> str | None:
        """The formula for data row `row` of `placement` (None: the total row). `values(key)` gives
        this row's hidden references. None when a row reference is missing (e.g. no report 3 for
        this insats): the cell stays blank."""
        out = ["="]
        for part in self._parts(template, placement):
            if part.__class__ is str:
                out.append(part)
                continue
            letters, target, ref = part
            if not ref:
                cell_row = target.total_row if row is None else target.first_data_row + row
            else:
                index = row if ref == "=" else _as_index(values(ref) if values is not None else None)
                if index is None:
                    return None
                cell_row = target.first_data_row + index
            out.append(f"{letters}{cell_row + 1}")
        return "".join(out)


def _as_index(value: Any) -> int | None:
    if _missing(value):
        return None
    return int(value)


def _cached(value: Any) -> Any:
    """The cached result stored with a formula: "" for an empty result, plain Python numbers."""
    if _missing(value):
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return value


# --- the worksheet: cells written as XML, row by row ---------------------------------------------------

_ERROR_VALUES = frozenset({"#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!"})
_EXCEL_ESCAPE = re.compile(r"(_x[0-9a-fA-F]{4}_)")  # text that reads like Excel's own escape …
_CONTROL = re.compile(r"([\x00-\x08\x0b-\x1f])")  # … and the characters Excel writes that way
_CONTROL_BYTES = bytes([*range(0x00, 0x09), *range(0x0B, 0x20)])  # as _CONTROL


def _needs_escaping(text: str) -> bool:
    """Whether _escape_text or XML escaping would change `text`: substring tests and one
    bytes.translate, four times as fast as a regular expression over 14 MB of free text."""
    if "&" in text or "<" in text or ">" in text or "_x" in text or "\ufffe" in text or "\uffff" in text:
        return True
    encoded = text.encode("utf-8", "surrogatepass")
    return len(encoded.translate(None, _CONTROL_BYTES)) != len(encoded)


def _escape_text(text: str) -> str:
    """A text as XlsxWriter stores it: control characters as _xHHHH_ and a literal _xHHHH_ kept
    literal (_x005F_xHHHH_). The same substitutions, skipped when they cannot apply."""
    if "_x" in text:
        text = _EXCEL_ESCAPE.sub(r"_x005F\1", text)
    if _CONTROL.search(text):
        text = _CONTROL.sub(lambda match: f"_x{ord(match.group(1)):04X}_", text)
    if "\ufffe" in text or "\uffff" in text:
        text = text.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")
    return text


_COLUMN_NAMES: list[str] = []


def _column_name(col: int) -> str:
    """'A', 'B' … 'AA' for a 0-based column (every cell asks: each name is made once)."""
    while len(_COLUMN_NAMES) <= col:
        _COLUMN_NAMES.append(xl_col_to_name(len(_COLUMN_NAMES)))
    return _COLUMN_NAMES[col]


class _Worksheet(Worksheet):
    """XlsxWriter's worksheet, with the cells serialised here instead of kept in memory.

    The `*_xml` methods give a cell's XML exactly as XlsxWriter writes it (tests compare the two);
    `put` and `put_row` collect them row by row, top to bottom, into a temporary file, and
    `_write_sheet_data` splices that file into the sheet when the workbook is closed. Strings are
    inline strings (as in XlsxWriter's constant_memory mode) and always escaped, so no table of
    10 000 reports' answers is kept. What XlsxWriter writes itself (tables, links, row heights,
    charts) works as usual; the header and total cells add_table stores are ignored: we write them.
    """

    _unchanged: dict[frozenset[str], bool] = {}

    def _initialize(self, init_data: dict[str, Any]) -> None:
        super()._initialize(init_data)
        self._rows = tempfile.TemporaryFile("w+", encoding="utf-8", dir=self.tmpdir or None)
        self._row: int | None = None  # the row being collected
        self._cells: list[tuple[int, str]] = []
        self._xf: dict[int, int] = {}  # id(format) → its XF index
        self.block_extents: list[tuple[int, int, int]] | None = None  # (row, first, last col) of rows written aside
        # Places left for rows written elsewhere (master_split): (byte offset in the rows file, the
        # function that gives the file of those rows at close); and, once taken, those files.
        self.blocks: list[tuple[int, Callable[[], str]]] = []
        self._taken: list[tuple[int, str]] = []
        self.chart_data: dict[tuple[int, int], Any] = {}  # cells a chart draws, for its cached values

    # -- cells: the XML XlsxWriter writes for each kind of cell ------------------------------------

    def style(self, fmt: Any) -> str:
        """A cell's format attribute (' s="7"'), or '' for none."""
        if fmt is None:
            return ""
        xf = self._xf.get(id(fmt))
        if xf is None:
            xf = self._xf[id(fmt)] = fmt._get_xf_index()
        return f' s="{xf}"'

    def string_xml(self, ref: str, style: str, text: str) -> str:
        """An inline string, escaped as XlsxWriter escapes it (control characters as _xHHHH_)."""
        if _needs_escaping(text):  # most texts need none (XML escaping leaves spaces as they are)
            text = self._escape_data(_escape_text(text))
        space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
        return f'<c r="{ref}"{style} t="inlineStr"><is><t{space}>{text}</t></is></c>'

    def shared_string_xml(self, ref: str, style: str, text: str) -> str:
        """A string XlsxWriter has put in its shared-string table already, and counted there (a
        table's headers and total label by add_table, a link's text by write_url): the cell refers
        to that entry, so the table has no unused entry and its counts stay right."""
        return f'<c r="{ref}"{style} t="s"><v>{self.str_table.string_table[text]}</v></c>'

    @staticmethod
    def number_xml(ref: str, style: str, number: float) -> str:
        if math.isnan(number) or math.isinf(number):
            raise TypeError("NAN/INF not supported in write_number()")  # as XlsxWriter: never silently
        return f'<c r="{ref}"{style}><v>{number:.16G}</v></c>'

    def formula_xml(self, ref: str, style: str, formula: str, value: Any = 0, plain: bool | None = None) -> str:
        """A formula ('=…') with its cached result, typed as XlsxWriter types it. `plain`: the
        caller knows already whether _plain_functions holds for this formula."""
        kind = ""
        if isinstance(value, bool):
            kind, value = ' t="b"', int(value)
        elif isinstance(value, str):
            if value:
                kind = ' t="e"' if value in _ERROR_VALUES else ' t="str"'
            value = self._escape_data(value)
        if plain is None:
            plain = self._plain_functions(formula)
        if plain:  # XlsxWriter would change nothing but the leading "="
            formula = formula[1:] if formula.startswith("=") else formula
        else:
            formula = self._prepare_formula(formula)
        return f'<c r="{ref}"{style}{kind}><f>{self._escape_data(formula)}</f><v>{value}</v></c>'

    # -- putting cells into rows ---------------------------------------------------------------

    def put(self, row: int, col: int, xml: str) -> None:
        """One cell (its XML from the methods above); rows are written top to bottom."""
        if row != self._row:
            self._start_row(row)
        self._cells.append((col, xml))

    def put_row(self, row: int, cells: list[tuple[int, str]]) -> None:
        """A whole row's cells at once, (column, XML) in column order: the fast path for tables."""
        self._start_row(row)
        self._cells = cells

    def put_string(self, row: int, col: int, text: str, fmt: Any = None) -> None:
        self.put(row, col, self.string_xml(f"{_column_name(col)}{row + 1}", self.style(fmt), text))

    def put_shared_string(self, row: int, col: int, text: str, fmt: Any = None) -> None:
        self.put(row, col, self.shared_string_xml(f"{_column_name(col)}{row + 1}", self.style(fmt), text))

    def put_number(self, row: int, col: int, number: float, fmt: Any = None) -> None:
        self.put(row, col, self.number_xml(f"{_column_name(col)}{row + 1}", self.style(fmt), number))

    def put_formula(self, row: int, col: int, formula: str, fmt: Any = None, value: Any = 0) -> None:
        self.put(row, col, self.formula_xml(f"{_column_name(col)}{row + 1}", self.style(fmt), formula, value))

    # -- rows -----------------------------------------------------------------------------------

    def _start_row(self, row: int) -> None:
        if self._row is not None:
            if row <= self._row:
                raise ValueError(f"rows are written top to bottom: row {row + 1} after row {self._row + 1}")
            self._flush_row()
        self._row = row
        self._cells = []

    def _flush_row(self) -> None:
        row, cells = self._row, self._cells
        if row is None or not cells:
            return
        cells.sort(key=lambda cell: cell[0])  # stable, and already in order almost always
        self._check_dimensions(row, cells[0][0])
        self._check_dimensions(row, cells[-1][0])
        if self.block_extents is not None:  # what the process that splices these rows in must know
            self.block_extents.append((row, cells[0][0], cells[-1][0]))
        self._rows.write(f"{self._row_start(row)}{''.join([xml for _, xml in cells])}</row>")
        self._cells = []

    def _row_start(self, row: int) -> str:
        """<row>, with the height set_row gave it (the attributes XlsxWriter writes)."""
        info = self.row_info.get(row)
        if info is None:
            return f'<row r="{row + 1}">'
        height = self.default_row_height if info.height is None else info.height
        custom = height != self.original_row_height or height != self.default_row_height
        attributes = f' r="{row + 1}"'
        if custom:
            attributes += f' ht="{height * 0.75:.16g}"'
        if info.hidden:
            attributes += ' hidden="1"'
        if custom:
            attributes += ' customHeight="1"'
        return f"<row{attributes}>"

    def _write_dimension(self) -> None:
        """At close, before the sheet's used range is written: the last row is in it too, and so are
        the rows written elsewhere, taken in now."""
        self._flush_row()
        self._taken = [(offset, take()) for offset, take in self.blocks]
        super()._write_dimension()

    def _write_sheet_data(self) -> None:
        """At close: the rows collected in the temporary file, in place of XlsxWriter's own. Both
        files are UTF-8, so the bytes are copied as they are (not decoded and encoded again)."""
        self._flush_row()
        self._rows.flush()
        rows = self._rows.buffer
        if not rows.tell() and not any(os.path.getsize(path) for _, path in self._taken):
            self._xml_empty_tag("sheetData")
        else:
            self.fh.write("<sheetData>")
            self.fh.flush()  # a file XlsxWriter opened as UTF-8 text (this workbook is never in_memory)
            out = self.fh.buffer
            rows.seek(0)
            done = 0
            for offset, path in self._taken:  # the rows before each place, then the rows for it
                _copy(rows, out, offset - done)
                done = offset
                with open(path, "rb") as block:
                    shutil.copyfileobj(block, out, _COPY_CHUNK)
            shutil.copyfileobj(rows, out, _COPY_CHUNK)
            self.fh.write("</sheetData>")
        self._rows.close()

    def _get_range_data(self, row_start: int, col_start: int, row_end: int, col_end: int) -> list[Any]:
        """A chart's cached values, from the cells the writer kept for it (see chart_data)."""
        return [
            self.chart_data.get((row, col))
            for row in range(row_start, row_end + 1)
            for col in range(col_start, col_end + 1)
        ]

    # -- formulas -------------------------------------------------------------------------------

    def _plain_functions(self, formula: str) -> bool:
        """Whether XlsxWriter's formula preparation changes nothing but the leading "=" here.

        It rewrites "future functions" (XLOOKUP → _xlfn.XLOOKUP …) with ~30 regular expressions
        per formula. It is asked once per distinct set of function names; when it changes nothing
        (ours: IF, SUM, SUMPRODUCT …), later formulas with the same set skip it."""
        if self.use_future_functions or formula.startswith("{"):
            return False
        names = frozenset(_FUNCTION.findall(formula))
        unchanged = self._unchanged.get(names)
        if unchanged is None:
            stripped = formula[1:] if formula.startswith("=") else formula
            unchanged = self._unchanged[names] = super()._prepare_formula(formula) == stripped
        return unchanged

    def _prepare_formula(self, formula, expand_future_functions=False):  # noqa: ANN001
        """XlsxWriter's own preparation (add_table calls it), skipped when it would change nothing."""
        if not expand_future_functions and self._plain_functions(formula):
            return formula[1:] if formula.startswith("=") else formula
        return super()._prepare_formula(formula, expand_future_functions)


_COPY_CHUNK = 1 << 16  # 64 kB: a megabyte at a time cost the peak memory of a batch a megabyte


def _copy(source: Any, target: Any, size: int) -> None:
    """`size` bytes from one binary file to another, a chunk at a time."""
    while size > 0:
        piece = source.read(min(size, _COPY_CHUNK))
        if not piece:
            raise OSError("the sheet's rows file is shorter than written")
        target.write(piece)
        size -= len(piece)


def _chart_value(written: Any, formula: bool) -> Any:
    """A cell as XlsxWriter gives it to a chart's cache: a number (or date) as text with 16
    digits, a formula's cached value as it is, text as text, no cell as None."""
    if formula or written is None or isinstance(written, str):
        return written
    return f"{written:.16g}"


# --- formats --------------------------------------------------------------------------------------


class _Formats(Formats):
    """The master's cell formats: one per kind of value (bold or not), titles, notes, links, fills."""

    def __init__(self, wb: xlsxwriter.Workbook):
        super().__init__(wb, {"font_name": FONT, "font_size": 10, "valign": "top"})
        self.title = wb.add_format({**self.base, "bold": True, "font_size": 13})
        self.note = wb.add_format({**self.base, "italic": True, "font_color": "#404040"})
        self.link = wb.add_format({**self.base, "italic": True, "font_color": "#0563C1", "underline": 1})
        self.header = wb.add_format(
            {**self.base, "bold": True, "text_wrap": True, "bg_color": HEADER_FILL, "border": 1, "valign": "bottom"}
        )
        self.fills = {
            color: wb.add_format({"bg_color": color}) for color in (RED_FILL, YELLOW_FILL, GREEN_FILL, GREY_FILL)
        }
        # Every format gets its XF index now, in this order, whatever is written first: a helper
        # process that skips some tables (master_split) must number the formats alike.
        for kind in ("text", "long_text", "text_wrap", *NUMBER_FORMATS, "flag"):
            for bold in (False, True):
                self.cell(kind, bold)
        for fmt in (self.title, self.note, self.link, self.header, *self.made()):
            fmt._get_xf_index()

    def cell(self, kind: str, bold: bool = False):
        options: dict[str, Any] = {"bold": bold}
        if kind in NUMBER_FORMATS:
            options["num_format"] = NUMBER_FORMATS[kind]
        if kind in ("long_text", "text_wrap", "text"):
            options["text_wrap"] = True
        return self.once((kind, bold), options)


# --- writing cells --------------------------------------------------------------------------------


NUMBER_KINDS = frozenset({"int", "days", "kr", "pct"})
DATE_KINDS = frozenset({"date", "datetime"})


def _value_cell(ws: _Worksheet, ref: str, style: str, value: Any, kind: str) -> tuple[str, Any] | None:
    """A value as its own cell type: (its XML, the value as written, a date as its serial number).
    Text always as text: user text is data, never code. None for a missing value: nothing is
    written (the table style and column format cover the empty cell)."""
    if _missing(value):
        return None
    if kind in NUMBER_KINDS and isinstance(value, (int, float)) and not isinstance(value, bool):
        return ws.number_xml(ref, style, value), value
    if kind in DATE_KINDS and isinstance(value, (dt.date, dt.datetime)):
        stamp = value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())
        number = ws._convert_date_time(stamp)
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


def _write_value(ws: _Worksheet, row: int, col: int, value: Any, kind: str, fmt: Any) -> None:
    """One value in one cell (see _value_cell)."""
    cell = _value_cell(ws, f"{_column_name(col)}{row + 1}", ws.style(fmt), value, kind)
    if cell is not None:
        ws.put(row, col, cell[0])


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


class _SheetWriter:
    """Writes the tables of one sheet, top to bottom; records every formula it writes."""

    def __init__(
        self, ws: _Worksheet, fmts: _Formats, renderer: _FormulaRenderer, info: MasterInfo, rows: RowWriter
    ):
        self.ws = ws
        self.rows = rows  # who writes the data rows: this process, or a helper (master_split)
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
        heights = _row_heights(placement, widths)
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
            _ColumnPlan(column, col, _column_name(col), table.column_index(column.key),
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
                    written = _cached(value)
                    unchanged = plain.get(plan.col)
                    if unchanged is None:  # the function names come from the template: alike in every row
                        unchanged = plain[plan.col] = ws._plain_functions(formula)
                    cells.append((plan.col, ws.formula_xml(ref, plan.style, formula, written, unchanged)))
                    if keep is not None:
                        keep(self.sheet, row, plan.col, formula)
                else:
                    if column.kind == "auto":  # the Om table: each row says its own kind
                        kind = values[kind_at] if kind_at is not None else None
                        kind = kind if isinstance(kind, str) and kind else "text"
                        style = ws.style(self.fmts.cell("text_wrap" if kind == "text" else kind))
                        cell = _value_cell(ws, ref, style, value, kind)
                    else:
                        cell = _value_cell(ws, ref, plan.style, value, column.kind)
                    if cell is None:
                        continue
                    cells.append((plan.col, cell[0]))
                    written = cell[1]
                if chart:
                    ws.chart_data[(row, plan.col)] = _chart_value(written, column.formula is not None)
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
                    spec["total_value"] = _cached(table.totals.get(column.key))
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


# --- layout details: widths, heights, conditional formats, charts, printing ---------------------


def _text_length(values: list[Any], enough: int) -> int:
    """The longest line of the texts among the first 2 000 values, or at least `enough` as soon as
    one line is that long (a wider column is not made)."""
    longest = 0
    for value in values[:2000]:
        if isinstance(value, str) and len(value) > longest:  # a shorter text has no longer line
            longest = max(longest, max((len(line) for line in value.splitlines()), default=0))
            if longest >= enough:
                break
    return longest


def _column_width(column: Column, table: Table) -> float:
    header_word = max((len(word) for word in column.header.split()), default=6) + 2
    if column.kind in BASE_WIDTHS:
        return max(BASE_WIDTHS[column.kind], header_word)
    if column.kind == "auto":
        return MAX_TEXT_WIDTH
    content = _text_length(table.values(column.key), MAX_TEXT_WIDTH - 2) + 2 if column.key in table.names else 8
    return max(8, header_word, min(content, MAX_TEXT_WIDTH), min(len(column.header) / 3, MAX_TEXT_WIDTH))


def _lines(text: str, width: float) -> int:
    """Lines a wrapped text needs in a column (Arial 10 fits about 1.3 characters per width unit)."""
    per_line = max(1, int(width * 1.3))
    return sum(max(1, math.ceil(len(part) / per_line)) for part in text.splitlines() or [""])


def _column_widths(placements: list[Placement]) -> dict[int, float]:
    """Column widths of a sheet, from its tables' headers and contents."""
    widths: dict[int, float] = {}
    for placement in placements:
        for column in placement.table.columns:
            col = placement.col(column.key)
            widths[col] = max(widths.get(col, 0), _column_width(column, placement.table))
    return widths


def _row_heights(placement: Placement, widths: dict[int, float]) -> dict[int, float]:
    """Heights of a table's header row and of its rows with long answers, by sheet row.

    Heights are set explicitly: Excel fits rows with wrapped text itself, LibreOffice not always.
    """
    table = placement.table
    lines = max(_lines(c.header, widths[placement.col(c.key)]) for c in table.columns)
    heights = {placement.header_row: POINTS_PER_LINE * lines + 4}
    wrapped = [
        (table.names.index(c.key), widths[placement.col(c.key)])
        for c in table.columns
        if c.kind in ("long_text", "auto") and c.key in table.names
    ]
    if not wrapped:
        return heights
    for offset, row in enumerate(table.rows):
        lines = max((_lines(row[at], width) for at, width in wrapped if isinstance(row[at], str)), default=1)
        if lines > 1:
            heights[placement.first_data_row + offset] = min(MAX_ROW_HEIGHT, POINTS_PER_LINE * lines + 3)
    return heights


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
        register = placements.get("register")
        if register is not None:
            states = {Coverage.MISSING.value: red, Coverage.REJECTED.value: yellow, Coverage.RECEIVED.value: green,
                      NOT_IN_REGISTER: grey}
            for state, fill in states.items():
                _highlight(ws, register, "state", state, fill)


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
    return min(2400, max(300, 22 * series * len(placement.table.rows) + 130))


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
    for offset, name in enumerate(about.table.values("_name")):
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
    rows: RowWriter | None = None,
) -> Worksheet:
    """One sheet: its tables, widths, conditional formats, chart, frozen header and print layout.
    `rows` writes the tables' data rows (default: here; see master_split)."""
    rows = rows or OwnRows()
    ws = wb.add_worksheet(sheet, worksheet_class=_Worksheet)
    mine = [placements[key] for key in LAYOUT[sheet].keys(placements)]
    widths = _column_widths(mine)
    for col, width in widths.items():
        ws.set_column(col, col, width)
    writer = _SheetWriter(ws, fmts, renderer, info, rows)
    jump = _jump(sheet, placements)
    for index, placement in enumerate(mine):
        link = None
        if index == 0 and jump is not None:
            row = placements[jump[0]].title_row + 1
            link = (f"{quote_sheetname(sheet)}!A{row}", f"→ {jump[1]}, från rad {row}")
        writer.table(placement, widths, link, chart=CHARTS.get(sheet) == placement.table.key)
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


def _open_workbook(path: str, consolidation: Consolidation) -> xlsxwriter.Workbook:
    wb = xlsxwriter.Workbook(path, {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False})
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
    return wb


def _write_sheets(
    wb: xlsxwriter.Workbook,
    consolidation: Consolidation,
    info: MasterInfo,
    placements: dict[str, Placement],
    chart_rows: dict[str, int],
    rows: RowWriter,
) -> None:
    fmts = _Formats(wb)
    renderer = _FormulaRenderer(placements, _named_cells(placements))
    for sheet in SHEETS:
        write_sheet(wb, sheet, consolidation, placements, chart_rows, fmts, renderer, info, rows)
    wb.worksheets()[0].activate()


def _row_costs(placements: dict[str, Placement]) -> list[tuple[str, int, bool]]:
    """(table, cost of its rows, whether they must be written here) in writing order; a long text
    costs about three cells. A chart's table stays here (the chart takes the values it writes), and
    so does the Om table (each row makes its own format)."""
    return [
        (key, placement.rows * sum(3 if c.kind == "long_text" else 1 for c in placement.table.columns),
         CHARTS.get(placement.table.sheet) == key or any(c.kind == "auto" for c in placement.table.columns))
        for sheet in SHEETS
        for key in LAYOUT[sheet].keys(placements)
        for placement in [placements[key]]
    ]


def _build(path: Path, consolidation: Consolidation, info: MasterInfo, helper: bool | None) -> None:
    placements, chart_rows = _place(consolidation)

    def in_helper(rows: HelperRows) -> None:  # the same writing, in the forked helper (never closed)
        helper_info = MasterInfo(info.path, keep_formulas=info.keep_formulas)
        _write_sheets(_open_workbook(os.devnull, consolidation), consolidation, helper_info, placements, chart_rows,
                      rows)

    rows = split_rows(_row_costs(placements), in_helper, helper)
    wb = _open_workbook(str(path), consolidation)
    try:
        _write_sheets(wb, consolidation, info, placements, chart_rows, rows)
    finally:
        try:
            with _quick_zip():
                wb.close()  # the sheets take in the helper's rows here
        finally:
            rows.finish()


@contextmanager
def _quick_zip() -> Iterator[None]:
    """XlsxWriter deflates at zlib's default level 6. The master is 20 MB of XML per 1 000 reports,
    most of it free text: level 1 takes a third of the time (0.06 s, not 0.16 s) for a file a
    quarter larger (1.5 MB, not 1.2 MB). XlsxWriter has no option for it, so its ZipFile is given
    the level while this workbook is written."""
    original = xlsxwriter.workbook.ZipFile
    xlsxwriter.workbook.ZipFile = functools.partial(original, compresslevel=1)
    try:
        yield
    finally:
        xlsxwriter.workbook.ZipFile = original


def write_master(
    consolidation: Consolidation, path: str | Path, *, keep_formulas: bool = True, helper: bool | None = None
) -> MasterInfo:
    """Write the master workbook atomically: a failure leaves any existing file at `path` untouched.

    `keep_formulas=False`: the MasterInfo lists no formulas (the command line needs none of them).
    `helper`: whether a forked process writes half the data rows (master_split; None: decided by
    the master's size and the machine, True: wherever fork is safe, False: never). The file is
    the same either way.
    """
    info = MasterInfo(Path(path), keep_formulas=keep_formulas)
    with atomic_path(path) as tmp, batch_gc():  # ~200 000 cells' short-lived objects: no scans
        _build(tmp, consolidation, info, helper)
    return info


__all__ = ["LAYOUT", "MasterInfo", "write_master", "write_sheet"]
