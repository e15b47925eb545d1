"""The schema of the master's tables and what every sheet's builder shares.

Every derived column is declared once, with its Excel formula AND its Python twin side by side
(`Column.formula` / `Column.compute`): the master writes the formula with the Python value as its
cached result, and a LibreOffice test recalculates the master to prove the two agree. `n`, `blank`,
`ratio` are Python's twins of Excel's N(), `cell=""` and a guarded division.

Rows are tuples (10 000 reports make 90 000 rows); a table's pandas DataFrame is made from them
the first time someone asks for `Table.frame`, so the command line never imports pandas.
"""

from __future__ import annotations

import datetime as dt
import math
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Any

from ...common.memory import Spool
from ...form.spec import FormSpec

if TYPE_CHECKING:
    import pandas as pd

    from ..statuses import FileOutcome

SHEETS = ("Översikt", "Deltagare", "Budget", "Tidsandel", "Texter", "Historik", "Kontroll", "Om")
OVERVIEW, PARTICIPANTS, BUDGET, TIME_SHARE, TEXTS, HISTORY, CONTROL, ABOUT = SHEETS


# --- table schema -----------------------------------------------------------------------------

Row = dict[str, Any]


@dataclass(frozen=True)
class Column:
    """One column of a consolidated table.

    `formula` is the Excel formula of a derived column over placeholders (see master/):
    `{key}` a cell of the same row, `{table.key}` a whole column of another table, `{table.key@}`
    the same data row of another table, `{table.key@ref}` the row given by this row's `ref`,
    `{!name}` a named cell. `compute` is its Python twin (None: the value comes with the data).
    `total` says what the table's total row shows: "sum" or "same" (the row formula over totals).
    """

    key: str
    header: str
    kind: str = "text"  # text | long_text | int | kr | pct | date | days | flag | auto
    formula: str | None = None
    compute: Callable[[Row], Any] | None = None
    total: str | None = None
    traced: bool = False  # taken from one cell of the report: the master links it to that cell (see TRACE)


@dataclass(eq=False)
class Table:
    """A table of the master: its place, its columns and its rows.

    `rows` are tuples of values in `names` order: the columns, then hidden helper keys (starting
    with "_"). Values are stored as the column's pandas dtype holds them (see `stored`), so the
    master, the exports and `frame` show the same thing; None is an empty cell.
    """

    key: str
    sheet: str
    title: str
    file_stem: str  # name of its CSV export
    columns: tuple[Column, ...]
    rows: Sequence[tuple[Any, ...]]  # a list, or a SpooledSequence read from disk (see TableBuilder)
    names: tuple[str, ...]
    totals: Row | None = None  # values of the total row, when the table has one
    total_label: str = "Summa"
    note: str = ""

    def column(self, key: str) -> Column:
        return self.columns[self.column_index(key)]

    def column_index(self, key: str) -> int:
        return self._column_positions[key]

    @cached_property
    def _column_positions(self) -> dict[str, int]:
        return {c.key: i for i, c in enumerate(self.columns)}

    @cached_property
    def _positions(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.names)}

    def value(self, row: int, key: str) -> Any:
        """The value of one column (or hidden key) in one row; None when the row lacks the key."""
        position = self._positions.get(key)
        return None if position is None else self.rows[row][position]

    def values(self, key: str) -> list[Any]:
        """One column's values, top to bottom ([] for a key the table does not have)."""
        position = self._positions.get(key)
        return [] if position is None else [row[position] for row in self.rows]

    @cached_property
    def frame(self) -> pd.DataFrame:
        """The rows as a DataFrame: Int64 for counts and days, float64 for amounts and shares."""
        import pandas as pd  # only here: reading and writing never need it

        frame = pd.DataFrame([list(row) for row in self.rows], columns=list(self.names))
        for column in self.columns:
            dtype = _DTYPES.get(column.kind)
            if dtype:
                frame[column.key] = pd.array(
                    [None if v is None or v == "" else v for v in frame[column.key]], dtype=dtype
                )
        return frame

    def swedish(self) -> pd.DataFrame:
        """The data with the Swedish headers of the master, hidden helper columns left out."""
        frame = self.frame[[c.key for c in self.columns]]
        return frame.rename(columns={c.key: c.header for c in self.columns})


_DTYPES = {"int": "Int64", "kr": "float64", "pct": "float64", "days": "Int64"}


