"""The formula language of the master's derived columns, and the cell formulas made from it.

A derived column (consolidate/tables: `Column.formula`, beside its Python twin `Column.compute`)
holds an Excel formula without its "=" in which cells are named by placeholders, not addresses:
the tables' positions are only known when the master is laid out (placement.py). FormulaRenderer
turns a template into the formula of each cell of the column.

Grammar (EBNF; everything outside braces is Excel text, copied as it is):

    template    = { text | placeholder } ;
    text        = ? any characters but a placeholder ? ;
    placeholder = "{" , ( own_cell | column | row_cell | named ) , "}" ;
    own_cell    = key ;
    column      = table , "." , key ;
    row_cell    = table , "." , key , "@" , [ ref ] ;
    named       = "!" , name ;
    table       = ? a table's key (Table.key): "budget", "time_share" ? ;
    key         = ? a column's key (Column.key) in that table; for own_cell, in this one ? ;
    ref         = ? a hidden key of this table's rows: "_row", "_time_row", "_row_3" ? ;
    name        = ? a value of the Om table's hidden "_name" key: "tolerance" ? ;

What each placeholder becomes in the formula of data row i of this table (examples from the
master of the demo set):

- own_cell: this table's cell in column `key`, row i, relative: {expected} → J4. In the total
  row (a column with total="same"), the total row's cell of that column.
- column: the whole data range of `table`'s column `key`, absolute, for SUMPRODUCT, COUNTIF …:
  {control.status} → $B$8:$B$22.
- row_cell: one cell of `table`'s column `key`. Without `ref` ("x@"): data row i there too, for
  tables built row for row alike: {time_share.computed_in_line@} → Tidsandel!N4. With `ref`: the
  data row whose index (0-based) is this row's value of the hidden key `ref`:
  {participants.total_actual@_row_1} → Deltagare!Q4; when this row has no such value (no report
  1 for this insats), the cell gets no formula and stays blank. A hidden key exists only where
  some row has it (no report 1 anywhere: no "_row_1"), so it is not checked: an unknown one blanks
  every cell. A template with a row_cell gives no total-row formula.
- named: a value cell of the Om table, absolute, so that RAR can change the tolerance there and
  recalculate: {!tolerance} → Om!$B$10.

Another sheet's cells get its name as prefix, quoted when Excel needs it ('Mitt blad'!). Braces
always delimit a placeholder, so Excel's array constants ({1,2}) cannot be written; a lone brace
is text. An unknown table, column key or name raises FormulaError when the template
is first used. consolidate/tables' share_formula builds the common "numerator/denominator, blank
when the denominator is 0" template from two keys.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from xlsxwriter.utility import quote_sheetname, xl_col_to_name, xl_rowcol_to_cell

from ..consolidate.tables import missing
from .placement import Placement

_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
_SAME_ROW = "="  # the ref of a row_cell without one: the same data row


class FormulaError(ValueError):
    """A template names something the master does not have (a mistake in a column's formula)."""


# A compiled template: literal text, or a row-dependent cell as (column letters with any sheet
# prefix, the placement it lies in, "" for this row / _SAME_ROW / the hidden key naming the row).
Part = str | tuple[str, Placement, str]


class FormulaRenderer:
    """Turns a column's formula template into the formula of one cell (see the grammar above).

    A template is parsed once per table column: row-independent parts (ranges of other tables,
    named cells) are resolved then, so each row only fills in its own cell references.
    """

    def __init__(self, placements: dict[str, Placement], named: dict[str, str]):
        self.placements = placements
        self.named = named
        self._compiled: dict[tuple[str, str], list[Part]] = {}

    def _prefix(self, placement: Placement, sheet: str) -> str:
        return "" if placement.table.sheet == sheet else quote_sheetname(placement.table.sheet) + "!"

    def _compile(self, template: str, placement: Placement) -> list[Part]:
        parts: list[Part] = []
        sheet = placement.table.sheet
        for index, part in enumerate(_PLACEHOLDER.split(template)):
            if index % 2 == 0:
                parts.append(part)
            elif part.startswith("!"):
                parts.append(self._named(part[1:], template, placement))
            else:
                target, at, ref = part.partition("@")
                table_key, dot, column_key = target.rpartition(".")
                if not dot:  # a cell of the same row of this table
                    if at:
                        raise _error(template, placement, f"'{part}': a row reference ('@') needs a table")
                    parts.append((xl_col_to_name(_col(placement, column_key, template, placement)), placement, ""))
                    continue
                other = self.placements.get(table_key)
                if other is None:
                    raise _error(template, placement, f"no table '{table_key}' in the master")
                col = _col(other, column_key, template, placement)
                if not at:  # a whole column of another table
                    first = xl_rowcol_to_cell(other.first_data_row, col, True, True)
                    last = xl_rowcol_to_cell(other.last_data_row, col, True, True)
                    parts.append(f"{self._prefix(other, sheet)}{first}:{last}")
                else:  # one cell of another table: the same row, or the row this row names
                    parts.append((self._prefix(other, sheet) + xl_col_to_name(col), other, ref or _SAME_ROW))
        return parts

    def _named(self, name: str, template: str, placement: Placement) -> str:
        cell = self.named.get(name)
        if cell is None:
            raise _error(template, placement, f"no named cell '{name}' in the Om table")
        return cell

    def _parts(self, template: str, placement: Placement) -> list[Part]:
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

    def row_formula(self, template: str, placement: Placement) -> RowFormula:
        """The template compiled for the data rows of this table, as plain data: a helper process
        renders the rows with it (master/split.py)."""
        return RowFormula(tuple(
            part if part.__class__ is str else (part[0], part[1].first_data_row, part[2])
            for part in self._parts(template, placement)
        ))

    def render(
        self, template: str, placement: Placement, row: int | None, values: Callable[[str], Any] | None = None
    ) -> str | None:
        """The formula for data row `row` of `placement` (None: the total row). `values(key)` gives
        this row's hidden references. None when a row reference is missing (e.g. no report 3 for
        this insats): the cell stays blank."""
        if row is not None:
            return self.row_formula(template, placement).render(row, values)
        out = ["="]
        for part in self._parts(template, placement):
            if part.__class__ is str:
                out.append(part)
                continue
            letters, target, ref = part
            if ref:  # another row of a table: no total formula
                return None
            out.append(f"{letters}{target.total_row + 1}")
        return "".join(out)


@dataclass(frozen=True)
class RowFormula:
    """A template compiled for one table's data rows: literal text, or a cell as (column letters
    with any sheet prefix, the first data row of its table, "" for this row / _SAME_ROW / the
    hidden key naming the row)."""

    parts: tuple[str | tuple[str, int, str], ...]

    def render(self, row: int, values: Callable[[str], Any] | None = None) -> str | None:
        """The formula of data row `row` (0-based); None when a row it names does not exist."""
        out = ["="]
        for part in self.parts:
            if part.__class__ is str:
                out.append(part)
                continue
            letters, first, ref = part
            if ref and ref != _SAME_ROW:
                index = _as_index(values(ref) if values is not None else None)
                if index is None:
                    return None
            else:
                index = row
            out.append(f"{letters}{first + index + 1}")
        return "".join(out)

    @property
    def names_rows(self) -> bool:
        """Whether a row's hidden values say which rows it refers to."""
        return any(part.__class__ is not str and part[2] not in ("", _SAME_ROW) for part in self.parts)


def _col(placement: Placement, key: str, template: str, user: Placement) -> int:
    """The sheet column of `key` in `placement`'s table, or a FormulaError for `user`'s template."""
    try:
        return placement.col(key)
    except KeyError:
        raise _error(template, user, f"no column '{key}' in the table '{placement.table.key}'") from None


def _error(template: str, placement: Placement, problem: str) -> FormulaError:
    return FormulaError(f"formula {template!r} of the table '{placement.table.key}': {problem}")


def _as_index(value: Any) -> int | None:
    if missing(value):
        return None
    return int(value)


_AS_THEY_ARE = frozenset({int, str})  # cached_result leaves these as they are


def cached_result(value: Any) -> Any:
    """The cached result stored with a formula: "" for an empty result, plain Python numbers."""
    if value is None:
        return ""
    if value.__class__ in _AS_THEY_ARE:
        return value
    if missing(value):
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return value


def named_cells(placements: dict[str, Placement]) -> dict[str, str]:
    """`{!name}` targets: the value cells of the Om table, absolute and sheet-qualified."""
    about = placements["about"]
    named = {}
    for offset, name in enumerate(about.table.values("_name")):
        cell = xl_rowcol_to_cell(about.first_data_row + offset, about.col("value"), True, True)
        named[name] = f"{quote_sheetname(about.table.sheet)}!{cell}"
    return named
