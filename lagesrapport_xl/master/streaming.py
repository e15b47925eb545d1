"""XlsxWriter's worksheet with the cells streamed to a file, row by row, instead of kept in memory.

XlsxWriter keeps every cell until the workbook closes and spends about 11 µs on each; the master
has 120 000 per 1 000 reports. StreamingWorksheet writes each cell's XML exactly as XlsxWriter
would (tests/test_master_cells.py compares the two) into a temporary file and splices it into the
sheet at close. Everything else — styles, tables, charts, links, printing — XlsxWriter writes.

It overrides and calls XlsxWriter internals (_initialize, _write_sheet_data, _write_dimension,
_prepare_formula, _get_range_data, row_info, str_table …): pyproject pins XlsxWriter>=3.2,<3.4 and
tests/test_master_cells.py guards them. It knows nothing of the master's tables.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

from xlsxwriter.utility import xl_col_to_name, xl_range
from xlsxwriter.worksheet import Worksheet

_FUNCTION = re.compile(r"[A-Z][A-Z0-9._]*\(")

_ERROR_VALUES = frozenset({"#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!"})
_EXCEL_ESCAPE = re.compile(r"(_x[0-9a-fA-F]{4}_)")  # text that reads like Excel's own escape …
_CONTROL = re.compile(r"([\x00-\x08\x0b-\x1f])")  # … and the characters Excel writes that way
_CONTROL_BYTES = bytes([*range(0x00, 0x09), *range(0x0B, 0x20)])  # as _CONTROL


ESCAPED = re.compile("[&<>\x00-\x08\x0b-\x1f\ufffe\uffff]|_x")  # what needs_escaping looks for
_UNSAFE_BYTES = b"&<>" + _CONTROL_BYTES  # the characters of ESCAPED's class below 0x80, as bytes


def needs_escaping(text: str) -> bool:
    """Whether escape_text or XML escaping would change `text`. A short text: the expression, faster
    than several passes. A long one (the free texts: 86 million characters for 6 400 reports) in
    three passes at memory speed: "_" (a single character is found by memchr, "_x" by a search
    five times slower, and few texts have a "_"), then its bytes without &, < and > and the control
    characters, which are single bytes below 0x80 in Latin-1 and in UTF-8 alike; Latin-1 is
    tried first, a copy for most texts where UTF-8 is a transcoding. 0.07 s instead of 0.20 s."""
    if len(text) < 200:
        return ESCAPED.search(text) is not None
    if ("_" in text and "_x" in text) or "\ufffe" in text or "\uffff" in text:
        return True
    try:
        encoded = text.encode("latin-1")
    except UnicodeEncodeError:
        encoded = text.encode("utf-8", "surrogatepass")
    return len(encoded.translate(None, _UNSAFE_BYTES)) != len(encoded)


def escape_text(text: str) -> str:
    """A text as XlsxWriter stores it: control characters as _xHHHH_ and a literal _xHHHH_ kept
    literal (_x005F_xHHHH_). The same substitutions, skipped when they cannot apply."""
    if "_x" in text:
        text = _EXCEL_ESCAPE.sub(r"_x005F\1", text)
    if _CONTROL.search(text):
        text = _CONTROL.sub(lambda match: f"_x{ord(match.group(1)):04X}_", text)
    if "\ufffe" in text or "\uffff" in text:
        text = text.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")
    return text


def format_attribute(fmt: Any) -> str:
    """A cell's format attribute (' s="7"': the format's XF index), or '' for none."""
    return "" if fmt is None else f' s="{fmt._get_xf_index()}"'


_COLUMN_NAMES: list[str] = []


def column_name(col: int) -> str:
    """'A', 'B' … 'AA' for a 0-based column (every cell asks: each name is made once)."""
    while len(_COLUMN_NAMES) <= col:
        _COLUMN_NAMES.append(xl_col_to_name(len(_COLUMN_NAMES)))
    return _COLUMN_NAMES[col]


class _Unkept(dict):
    """A record that keeps nothing: add_table notes every cell of a table (a million for 32 000
    reports, 150 MB) only to refuse a table that overlaps another, which the master's layout never
    has (placement.py). Storing is dict.pop with the value as default: no entry, no error."""

    __setitem__ = dict.pop  # type: ignore[assignment]


class StreamingWorksheet(Worksheet):
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
        self.table_cells = _Unkept()
        self._rows = tempfile.TemporaryFile("w+", encoding="utf-8", dir=self.tmpdir or None)
        self._row: int | None = None  # the row being collected
        self._cells: list[tuple[int, str]] = []
        self._in_order = False  # the row's cells came in column order (put_row)
        self._parts: tuple[list[str], list[int]] | None = None  # the row's cells as put_parts gave them
        self._dates: dict[Any, float] = {}  # date_number's
        self._xf: dict[int, str] = {}  # id(format) → its format attribute
        self.block_extents: list[tuple[int, int, int]] | None = None  # (row, first, last col) of rows written aside
        # Places left for rows written elsewhere (split.py): (byte offset in the rows file, the
        # function that gives the file of those rows at close); and, once taken, those files.
        self.blocks: list[tuple[int, Callable[[], str]]] = []
        self._taken: list[tuple[int, str]] = []
        self.chart_data: dict[tuple[int, int], Any] = {}  # cells a chart draws, for its cached values
        self.splices: Any = None  # zipping.Splices while the workbook closes (set by its packager)

    def add_table(self, first_row: int, first_col: int, last_row: int, last_col: int,
                  options: dict[str, Any] | None = None) -> int:
        """XlsxWriter's add_table, given a table of a single data row and then told the real ranges.

        add_table visits every cell of the range to refuse an overlap (which the master's layout
        never has, placement.py) — 800 000 cells for 6 400 reports, a quarter of a second — and of
        the range it keeps only its text: the table's ref, its autofilter's and the filter cells'.
        The header and total cells it writes are ignored (see the class) and the used range is
        the rows'. So those texts are set to what add_table would have made of the whole range."""
        total = bool(options and options.get("total_row"))
        header = not options or options.get("header_row", True)
        short = first_row + (1 if header else 0) + (1 if total else 0)  # one data row
        if last_row <= short or first_row > last_row or first_col > last_col:
            return super().add_table(first_row, first_col, last_row, last_col, options)
        if self._check_dimensions(last_row, last_col, True, True):
            return -1
        done = super().add_table(first_row, first_col, short, last_col, options)
        if done != 0:
            return done
        table = self.tables[-1]
        whole = xl_range(first_row, first_col, last_row, last_col)
        table["range"] = whole
        table["a_range"] = xl_range(first_row, first_col, last_row - 1 if total else last_row, last_col)
        if table.get("autofilter"):
            table["autofilter"] = table["a_range"]
        for col in range(first_col, last_col + 1):
            if self.filter_cells.get((first_row, col)) == ("table", xl_range(first_row, first_col, short, last_col)):
                self.filter_cells[(first_row, col)] = ("table", whole)
        return 0

    # -- cells: the XML XlsxWriter writes for each kind of cell ------------------------------------

    def style(self, fmt: Any) -> str:
        """A cell's format attribute (' s="7"'), or '' for none (remembered per format)."""
        style = self._xf.get(id(fmt))
        if style is None:
            style = self._xf[id(fmt)] = format_attribute(fmt)
        return style

    def string_xml(self, ref: str, style: str, text: str) -> str:
        """An inline string, escaped as XlsxWriter escapes it (control characters as _xHHHH_)."""
        if needs_escaping(text):  # most texts need none (XML escaping leaves spaces as they are)
            text = self._escape_data(escape_text(text))
        space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
        return f'<c r="{ref}"{style} t="inlineStr"><is><t{space}>{text}</t></is></c>'

    def shared_string_xml(self, ref: str, style: str, text: str) -> str:
        """A string XlsxWriter has put in its shared-string table already, and counted there (a
        table's headers and total label by add_table, a link's text by write_url): the cell refers
        to that entry, so the table has no unused entry and its counts stay right."""
        return f'<c r="{ref}"{style} t="s"><v>{self.str_table.string_table[text]}</v></c>'

    def date_number(self, value: dt.date | dt.datetime) -> float:
        """A date's or time's serial number, as XlsxWriter converts it (each value once: the same
        dates recur in every row of a table)."""
        number = self._dates.get(value)
        if number is None:
            stamp = value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())
            number = self._dates[value] = self._convert_date_time(stamp)
        return number

    @staticmethod
    def number_xml(ref: str, style: str, number: float) -> str:
        if math.isnan(number) or math.isinf(number):
            raise TypeError("NAN/INF not supported in write_number()")  # as XlsxWriter: never silently
        return f'<c r="{ref}"{style}><v>{number:.16G}</v></c>'

    def formula_xml(self, ref: str, style: str, formula: str, value: Any = 0, plain: bool | None = None) -> str:
        """A formula ('=…') with its cached result, typed as XlsxWriter types it. `plain`: the
        caller knows already whether plain_functions holds for this formula."""
        return self.formula_cell_xml(ref, style, self.formula_body(formula, plain), value)

    def formula_body(self, formula: str, plain: bool | None = None) -> str:
        """A formula as the cell's <f> holds it: prepared as XlsxWriter prepares it, escaped."""
        if plain is None:
            plain = self.plain_functions(formula)
        if plain:  # XlsxWriter would change nothing but the leading "="
            formula = formula[1:] if formula.startswith("=") else formula
        else:
            formula = self._prepare_formula(formula)
        return self._escape_data(formula)

    def formula_cell_xml(self, ref: str, style: str, body: str, value: Any = 0) -> str:
        """A formula cell from its <f> (formula_body) and its cached result, typed as XlsxWriter
        types it."""
        kind = ""
        if isinstance(value, bool):
            kind, value = ' t="b"', int(value)
        elif isinstance(value, str):
            if value:
                kind = ' t="e"' if value in _ERROR_VALUES else ' t="str"'
            value = self._escape_data(value)
        return f'<c r="{ref}"{style}{kind}><f>{body}</f><v>{value}</v></c>'

    # -- putting cells into rows ---------------------------------------------------------------

    def put(self, row: int, col: int, xml: str) -> None:
        """One cell (its XML from the methods above); rows are written top to bottom."""
        if row != self._row:
            self._start_row(row)
        if self._parts is not None:  # a row given whole, and now one more cell
            self._cells, self._parts = list(zip(self._parts[1], self._parts[0])), None
        self._cells.append((col, xml))
        self._in_order = False

    def put_row(self, row: int, cells: list[tuple[int, str]]) -> None:
        """A whole row's cells at once, (column, XML) in column order: the fast path for tables."""
        self._start_row(row)
        self._cells = cells
        self._in_order = True

    def put_parts(self, row: int, parts: list[str], cols: list[int]) -> None:
        """A whole row as its cells' XML and their columns, both in column order: the fastest path,
        for the tables' data rows (rows.write_rows), without a (column, XML) pair per cell."""
        self._start_row(row)
        self._parts = parts, cols

    def put_string(self, row: int, col: int, text: str, fmt: Any = None) -> None:
        self.put(row, col, self.string_xml(f"{column_name(col)}{row + 1}", self.style(fmt), text))

    def put_shared_string(self, row: int, col: int, text: str, fmt: Any = None) -> None:
        self.put(row, col, self.shared_string_xml(f"{column_name(col)}{row + 1}", self.style(fmt), text))

    def put_number(self, row: int, col: int, number: float, fmt: Any = None) -> None:
        self.put(row, col, self.number_xml(f"{column_name(col)}{row + 1}", self.style(fmt), number))

    def put_formula(self, row: int, col: int, formula: str, fmt: Any = None, value: Any = 0) -> None:
        self.put(row, col, self.formula_xml(f"{column_name(col)}{row + 1}", self.style(fmt), formula, value))

    # -- rows -----------------------------------------------------------------------------------

    def _start_row(self, row: int) -> None:
        if self._row is not None:
            if row <= self._row:
                raise ValueError(f"rows are written top to bottom: row {row + 1} after row {self._row + 1}")
            self._flush_row()
        self._row = row
        self._cells = []

    def _flush_row(self) -> None:
        row, cells, given = self._row, self._cells, self._parts
        if given is not None:
            self._parts = None
            parts, cols = given
            if row is None or not parts:
                return
            first, last = cols[0], cols[-1]
        else:
            if row is None or not cells:
                return
            if not self._in_order:
                cells.sort(key=lambda cell: cell[0])  # stable, and already in order almost always
            first, last = cells[0][0], cells[-1][0]
            parts = [xml for _, xml in cells]
        self._check_dimensions(row, first)
        self._check_dimensions(row, last)
        if self.block_extents is not None:  # what the process that splices these rows in must know
            self.block_extents.append((row, first, last))
        self._rows.write(f"{self._row_start(row)}{''.join(parts)}</row>")
        self._cells = []
        self._in_order = False

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
        """At close: the rows collected in the temporary file, in place of XlsxWriter's own, with
        the rows written elsewhere at their places. Both files are UTF-8, so the bytes are copied as
        they are (not decoded and encoded again) — or not copied at all: while the workbook closes
        with zipping.quick_zip, `splices` takes a large sheet's rows where they are."""
        self._flush_row()
        self._rows.flush()
        rows = self._rows.buffer
        end = rows.tell()
        files: list[Any] = [self._rows]
        try:
            pieces, done = [], 0
            for offset, path in self._taken:  # the rows before each place, then the rows for it
                block = open(path, "rb")  # noqa: SIM115 - closed below, or by splices
                files.append(block)
                pieces += [(rows, done, offset - done), (block, 0, os.fstat(block.fileno()).st_size)]
                done = offset
            pieces.append((rows, done, end - done))
            if not any(size for _, _, size in pieces):
                self._xml_empty_tag("sheetData")
                return
            self.fh.write("<sheetData>")
            self.fh.flush()  # a file XlsxWriter opened as UTF-8 text (this workbook is never in_memory)
            out = self.fh.buffer
            if self.splices is not None and self.splices.keep(self.fh.name, out.tell(), pieces, files):
                files = []  # the splices' now
            else:
                for piece in pieces:
                    for chunk in read_range(*piece):
                        out.write(chunk)
            self.fh.write("</sheetData>")
        finally:
            for file in files:
                file.close()

    def _get_range_data(self, row_start: int, col_start: int, row_end: int, col_end: int) -> list[Any]:
        """A chart's cached values, from the cells the writer kept for it (see chart_data)."""
        return [
            self.chart_data.get((row, col))
            for row in range(row_start, row_end + 1)
            for col in range(col_start, col_end + 1)
        ]

    # -- formulas -------------------------------------------------------------------------------

    def plain_functions(self, formula: str) -> bool:
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
        if not expand_future_functions and self.plain_functions(formula):
            return formula[1:] if formula.startswith("=") else formula
        return super()._prepare_formula(formula, expand_future_functions)