def stored(kind: str, value: Any) -> Any:
    """A value as the column's pandas dtype holds it: an empty text or NaN is no value, a count
    an int, an amount or share a float. Other kinds keep the value as it is."""
    dtype = _DTYPES.get(kind)
    if dtype is None or value is None:
        return value
    if isinstance(value, str) and value == "":
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if dtype == "Int64":
        return int(value) if isinstance(value, (float, Decimal)) and value == int(value) else value
    return float(value) if isinstance(value, (int, Decimal)) and not isinstance(value, bool) else value


class TableBuilder:
    """A table made row by row: each row gets its derived columns (each column's Python twin) and
    is stored as a tuple as it comes, into a list or, for a table of long texts in a large batch,
    into a Spool (the table's rows are then read from disk: common.memory.SpooledSequence).
    Hidden helper keys (starting with "_") must be named up front."""

    def __init__(self, columns: Sequence[Column], hidden: Sequence[str] = (), spool: Spool | None = None):
        self.columns = tuple(columns)
        self.names = (*(c.key for c in columns), *hidden)
        self.computed = [c for c in columns if c.compute is not None]
        self._computing = [(c.key, c.compute) for c in self.computed]  # what add does per row, looked up once
        # the columns `stored` converts (the rest is kept as it is), and whether they hold whole numbers
        self.typed = [(at, c.kind, _DTYPES[c.kind] == "Int64") for at, c in enumerate(columns) if c.kind in _DTYPES]
        self.summed = [c.key for c in columns if c.total == "sum"]
        self.sums: list[list[Any]] = [[] for _ in self.summed]  # each row's n() of each summed column
        self._summing = [(sums, self.names.index(key)) for sums, key in zip(self.sums, self.summed)]
        self.spool = spool
        self.first = len(spool) if spool is not None else 0
        self.rows: list[tuple[Any, ...]] = []
        self.last: tuple[Any, ...] = ()  # the row added last, as stored
        self._positions = {name: at for at, name in enumerate(self.names)}

    def add(self, row: Row) -> None:
        for key, compute in self._computing:
            row[key] = compute(row)  # type: ignore[misc]
        values = list(map(row.get, self.names))
        for sums, at in self._summing:
            value = values[at]  # n(value), its common cases without the call (20 000 rows × 7 sums)
            kind_of = value.__class__
            if kind_of is int or (kind_of is float and not math.isnan(value)):
                sums.append(value)
            else:
                sums.append(0 if value is None else n(value))
        for at, kind, whole in self.typed:
            value = values[at]
            if value is None:
                continue
            kind_of = value.__class__  # the common cases as `stored` decides them, without its checks
            if kind_of is float:
                if math.isnan(value):
                    values[at] = None
                elif whole and value == int(value):
                    values[at] = int(value)
            elif kind_of is int:
                if not whole:
                    values[at] = float(value)
            else:
                values[at] = stored(kind, value)
        self.last = tuple(values)
        if self.spool is not None:
            self.spool.put(self.last)
        else:
            self.rows.append(self.last)

    def latest(self, key: str) -> Any:
        """One value of the row added last, as stored (as the table's `value` will give it)."""
        return self.last[self._positions[key]]

    def table(self, key: str, sheet: str, title: str, file_stem: str, *, totals: bool = False,
              note: str = "") -> Table:
        """The table of the rows added; with `totals`, its total row: the sum of each "sum" column
        and each "same" column's twin over those sums."""
        total_row: Row | None = None
        if totals:
            total_row = {k: sum(values) for k, values in zip(self.summed, self.sums)}
            for column in self.columns:
                if column.total == "same" and column.compute is not None:
                    total_row[column.key] = column.compute(total_row)
        rows = self.spool.sequence(self.first) if self.spool is not None else self.rows
        names = self.names if rows else tuple(c.key for c in self.columns)  # as make_table: no row, no hidden key
        return Table(key, sheet, title, file_stem, self.columns, rows, names, total_row, note=note)


def make_table(
    key: str,
    sheet: str,
    title: str,
    file_stem: str,
    columns: Sequence[Column],
    rows: list[Row],
    *,
    totals: bool = False,
    note: str = "",
) -> Table:
    """Apply each column's Python twin to the rows (and the total row), then store them as tuples."""
    hidden = sorted(k for k in set().union(*rows) if k.startswith("_"))  # every row's keys, gathered in C
    builder = TableBuilder(columns, hidden)
    for row in rows:
        builder.add(row)
    return builder.table(key, sheet, title, file_stem, totals=totals, note=note)


