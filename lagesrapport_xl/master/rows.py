"""A table's data rows as sheet XML: the master's hot loop (120 000 cells per 1 000 reports).

What a table's rows need besides their values is worked out once, as plain data (RowPlan: each
column's place, format and formula, which columns make a row taller), so that the rows can be
written by this process or by a helper process that has no workbook (split.py): the same code
writes the same bytes either way. Values are written as their own cell types, derived columns as
formulas WITH the Python value as cached result, and a value taken from one cell of a report as a
link to that cell with the value as cached result (trail.py).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .cells import NUMBER_KINDS, value_cell
from .formulas import RowFormula, cached_result
from .sizes import row_height
from .streaming import ESCAPED, StreamingWorksheet, chart_value
from .trail import TEXT_LIMIT, Links, file_link, number_literal, text_literal

FILE_LINK = -1  # CellPlan.trace of the column that names the report's file: a link to the file
_UNSEEN = object()


@dataclass(frozen=True)
class CellPlan:
    """How one column's cells are written."""

    col: int  # sheet column
    letters: str
    position: int  # index in the table's row tuples
    kind: str
    style: str  # the format attribute (' s="7"'); "" for an "auto" column, whose rows say their kind
    pattern: str | None = None  # a formula whose every cell is of its own row, as a str.format pattern
    formula: RowFormula | None = None  # any other formula, rendered row by row
    trace: int | None = None  # a link: to the cell at this index of the row's source cells, or FILE_LINK


@dataclass(frozen=True)
class RowPlan:
    """Everything about one table's data rows but their values (picklable: see split.py)."""

    key: str
    sheet: str
    first_row: int  # the first data row (0-based)
    cells: tuple[CellPlan, ...]
    positions: dict[str, int]  # every name of the rows (hidden keys included) → index in a row
    wrapped: tuple[tuple[int, float], ...]  # (position, width) of the columns that make rows taller
    chart: bool = False  # the sheet's chart draws these rows: keep their values for its cache
    links: Links | None = None  # where the links of traced cells point (None: no links)
    file_at: int | None = None  # positions of the hidden FILE and CELLS keys and the stored name
    cells_at: int | None = None
    stored_at: int | None = None


@dataclass
class Written:
    """What writing the rows did besides the XML: formulas ((sheet, cell), formula) in order, when
    asked for, and each taller row's height."""

    formulas: list[tuple[tuple[str, str], str]] | None
    heights: list[tuple[int, float]]


_INFINITE = (math.inf, -math.inf)