# Bytes read or copied at a time. A sheet is read in chunks by the thread that deflates it while this
# one writes the next sheet holding Python's lock, and each chunk is a turn of the lock, which can
# wait up to 5 ms: at 64 kB the workbook's close took 0.20–0.47 s (6 400 reports, median 0.27 s), at
# 256 kB 0.13–0.26 s (median 0.16 s); a megabyte was no faster and holds more memory per thread.
CHUNK = 1 << 18
_PREAD = getattr(os, "pread", None)  # not on Windows


def read_range(file: Any, start: int, size: int) -> Iterator[bytes]:
    """`size` bytes of a binary file from `start`, a chunk at a time (pread where there is one: the
    file's position is left alone; Windows has none, and seeks: no two threads read one file)."""
    handle = file.fileno()
    while size > 0:
        if _PREAD is not None:
            piece = _PREAD(handle, min(size, CHUNK), start)
        else:
            file.seek(start)
            piece = file.read(min(size, CHUNK))
        if not piece:
            raise OSError(f"{getattr(file, 'name', 'a file')} is shorter than written")
        start += len(piece)
        size -= len(piece)
        yield piece


def chart_value(written: Any, formula: bool) -> Any:
    """A cell as XlsxWriter gives it to a chart's cache: a number (or date) as text with 16
    digits, a formula's cached value as it is, text as text, no cell as None."""
    if formula or written is None or isinstance(written, str):
        return written
    return f"{written:.16g}"

