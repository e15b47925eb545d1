"""Read a workbook open in Excel (an xlwings `Book`) into `WorkbookCells`, the reader's seam.

The parse-and-check code (check.py) then treats it exactly like a saved file. The two kinds of
Book differ in what they deliver, and this module evens that out:

- desktop Excel (Windows/macOS): typed values — `datetime` for date cells, floats, text — and
  formulas on request;
- the remote payload (xlwings Lite, xlwings Server, the VBA client): the values only, with every
  cell whose number format is a date encoded as a timestamp `2021-12-10T00:00:00.000Z`.

Dates are decoded from that exact encoding only. The clients produce it for cells with a date
format and for nothing else, so a coordinator's typed text — "2021-12-10", "211210", even
"2021-12-10T00:00" — stays the text it is, as in the file, and is parsed (or refused) by the
same field type as in the file reader.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from typing import Any

import xlwings as xw

from ..form.spec import FormSpec, default_spec
from ..reader.cells import NameTarget, RawCell, WorkbookCells, cell_index
from ..reader.check import check_cells
from ..reader.result import ReadResult
from ..reader.sources import clean_value, parse_name_target

# Exactly what the Office.js client (Date.toISOString) and the VBA client
# (Format "yyyy-mm-ddTHH:mm:ss.000Z") send for a cell with a date or time format.
CLIENT_TIMESTAMP = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{3})Z")
EXCEL_ERRORS = frozenset(
    {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#SPILL!", "#CALC!", "#FIELD!",
     "#GETTING_DATA", "#BLOCKED!", "#UNKNOWN!", "#CONNECT!", "#BUSY!", "#DATA!"}
)  # fmt: skip
TEXT_FORMAT = "@"


def is_remote(book: xw.Book) -> bool:
    """True for a Book built from a client's payload (Lite, Server, VBA client), not desktop Excel."""
    return book.app.engine.type == "remote"


def decode_timestamp(value: str) -> dt.datetime | None:
    """The client's encoding of a date cell back to the datetime Excel holds; None for other text."""
    match = CLIENT_TIMESTAMP.fullmatch(value)
    if not match:
        return None
    year, month, day, hour, minute, second, millis = (int(g) for g in match.groups())
    try:
        return dt.datetime(year, month, day, hour, minute, second, millis * 1000)
    except ValueError:
        return None


def _text_fields(spec: FormSpec) -> set[str]:
    """Names (lower case, as Excel compares them) of the inputs formatted as Text."""
    return {f.key.lower() for f in spec.fields.values() if f.type.number_format == TEXT_FORMAT}


def raw_cell(value: Any, formula: Any = None, *, remote: bool, text_cell: bool) -> RawCell:
    """One cell by the sources' shared rules (sources.clean_value), with the client's encodings undone."""
    if isinstance(value, str):
        if value in EXCEL_ERRORS and not text_cell:  # typing into a Text cell never makes an error
            return RawCell(None, formula if _is_formula(formula, value) else None, value)
        if remote:
            value = decode_timestamp(value) or value
    return RawCell(clean_value(value), formula if _is_formula(formula, value) else None)


def _is_formula(formula: Any, value: Any) -> bool:
    """Desktop Excel gives a Text cell's typed "=1+1" as its formula too; then it equals the value."""
    return isinstance(formula, str) and formula.startswith("=") and formula != value


def _workbook_names(book: xw.Book) -> dict[str, NameTarget]:
    """Workbook-scope names parsed like the file readers parse xl/workbook.xml."""
    names = {}
    for name in book.names:
        if "!" in name.name or name.name.startswith("_xlnm."):  # sheet-scoped or built in
            continue
        names[name.name] = parse_name_target((name.refers_to or "").removeprefix("="))
    return names


Grid = list[list[Any]]


def _read_block(sheet: Any, rows: int, cols: int, remote: bool) -> tuple[Grid, Grid | None]:
    """Values (and, on desktop, formulas) of A1 to the given corner in one call per sheet."""
    rng = sheet.range((1, 1), (rows, cols))
    if remote:
        return [list(row) for row in rng.raw_value], None  # the payload as the client sent it
    values = rng.options(ndim=2, err_to_str=True).value
    formulas = rng.formula
    if isinstance(formulas, str):
        formulas = ((formulas,),)
    return values, [list(row) for row in formulas]


def book_cells(book: xw.Book, spec: FormSpec | None = None) -> WorkbookCells:
    """Every single-cell workbook name of `book` with its raw cell, as the file reader gives them."""
    spec = spec or default_spec()
    remote = is_remote(book)
    sheets = [sheet.name for sheet in book.sheets]
    hidden = set()
    for sheet in book.sheets:
        try:
            if not sheet.visible:
                hidden.add(sheet.name)
        except KeyError:  # a client that does not send the sheet's visibility
            pass
    names = _workbook_names(book)
    by_sheet: dict[str, dict[str, tuple[int, int]]] = defaultdict(dict)
    for key, target in names.items():
        if target.sheet in sheets and target.cell:
            by_sheet[target.sheet][key] = cell_index(target.cell)
    text_fields = _text_fields(spec)
    cells: dict[str, RawCell] = {}
    for sheet_name, positions in by_sheet.items():
        rows = max(r for r, _ in positions.values()) + 1
        cols = max(c for _, c in positions.values()) + 1
        values, formulas = _read_block(book.sheets[sheet_name], rows, cols, remote)
        for key, (r, c) in positions.items():
            cells[key] = raw_cell(
                values[r][c],
                formulas[r][c] if formulas else None,
                remote=remote,
                text_cell=key.lower() in text_fields,
            )
    # form_version stays None: it is the file's document property, which no client sends. The
    # checker reads the version from the named cell (Data!B1) as it does for files.
    return WorkbookCells(sheets=sheets, names=names, cells=cells, hidden_sheets=hidden)


def check_book(book: xw.Book, spec: FormSpec | None = None) -> ReadResult:
    """Parse and check the open workbook with the file reader's own rules."""
    spec = spec or default_spec()
    return check_cells(book_cells(book, spec), spec, file=book.name)