def write_rows(
    ws: StreamingWorksheet,
    plan: RowPlan,
    rows: Iterable[tuple[Any, ...]],
    *,
    keep_formulas: bool,
    auto_style: Callable[[str], str] | None = None,
) -> Written:
    """The rows, a whole row at a time, into `ws` (each taller row's height set first).
    `auto_style(kind)`: the format attribute of a cell of an "auto" column, by its row's kind.

    A plain value's cell (no formula, no link, no chart) is written right here for the common
    values, as value_cell and the worksheet's string_xml and number_xml would write it (a text
    that needs no escaping, a number): 600 000 of the 770 000 cells of 6 400 reports, each one
    method call and a tuple lighter. Anything else takes the general way."""
    written = Written([] if keep_formulas else None, [])
    formulas, heights, chart_data = written.formulas, written.heights, ws.chart_data
    positions, wrapped, sheet, chart = plan.positions, plan.wrapped, plan.sheet, plan.chart
    kind_at = positions.get("_kind")
    plain: dict[int, bool] = {}  # per formula column: XlsxWriter would change nothing (asked once)
    first = plan.first_row
    trail = _Trail(ws, plan, keep_formulas) if plan.links is not None and plan.file_at is not None else None
    bodies = {  # per pattern column whose formulas XlsxWriter leaves as they are: their <f>, as a pattern
        cell.col: ws.formula_body(cell.pattern, plain=True)
        for cell in plan.cells
        if cell.pattern is not None and ws.plain_functions(cell.pattern.format(first + 1))
    }
    # per column: (the plan, whether its cells are plain values, column, letters, position, style, kind)
    columns = [
        (cell, not chart and cell.pattern is None and cell.formula is None and cell.kind != "auto"
         and (cell.trace is None or trail is None), cell.col, cell.letters, cell.position, cell.style, cell.kind)
        for cell in plan.cells
    ]
    escaped, string_xml = ESCAPED.search, ws.string_xml
    for offset, values in enumerate(rows):
        row = first + offset
        number = row + 1
        if wrapped:
            height = row_height(values, wrapped)
            if height is not None:
                ws.set_row(row, height)
                heights.append((row, height))

        def hidden(key: str, values: tuple[Any, ...] = values) -> Any:  # this row's hidden references
            at = positions.get(key)
            return None if at is None else values[at]

        parts: list[str] = []
        cols: list[int] = []
        for cell, simple, col, letters, position, style, kind in columns:
            value = values[position]
            if simple:
                if value is None:
                    continue
                kind_of = value.__class__
                if kind_of is str:
                    if len(value) < 200 and escaped(value) is None:  # as needs_escaping: nothing to escape
                        space = ' xml:space="preserve"' if value[:1].isspace() or value[-1:].isspace() else ""
                        parts.append(f'<c r="{letters}{number}"{style} t="inlineStr"><is><t{space}>{value}</t></is></c>')
                    else:
                        parts.append(string_xml(f"{letters}{number}", style, value))
                    cols.append(col)
                    continue
                if (kind_of is float and value == value and value not in _INFINITE) or (
                    kind_of is int and kind in NUMBER_KINDS
                ):
                    parts.append(f'<c r="{letters}{number}"{style}><v>{value:.16G}</v></c>')
                    cols.append(col)
                    continue
            made = _general_cell(ws, cell, value, values, number, offset, row, hidden, formulas, sheet, trail,
                                 bodies, plain, chart_data if chart else None, kind_at, auto_style)
            if made is not None:
                parts.append(made)
                cols.append(col)
        ws.put_parts(row, parts, cols)
    return written


def _general_cell(
    ws: StreamingWorksheet, cell: CellPlan, value: Any, values: tuple[Any, ...], number: int, offset: int, row: int,
    hidden: Callable[[str], Any], formulas: list[tuple[tuple[str, str], str]] | None, sheet: str,
    trail: _Trail | None, bodies: dict[int, str], plain: dict[int, bool], chart_data: dict[Any, Any] | None,
    kind_at: int | None, auto_style: Callable[[str], str] | None,
) -> str | None:
    """One cell of a data row the general way: a link, a formula with its cached result, or a value
    (value_cell); None: no cell. `chart_data`: where a charted table's values go (None: no chart)."""
    ref = f"{cell.letters}{number}"
    if cell.trace is not None and value is not None and trail is not None:
        made = trail.cell(ref, cell.style, cell.trace, value, values)
        if made is not None:
            if formulas is not None:
                formulas.append(((sheet, ref), made[1]))
            if chart_data is not None:
                chart_data[(row, cell.col)] = chart_value(value, True)
            return made[0]
    if cell.pattern is not None:
        body = bodies.get(cell.col)
        if body is not None and formulas is None:  # the formula's text is needed for nothing else
            formula: str | None = ""
            body = body.format(number)
        else:
            formula = cell.pattern.format(number)
            body = body.format(number) if body is not None else ws.formula_body(formula)
    elif cell.formula is not None:
        formula = cell.formula.render(offset, hidden)
        if formula is None:  # the row it refers to does not exist (no report 3 yet)
            return None
        unchanged = plain.get(cell.col)
        if unchanged is None:  # the function names come from the template: alike in every row
            unchanged = plain[cell.col] = ws.plain_functions(formula)
        body = ws.formula_body(formula, unchanged)
    else:
        formula = None
    if formula is not None:
        shown = cached_result(value)
        xml = ws.formula_cell_xml(ref, cell.style, body, shown)
        if formulas is not None:
            formulas.append(((sheet, ref), formula))
    else:
        if cell.kind == "auto":  # the Om table: each row says its own kind
            kind = values[kind_at] if kind_at is not None else None
            kind = kind if isinstance(kind, str) and kind else "text"
            made = value_cell(ws, ref, auto_style(kind), value, kind)  # type: ignore[misc]
        else:
            made = value_cell(ws, ref, cell.style, value, cell.kind)
        if made is None:
            return None
        xml, shown = made
    if chart_data is not None:
        chart_data[(row, cell.col)] = chart_value(shown, formula is not None)
    return xml