_PLAIN = frozenset({str, int, bool, Decimal, dt.date, dt.datetime})


def missing(value: Any) -> bool:
    """No value: None, NaN, or pandas' NA (from a DataFrame someone made; pandas is never imported here)."""
    if value is None:
        return True
    if value.__class__ is float:
        return math.isnan(value)
    if value.__class__ in _PLAIN:  # the common cases, decided without a look at pandas
        return False
    pandas = sys.modules.get("pandas")
    return pandas is not None and value is pandas.NA


def n(value: Any) -> float:
    """Excel's N(): a blank (or "", or NaN) counts as 0; an amount (Decimal) is a float."""
    if value is None:
        return 0
    kind = value.__class__  # the common kinds first, without == on each (a hot path)
    if kind is int:
        return value
    if kind is Decimal:
        return float(value)
    if kind is float:
        return 0 if math.isnan(value) else value
    if value == "" or (isinstance(value, float) and math.isnan(value)):
        return 0
    return float(value) if isinstance(value, Decimal) else value


def blank(value: Any) -> bool:
    """Excel's `cell=""`: true for an empty cell and for a formula that gave ""."""
    return value is None or value == ""


def ratio(numerator: Any, denominator: Any) -> float | None:
    """`IF(N(d)=0,"",n/d)`."""
    return None if n(denominator) == 0 else n(numerator) / n(denominator)


def share_formula(numerator: str, denominator: str) -> str:
    return f'IF(N({{{denominator}}})=0,"",{{{numerator}}}/{{{denominator}}})'


# --- what every sheet's builder shares ----------------------------------------------------------


@dataclass
class Context:
    """What the per-report and per-insats builders work from."""

    spec: FormSpec
    tolerance: float
    reports: list[FileOutcome]  # accepted, in the order of the per-report tables
    latest: list[int]  # per insats: index into reports of its latest report
    spool: Spool | None = None  # where a large batch's texts go (TableBuilder)
    sent: Mapping[str, str] = field(default_factory=dict)  # stored name → the name the coordinator sent

    def identity(self, outcome: FileOutcome, answers: dict[str, Any]) -> Row:
        """A report's case number, name and number, and its file: the name it was sent under (the
        name found, when the intake did not receive it), the name it is stored under, its place."""
        return {
            "case_number": answers.get("case_number"),
            "initiative_name": answers.get("initiative_name"),
            "report_number": answers.get("report_number"),
            **self.source(outcome),
        }

    def source(self, outcome: FileOutcome) -> Row:
        """The file columns of a report's rows (SOURCE_FILE, STORED_FILE) and its place (FILE)."""
        return {"source_file": self.sent.get(outcome.name) or outcome.name, "stored_file": outcome.name,
                FILE: outcome.result.file}


def id_columns(spec: FormSpec) -> list[Column]:
    return [
        Column("case_number", spec.fields["case_number"].label),
        Column("initiative_name", spec.fields["initiative_name"].label),
        Column("report_number", spec.fields["report_number"].label, "int"),
    ]


SOURCE_FILE = Column("source_file", "Källfil", "link")  # the name as sent; the master links it to the file
STORED_FILE = Column("stored_file", "Sparad som")  # the file's name in the inbox (relative to it)
SOURCE_CELLS = Column("source", "Celler i källfilen")

# The hidden keys of the trail (see master/rows.py): FILE, the report's file where the
# consolidation found it (every table with SOURCE_FILE has it); CELLS, in a table with traced
# columns, the source cell of each traced column in column order ("Budget!C6"), a tuple shared by
# every row of the same cells, so a row costs one reference more.
FILE = "_file"
CELLS = "_cells"
SOURCE_KEYS = (FILE,)
TRACE_KEYS = (FILE, CELLS)


def sheet_cell(sheet: str, cell: str) -> str:
    """'Budget!C6', the sheet quoted where Excel wants it ('Mitt blad'!C6, 'Lägesrapport'!C20)."""
    plain = sheet.isascii() and sheet.replace("_", "a").isalnum() and not sheet[:1].isdigit()
    return f"{sheet}!{cell}" if plain else "'{}'!{}".format(sheet.replace("'", "''"), cell)