class _Trail:
    """A table's links (trail.py) as cell XML: the hot part of a master with links (a Budget row
    has four). Each file's link and each source cell's text is quoted and escaped once, so a
    linked number is one f-string; the formula text is only made when the formulas are kept."""

    def __init__(self, ws: StreamingWorksheet, plan: RowPlan, keep: bool):
        self.escape = ws.formula_body  # a formula as <f> holds it (HYPERLINK: only "=" dropped, escaped)
        self.links: Links = plan.links  # type: ignore[assignment]
        self.file_at: int = plan.file_at  # type: ignore[assignment]
        self.cells_at, self.stored_at = plan.cells_at, plan.stored_at
        self.keep = keep
        self.cwd = os.getcwd()  # where relative locations start (asked once, not per file)
        # location → (path, as in a formula's text, as in XML) or None: no link (too long, unprintable)
        self.files: dict[str, tuple[str, str, str] | None] = {}
        self.cells: dict[str, tuple[str, str]] = {}  # "Budget!C6" → (as in a formula's text, as in XML)
        # (location, name shown) → a file link's XML after its format, and its formula; None: no link
        self.named: dict[tuple[str, str], tuple[str, str] | None] = {}

    def _file(self, values: tuple[Any, ...], location: str) -> tuple[str, str, str] | None:
        if location in self.files:
            return self.files[location]
        stored = values[self.stored_at] if self.stored_at is not None else None
        path = self.links.path(location, stored or location, self.cwd)
        quoted = text_literal(path)
        found = self.files[location] = None if quoted is None else (path, quoted[1:-1], _xml(quoted[1:-1]))
        return found

    def cell(self, ref: str, style: str, trace: int, value: Any, values: tuple[Any, ...]) -> tuple[str, str] | None:
        """(the cell's XML, its formula or "") of a traced value or a file's name; None: no link."""
        location = values[self.file_at]
        file = self._file(values, location) if location is not None else None
        if file is None:
            return None
        if trace == FILE_LINK:
            if value.__class__ is not str:
                return None
            named = self.named.get((location, value), _UNSEEN)
            if named is _UNSEEN:  # each of a report's rows links its file under the same name
                formula = file_link(file[0], value)
                named = self.named[location, value] = None if formula is None else (
                    f'<f>{self.escape(formula, True)}</f><v>{_xml(value)}</v></c>', formula)
            if named is None:
                return None
            return f'<c r="{ref}"{style} t="str">{named[0]}', named[1]
        kind = value.__class__
        if (kind is not int and kind is not float) or self.cells_at is None or value != value:  # not a number, NaN
            return None
        place = values[self.cells_at][trace]
        texts = self.cells.get(place)
        if texts is None:
            quoted = place.replace('"', '""')
            texts = self.cells[place] = (quoted, _xml(quoted))
        if len(file[0]) + len(place) >= TEXT_LIMIT:  # the target, "#" included, longer than Excel takes
            return None
        number = number_literal(value)
        xml = f'<c r="{ref}"{style}><f>HYPERLINK("{file[2]}#{texts[1]}",{number})</f><v>{number}</v></c>'
        return xml, (f'=HYPERLINK("{file[1]}#{texts[0]}",{number})' if self.keep else "")


def _xml(text: str) -> str:
    """A text as XML data (XlsxWriter's escaping of a formula or a string result)."""
    if "&" in text or "<" in text or ">" in text:
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text
