"""The master's tables, built from the accepted reports as plain Python rows.

Every derived column is declared once, with its Excel formula AND its Python twin side by side
(`Column.formula` / `Column.compute`): the master writes the formula with the Python value as its
cached result, and a LibreOffice test recalculates the master to prove the two agree.

Rows are tuples (10 000 reports make 90 000 rows); a table's pandas DataFrame is made from them
the first time someone asks for `Table.frame`, so the command line never imports pandas.
"""

from __future__ import annotations

import datetime as dt
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from functools import cache, cached_property
from typing import TYPE_CHECKING, Any

from ..common.version import __version__
from ..form.conditions import holds
from ..form.spec import FormSpec

if TYPE_CHECKING:  # only for annotations: consolidate and coverage import this module
    import pandas as pd

    from .batch import Consolidation, FileOutcome
    from .coverage import CoverageReport

PROGRAM = "lagesrapport_xl"
MAX_CELL_TEXT = 32_767


class Status(str, Enum):
    """What became of one input file; the values are the Swedish texts of the Kontroll sheet."""

    ACCEPTED = "Godkänd"
    WARNINGS = "Godkänd med varningar"
    SUPERSEDED = "Ersatt"
    REJECTED = "Avvisad"
    SKIPPED = "Överhoppad"


STATUS_PLURAL = {
    Status.ACCEPTED: "Godkända",
    Status.WARNINGS: "Godkända med varningar",
    Status.SUPERSEDED: "Ersatta (dubbletter)",
    Status.REJECTED: "Avvisade",
    Status.SKIPPED: "Överhoppade (låsfiler)",
}


class Coverage(str, Enum):
    """What one row of RAR's register got for its period (coverage.py); the values are the
    Swedish texts of the Kontroll sheet."""

    RECEIVED = "Inkommen"
    REJECTED = "Bara avvisade filer"
    MISSING = "Saknas"


COVERAGE_PLURAL = {
    Coverage.RECEIVED: "Inkomna",
    Coverage.REJECTED: "Bara avvisade filer",
    Coverage.MISSING: "Saknas",
}
NOT_IN_REGISTER = "Inte i registret"  # in the register table: a file that belongs to no register row

SHEETS = ("Översikt", "Deltagare", "Budget", "Tidsandel", "Texter", "Historik", "Kontroll", "Om")
OVERVIEW, PARTICIPANTS, BUDGET, TIME_SHARE, TEXTS, HISTORY, CONTROL, ABOUT = SHEETS

LOCK_FILE_MESSAGE = (
    "Excel-låsfil (~$…): Excel skapar en sådan fil medan arbetsboken är öppen. Den är ingen rapport "
    "och har hoppats över."
)


# --- table schema -----------------------------------------------------------------------------

Row = dict[str, Any]


@dataclass(frozen=True)
class Column:
    """One column of a consolidated table.

    `formula` is the Excel formula of a derived column over placeholders (see master.py):
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
    rows: list[tuple[Any, ...]]
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
    for row in rows:
        for column in columns:
            if column.compute is not None:
                row[column.key] = column.compute(row)
    total_row: Row | None = None
    if totals:
        total_row = {}
        for column in columns:
            if column.total == "sum":
                total_row[column.key] = sum(n(row.get(column.key)) for row in rows)
        for column in columns:
            if column.total == "same" and column.compute is not None:
                total_row[column.key] = column.compute(total_row)
    hidden = sorted(k for k in set().union(*rows) if k.startswith("_"))  # every row's keys, gathered in C
    names = (*(c.key for c in columns), *hidden)
    typed = [(at, c.kind) for at, c in enumerate(columns) if c.kind in _DTYPES]  # the rest is kept as it is
    stored_rows = []
    for row in rows:
        values = list(map(row.get, names))
        for at, kind in typed:
            if values[at] is not None:
                values[at] = stored(kind, values[at])
        stored_rows.append(tuple(values))
    return Table(key, sheet, title, file_stem, tuple(columns), stored_rows, names, total_row, note=note)


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


# --- building the tables ----------------------------------------------------------------------


@dataclass
class _Context:
    spec: FormSpec
    tolerance: float
    reports: list[FileOutcome]  # accepted, in the order of the per-report tables
    latest: list[int]  # per insats: index into reports of its latest report


def _amount(value: Any) -> float | None:
    if value is None:
        return None
    return float(value) if isinstance(value, Decimal) else value


def _group_label(spec: FormSpec, key: str, fallback: str) -> str:
    """'Kvinnor' / 'Män': the text of the form row that holds the field."""
    return next((r.text for r in spec.layout if key in r.fields and r.text), fallback).rstrip(":")


def _id_columns(spec: FormSpec) -> list[Column]:
    return [
        Column("case_number", spec.fields["case_number"].label),
        Column("initiative_name", spec.fields["initiative_name"].label),
        Column("report_number", spec.fields["report_number"].label, "int"),
    ]


def _id_values(outcome: FileOutcome) -> Row:
    answers = outcome.answers or {}
    return {
        "case_number": answers.get("case_number"),
        "initiative_name": answers.get("initiative_name"),
        "report_number": answers.get("report_number"),
        "source_file": outcome.name,
    }


SOURCE_FILE = Column("source_file", "Källfil")
SOURCE_CELLS = Column("source", "Celler i källfilen")


def _overview_columns(spec: FormSpec) -> list[Column]:
    f = spec.fields
    return [
        Column("case_number", f["case_number"].label),
        Column("initiative_name", f["initiative_name"].label),
        Column("initiative_start", f["initiative_start"].label, "date"),
        Column("initiative_end", f["initiative_end"].label, "date"),
        Column("period_start", f["period_start"].label, "date"),
        Column("period_end", f["period_end"].label, "date"),
        Column("report_number", f["report_number"].label, "int"),
        Column("reports_total", f["reports_total"].label, "int"),
        Column("budget_on_track", "Budget i linje (egen bedömning)", "flag"),
        Column(
            "budget_in_line_computed",
            "Budget i linje (beräknat från tidsandel)",
            "flag",
            formula="{time_share.computed_in_line@}",
        ),
        Column("planned_min", "Planerat antal deltagare (från)", "int", formula="{participants.total_planned_min@}"),
        Column("planned_max", "Planerat antal deltagare (till)", "int", formula="{participants.total_planned_max@}"),
        Column("actual", "Faktiskt antal deltagare", "int", formula="{participants.total_actual@}"),
        Column("warnings", "Antal varningar", "int"),
        Column("signed_date", f["signed_date"].label + " (underskrift)", "date"),
        SOURCE_FILE,
    ]


def _participant_columns(spec: FormSpec) -> list[Column]:
    """Women, men and total: planned range, actual, % of the planned minimum and of the midpoint."""
    columns: list[Column] = []
    groups = [
        ("women", _group_label(spec, "women_actual", "Kvinnor")),
        ("men", _group_label(spec, "men_actual", "Män")),
        ("total", "Totalt"),
    ]
    for group, label in groups:
        lo, hi, act = f"{group}_planned_min", f"{group}_planned_max", f"{group}_actual"
        if group == "total":
            columns += [
                Column(
                    lo,
                    f"{label} planerat från",
                    "int",
                    formula='IF(AND({women_planned_min}="",{men_planned_min}=""),"",'
                    "N({women_planned_min})+N({men_planned_min}))",
                    compute=lambda r: _sum_or_blank(r["women_planned_min"], r["men_planned_min"]),
                ),
                Column(
                    hi,
                    f"{label} planerat till",
                    "int",
                    formula='IF(AND({women_planned_min}="",{women_planned_max}="",{men_planned_min}="",'
                    '{men_planned_max}=""),"",IF({women_planned_max}="",N({women_planned_min}),'
                    '{women_planned_max})+IF({men_planned_max}="",N({men_planned_min}),{men_planned_max}))',
                    compute=lambda r: _total_max(r),
                ),
                Column(
                    act,
                    f"{label} faktiskt",
                    "int",
                    formula='IF(AND({women_actual}="",{men_actual}=""),"",N({women_actual})+N({men_actual}))',
                    compute=lambda r: _sum_or_blank(r["women_actual"], r["men_actual"]),
                ),
            ]
        else:
            columns += [
                Column(lo, f"{label} planerat från", "int"),
                Column(hi, f"{label} planerat till", "int"),
                Column(act, f"{label} faktiskt", "int"),
            ]
        columns += [
            Column(
                f"{group}_pct_min",
                f"{label} faktiskt i % av planerat från",
                "pct",
                formula=f'IF(OR({{{act}}}="",N({{{lo}}})=0),"",{{{act}}}/{{{lo}}})',
                compute=lambda r, act=act, lo=lo: None if blank(r[act]) or n(r[lo]) == 0 else n(r[act]) / n(r[lo]),
            ),
            Column(
                f"{group}_pct_mid",
                f"{label} faktiskt i % av planerat mittvärde",
                "pct",
                formula=f'IF(OR({{{act}}}="",N({{{lo}}})+N({{{hi}}})=0),"",'
                f'{{{act}}}/((N({{{lo}}})+IF({{{hi}}}="",N({{{lo}}}),N({{{hi}}})))/2))',
                compute=lambda r, act=act, lo=lo, hi=hi: _pct_mid(r[act], r[lo], r[hi]),
            ),
        ]
    columns.append(
        Column(
            "below_plan",
            "Under planerat antal",
            "flag",
            formula="IF(OR(AND(ISNUMBER({women_actual}),ISNUMBER({women_planned_min}),"
            "{women_actual}<{women_planned_min}),AND(ISNUMBER({men_actual}),ISNUMBER({men_planned_min}),"
            '{men_actual}<{men_planned_min})),"Ja","Nej")',
            compute=lambda r: "Ja" if holds("below_plan", r) else "Nej",
        )
    )
    return columns


def _sum_or_blank(*values: Any) -> Any:
    return None if all(blank(v) for v in values) else sum(n(v) for v in values)


def _total_max(row: Row) -> Any:
    keys = ("women_planned_min", "women_planned_max", "men_planned_min", "men_planned_max")
    if all(blank(row[k]) for k in keys):
        return None
    women = n(row["women_planned_min"]) if blank(row["women_planned_max"]) else row["women_planned_max"]
    men = n(row["men_planned_min"]) if blank(row["men_planned_max"]) else row["men_planned_max"]
    return women + men


def _pct_mid(actual: Any, low: Any, high: Any) -> float | None:
    if blank(actual) or n(low) + n(high) == 0:
        return None
    top = n(low) if blank(high) else n(high)
    return n(actual) / ((n(low) + top) / 2)


def _participants(ctx: _Context) -> tuple[Table, Table]:
    columns = [
        *_id_columns(ctx.spec),
        Column("period_end", ctx.spec.fields["period_end"].label, "date"),
        *_participant_columns(ctx.spec),
        SOURCE_FILE,
    ]
    keys = ("women_planned_min", "women_planned_max", "women_actual", "men_planned_min", "men_planned_max", "men_actual")
    rows = []
    for outcome in ctx.reports:
        answers = outcome.answers or {}
        rows.append(
            {**_id_values(outcome), "period_end": answers.get("period_end"), **{k: answers.get(k) for k in keys}}
        )
    main = make_table(
        "participants",
        PARTICIPANTS,
        "Planerat och faktiskt antal deltagare, per insats och rapport",
        "deltagare",
        columns,
        rows,
    )
    latest_columns = [
        *_id_columns(ctx.spec),
        Column("planned_min", "Planerat från", "int", formula="{participants.total_planned_min@_row}"),
        Column("planned_max", "Planerat till", "int", formula="{participants.total_planned_max@_row}"),
        Column("actual", "Faktiskt", "int", formula="{participants.total_actual@_row}"),
    ]
    latest_rows = []
    for index in ctx.latest:
        latest_rows.append(
            {
                **_id_values(ctx.reports[index]),
                "planned_min": main.value(index, "total_planned_min"),
                "planned_max": main.value(index, "total_planned_max"),
                "actual": main.value(index, "total_actual"),
                "_row": index,
            }
        )
    latest = make_table(
        "participants_latest",
        PARTICIPANTS,
        "Senaste rapporten per insats (underlag för diagrammet)",
        "deltagare_senaste",
        latest_columns,
        latest_rows,
    )
    return main, latest


def _budget_amount_columns(spec: FormSpec, *, sums_of: str | None = None) -> list[Column]:
    """Granted, period budget, period utfall and cumulative utfall, then deviation and shares.

    With `sums_of` (a column of the detail table to match), each amount is a SUMPRODUCT over the
    detail table, so a per-insats or per-line total can be traced to the rows it adds up.
    """
    amounts = [c for c in spec.budget.columns if c.is_input and c.type.name == "amount"]
    columns = []
    for column in amounts:
        formula = None
        if sums_of:
            formula = f"SUMPRODUCT(--EXACT({{budget.{sums_of}}},{{{sums_of}}}),{{budget.{column.key}}})"
        columns.append(Column(column.key, column.label, "kr", formula=formula, total="sum"))
    columns += [
        Column(
            "deviation",
            "Avvikelse för perioden (budget − utfall), kr",
            "kr",
            formula="{budget_period}-{actual_period}",
            compute=lambda r: n(r["budget_period"]) - n(r["actual_period"]),
            total="sum",
        ),
        Column(
            "deviation_pct",
            "Avvikelse för perioden, % av periodens budget",
            "pct",
            formula=share_formula("deviation", "budget_period"),
            compute=lambda r: ratio(r["deviation"], r["budget_period"]),
            total="same",
        ),
        Column(
            "used_share",
            "Förbrukat av beviljad budget (%)",
            "pct",
            formula=share_formula("actual_cumulative", "budget_total"),
            compute=lambda r: ratio(r["actual_cumulative"], r["budget_total"]),
            total="same",
        ),
    ]
    return columns


@cache
def _line_span(spec: FormSpec, line_key: str) -> str:
    """'Budget!B6:E6' — where the amounts of one line sit in the coordinator's file."""
    keys = _budget_keys(spec)
    cells = [
        spec.fields[keys[line_key, c.key]].cell for c in spec.budget.columns if c.is_input and c.type.name == "amount"
    ]
    span = cells[0] if len(cells) == 1 else f"{cells[0]}:{cells[-1]}"
    return f"{spec.budget_sheet}!{span}"


def _budget_rows(ctx: _Context, lines: Sequence[Any]) -> list[Row]:
    spec = ctx.spec
    keys = _budget_keys(spec)
    rows = []
    for index in ctx.latest:
        outcome = ctx.reports[index]
        answers = outcome.answers or {}
        for line in lines:
            row = {**_id_values(outcome), "line": line.label}
            for column in spec.budget.columns:
                if column.is_input:
                    value = answers.get(keys[line.key, column.key])
                    row[column.key] = _amount(value) if column.type.name == "amount" else value
            row["source"] = _line_span(spec, line.key)
            rows.append(row)
    return rows


def _text_budget_columns(spec: FormSpec) -> list[Column]:
    return [Column(c.key, c.label, "text") for c in spec.budget.columns if c.is_input and c.type.name == "text"]


def _budget(ctx: _Context, time_share: Table) -> list[Table]:
    spec = ctx.spec
    line_column = Column("line", "Kostnadsrad")
    detail_columns = [
        *_id_columns(spec),
        line_column,
        *_budget_amount_columns(spec),
        *_text_budget_columns(spec),
        SOURCE_FILE,
        SOURCE_CELLS,
    ]
    detail = make_table(
        "budget",
        BUDGET,
        "Budget och utfall per insats och kostnadsrad (senaste rapporten per insats)",
        "budget",
        detail_columns,
        _budget_rows(ctx, spec.budget.lines),
        totals=True,
        note="Summaraden räknar bara synliga rader: filtrera på en insats eller en kostnadsrad för dess summa.",
    )
    amounts = [c.key for c in spec.budget.columns if c.is_input and c.type.name == "amount"]
    by_insats_rows = []
    for index in ctx.latest:
        outcome = ctx.reports[index]
        row = {**_id_values(outcome), "_time_row": index}
        for key in amounts:
            row[key] = _report_sum(spec, outcome.answers or {}, key)
        row["elapsed_share"] = time_share.value(index, "elapsed_share")
        by_insats_rows.append(row)
    by_insats = make_table(
        "budget_by_initiative",
        BUDGET,
        "Summa per insats",
        "budget_per_insats",
        [
            *_id_columns(spec),
            SOURCE_FILE,  # under "Kostnadsrad" of the table above: the amount columns line up
            *_budget_amount_columns(spec, sums_of="source_file"),
            Column("elapsed_share", "Förfluten tid av insatsens totala period (%)", "pct",
                   formula="{time_share.elapsed_share@_time_row}"),
        ],
        by_insats_rows,
        totals=True,
    )
    by_line_rows = []
    for line in spec.budget.lines:
        row: Row = {"line": line.label}
        for key in amounts:
            field_key = _budget_keys(spec)[line.key, key]
            row[key] = float(sum(n((ctx.reports[i].answers or {}).get(field_key)) for i in ctx.latest))
        by_line_rows.append(row)
    by_line = make_table(
        "budget_by_line",
        BUDGET,
        "Summa per kostnadsrad, alla insatser",
        "budget_per_kostnadsrad",
        [line_column, *_budget_amount_columns(spec, sums_of="line")],
        by_line_rows,
        totals=True,
    )
    financing_columns = [
        *_id_columns(spec),
        Column("line", "Finansiering"),
        *_budget_amount_columns(spec),
        *_text_budget_columns(spec),
        SOURCE_FILE,
        SOURCE_CELLS,
    ]
    financing = make_table(
        "financing",
        BUDGET,
        "Finansiering per insats (senaste rapporten per insats)",
        "finansiering",
        financing_columns,
        _budget_rows(ctx, spec.budget.financing),
        totals=True,
    )
    return [detail, by_insats, by_line, financing]


@cache
def _budget_keys(spec: FormSpec) -> dict[tuple[str, str], str]:
    """(line, column) → field key, for every budget and financing line (a hot path: cached)."""
    return {
        (line.key, column.key): spec.budget_key(line.key, column.key)
        for line in spec.budget.lines + spec.budget.financing
        for column in spec.budget.columns
    }


def _report_sum(spec: FormSpec, answers: dict[str, Any], column: str) -> float:
    """The sum of one budget column over the cost lines of one report (blanks count as 0)."""
    keys = _budget_keys(spec)
    return float(sum(n(answers.get(keys[line.key, column])) for line in spec.budget.lines))


def _time_share(ctx: _Context) -> Table:
    spec = ctx.spec
    tol = ctx.tolerance
    f = spec.fields
    granted_label = spec.budget.column("budget_total").label
    cumulative_label = spec.budget.column("actual_cumulative").label
    columns = [
        *_id_columns(spec),
        Column("initiative_start", f["initiative_start"].label, "date"),
        Column("initiative_end", f["initiative_end"].label, "date"),
        Column("period_end", f["period_end"].label, "date"),
        Column(
            "total_days",
            "Insatsens längd (dagar)",
            "days",
            formula="{initiative_end}-{initiative_start}+1",
            compute=lambda r: (r["initiative_end"] - r["initiative_start"]).days + 1,
        ),
        Column(
            "elapsed_share",
            "Förfluten tid vid rapportperiodens slut (%)",
            "pct",
            formula='IF(N({total_days})<=0,"",MAX(0,MIN(1,({period_end}-{initiative_start}+1)/{total_days})))',
            compute=_elapsed_share,
        ),
        Column("granted", f"{granted_label}, summa", "kr"),
        Column(
            "expected",
            "Förväntat utfall efter tidsandel",
            "kr",
            formula='IF({elapsed_share}="","",{granted}*{elapsed_share})',
            compute=lambda r: None if blank(r["elapsed_share"]) else n(r["granted"]) * r["elapsed_share"],
        ),
        Column("actual_cumulative", f"{cumulative_label}, summa", "kr"),
        Column(
            "deviation",
            "Avvikelse (utfall − förväntat), kr",
            "kr",
            formula='IF({expected}="","",{actual_cumulative}-{expected})',
            compute=lambda r: None if blank(r["expected"]) else n(r["actual_cumulative"]) - r["expected"],
        ),
        Column(
            "deviation_pct",
            "Avvikelse, % av förväntat",
            "pct",
            formula=share_formula("deviation", "expected"),
            compute=lambda r: ratio(r["deviation"], r["expected"]),
        ),
        Column(
            "computed_in_line",
            "I linje enligt siffrorna",
            "flag",
            formula='IF({expected}="","",IF(N({expected})=0,IF(N({actual_cumulative})=0,"Ja","Nej"),'
            'IF(ABS({deviation})<={!tolerance}*{expected},"Ja","Nej")))',
            compute=lambda r: _in_line(r, tol),
        ),
        Column("budget_on_track", "I linje enligt rapporten (egen bedömning)", "flag"),
        Column(
            "disagrees",
            "Egen bedömning avviker från siffrorna",
            "flag",
            formula='IF(OR({computed_in_line}="",{budget_on_track}=""),"",'
            'IF({computed_in_line}={budget_on_track},"Nej","Ja"))',
            compute=lambda r: None
            if blank(r["computed_in_line"]) or blank(r["budget_on_track"])
            else ("Nej" if r["computed_in_line"] == r["budget_on_track"] else "Ja"),
        ),
        SOURCE_FILE,
        SOURCE_CELLS,
    ]
    rows = []
    cost_cells = {
        key: [spec.fields[spec.budget_key(line.key, key)].cell for line in spec.budget.lines]
        for key in ("budget_total", "actual_cumulative")
    }
    for outcome in ctx.reports:
        answers = outcome.answers or {}
        source = ", ".join(
            f"{spec.budget_sheet}!{cells[0]}:{cells[-1]}" for cells in cost_cells.values() if cells
        )
        rows.append(
            {
                **_id_values(outcome),
                "initiative_start": answers.get("initiative_start"),
                "initiative_end": answers.get("initiative_end"),
                "period_end": answers.get("period_end"),
                "granted": _report_sum(spec, answers, "budget_total"),
                "actual_cumulative": _report_sum(spec, answers, "actual_cumulative"),
                "budget_on_track": answers.get("budget_on_track"),
                "source": source,
            }
        )
    return make_table(
        "time_share",
        TIME_SHARE,
        "Ligger det ekonomiska utfallet i linje med budget, utifrån den tid som gått?",
        "tidsandel",
        columns,
        rows,
        note=(
            "Förväntat utfall = beviljad budget × andel av insatsens totala period som gått vid "
            "rapportperiodens slut (hela dagar, 0–100 %). I linje om ackumulerat utfall avviker högst "
            "toleransen (bladet Om) från det förväntade."
        ),
    )


def _elapsed_share(row: Row) -> float | None:
    total = row["total_days"]
    if n(total) <= 0:
        return None
    elapsed = (row["period_end"] - row["initiative_start"]).days + 1
    return max(0.0, min(1.0, elapsed / total))


def _in_line(row: Row, tolerance: float) -> str | None:
    expected = row["expected"]
    if blank(expected):
        return None
    if n(expected) == 0:
        return "Ja" if n(row["actual_cumulative"]) == 0 else "Nej"
    return "Ja" if abs(row["deviation"]) <= tolerance * expected else "Nej"


def _texts(ctx: _Context) -> Table:
    fields = [f for f in ctx.spec.report_fields if f.type.name == "long_text"]
    columns = [*_id_columns(ctx.spec), *[Column(f.key, f.label, "long_text") for f in fields], SOURCE_FILE]
    rows = []
    for outcome in ctx.reports:
        answers = outcome.answers or {}
        rows.append({**_id_values(outcome), **{f.key: answers.get(f.key) for f in fields}})
    return make_table("texts", TEXTS, "Fritextsvar, en rad per rapport", "texter", columns, rows)


def _history(ctx: _Context, participants: Table, time_share: Table) -> Table:
    spec = ctx.spec
    by_insats: dict[Any, dict[int, int]] = {}
    for index, outcome in enumerate(ctx.reports):
        by_insats.setdefault(outcome.insats, {})[(outcome.answers or {})["report_number"]] = index
    top = max((number for numbers in by_insats.values() for number in numbers), default=0)
    columns = [
        Column("case_number", spec.fields["case_number"].label),
        Column("initiative_name", spec.fields["initiative_name"].label),
        Column("reports_total", spec.fields["reports_total"].label, "int"),
        Column("latest_report", "Senaste rapport nr", "int"),
    ]
    for number in range(1, top + 1):
        columns += [
            Column(f"actual_{number}", f"Nr {number}: faktiskt antal deltagare", "int",
                   formula=f"{{participants.total_actual@_row_{number}}}"),
            Column(f"cumulative_{number}", f"Nr {number}: ackumulerat utfall", "kr",
                   formula=f"{{time_share.actual_cumulative@_row_{number}}}"),
        ]
    rows = []
    for index in ctx.latest:
        latest = ctx.reports[index]
        answers = latest.answers or {}
        row: Row = {
            "case_number": answers.get("case_number"),
            "initiative_name": answers.get("initiative_name"),
            "reports_total": answers.get("reports_total"),
            "latest_report": answers.get("report_number"),
        }
        for number, source in sorted(by_insats[latest.insats].items()):
            row[f"_row_{number}"] = source
            row[f"actual_{number}"] = participants.value(source, "total_actual")
            row[f"cumulative_{number}"] = time_share.value(source, "actual_cumulative")
        rows.append(row)
    return make_table(
        "history", HISTORY, "Rapport för rapport, per insats", "historik", columns, rows
    )


def _problems_text(outcome: FileOutcome) -> str:
    lines = []
    if outcome.status is Status.SUPERSEDED:
        lines.append(f"Ersatt av {outcome.superseded_by}. {outcome.superseded_reason}")
    if outcome.status is Status.SKIPPED and not outcome.result.issues:
        lines.append(LOCK_FILE_MESSAGE)
    lines += [issue.describe() for issue in outcome.result.issues]
    text = "\n".join(lines)
    if len(text) > MAX_CELL_TEXT - 100:
        text = text[: MAX_CELL_TEXT - 100] + "\n… (fler problem: se lagesrapport validate)"
    return text


def _shown(value: Any) -> str | None:
    """A possibly unparsed value (of a rejected file) as text for the Kontroll sheet."""
    if value is None or isinstance(value, (dict, list)):
        return None
    text = str(value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else value)
    return text[:255]


def _control(outcomes: list[FileOutcome], spec: FormSpec) -> tuple[Table, Table]:
    columns = [
        Column("file", "Fil"),
        Column("status", "Status"),
        Column("case_number", spec.fields["case_number"].label),
        Column("initiative_name", spec.fields["initiative_name"].label),
        Column("report_number", spec.fields["report_number"].label),
        Column("errors", "Antal fel", "int"),
        Column("warnings", "Antal varningar", "int"),
        Column("problems", "Problem (blad!cell, fråga och vad som behöver rättas)", "long_text"),
        Column("superseded_by", "Ersatt av"),
        Column("form_version", "Formulärversion i filen"),
    ]
    rows = []
    for outcome in outcomes:
        values = outcome.answers or outcome.result.values or {}
        rows.append(
            {
                "file": outcome.name,
                "status": outcome.status.value,
                "case_number": _shown(values.get("case_number")),
                "initiative_name": _shown(values.get("initiative_name")),
                "report_number": _shown(values.get("report_number")),
                "errors": len(outcome.result.errors),
                "warnings": len(outcome.result.warnings),
                "problems": _problems_text(outcome),
                "superseded_by": outcome.superseded_by,
                "form_version": outcome.result.form_version,
            }
        )
    control = make_table("control", CONTROL, "Alla filer som hittades", "kontroll", columns, rows)
    count_table = _state_counts(
        "control_counts",
        "Antal filer per status",
        "kontroll_antal",
        (Column("found", "Filer som hittades", "int"), len(outcomes)),
        "control.status",
        [(f"count_{s.name.lower()}", STATUS_PLURAL[s], s.value, sum(1 for o in outcomes if o.status is s))
         for s in Status],
        "Summa (ska vara lika med antalet filer)",
    )
    return count_table, control


def _state_counts(
    key: str,
    title: str,
    file_stem: str,
    whole: tuple[Column, int],
    column: str,
    states: Sequence[tuple[str, str, str, int]],
    check: str,
    extra: Sequence[tuple[str, str, str, int]] = (),
) -> Table:
    """A one-row table of the Kontroll sheet: how many rows there are (`whole`), how many of them
    are in each state — (key, header, the state's text, Python's count), a COUNTIF over `column`
    ("table.key") whose cached result is Python's count — and the states' sum, `check`, which must
    equal the whole. `extra` states are counted after the sum and are not part of it."""

    def counted(state_key: str, header: str, text: str, _count: int) -> Column:
        return Column(state_key, header, "int", formula=f'COUNTIF({{{column}}},"{text}")')

    keys = [state[0] for state in states]
    total = Column(
        "count_sum",
        check,
        "int",
        formula="+".join(f"{{{k}}}" for k in keys),
        compute=lambda r: sum(r[k] for k in keys),
    )
    columns = [whole[0], *(counted(*state) for state in states), total, *(counted(*state) for state in extra)]
    counts = {whole[0].key: whole[1], **{state[0]: state[3] for state in (*states, *extra)}}
    return make_table(key, CONTROL, title, file_stem, columns, [counts])


def _register(c: Consolidation, coverage: CoverageReport) -> tuple[Table, Table]:
    """The register against the files (coverage.py): one row per register row with its state and
    files for the period, then each file that belongs to no register row, and the counts."""
    fields = c.spec.fields
    columns = [  # the first five line up with the file list above (Fil, Status, insats, nr)
        Column("file", "Fil som gäller"),
        Column("state", "Läge för perioden"),
        Column("case_number", fields["case_number"].label),
        Column("initiative_name", fields["initiative_name"].label),
        Column("report_number", fields["report_number"].label, "int"),
        Column("period_start", fields["period_start"].label, "date"),
        Column("period_end", fields["period_end"].label, "date"),
        Column("rejected", "Avvisade filer för perioden", "long_text"),
        Column("superseded", "Ersatta filer för perioden"),
        Column("register_row", "Rad i registret", "int"),
    ]
    rows: list[Row] = [
        {
            "file": row.accepted,
            "state": row.state.value,
            "case_number": row.case_number,
            "initiative_name": row.initiative_name,
            "report_number": row.report_number,
            "period_start": row.period_start,
            "period_end": row.period_end,
            "rejected": "\n".join(row.rejected) or None,
            "superseded": "\n".join(row.superseded) or None,
            "register_row": row.row,
        }
        for row in coverage.rows
    ]
    outcomes = {outcome.name: outcome for outcome in c.files}
    for name in coverage.unmatched:
        outcome = outcomes[name]
        parsed = outcome.answers if outcome.answers is not None else outcome.result.parsed_values
        shown = outcome.answers if outcome.answers is not None else outcome.result.values
        rows.append(
            {
                "file": name,
                "state": NOT_IN_REGISTER,
                "case_number": _shown(shown.get("case_number")),
                "initiative_name": _shown(shown.get("initiative_name")),
                **{key: parsed.get(key) for key in ("report_number", "period_start", "period_end")},
            }
        )
    table = make_table(
        "register",
        CONTROL,
        "Registret: har varje insats rapporterat för perioden?",
        "register",
        columns,
        rows,
        note=(
            "En rad per rad i registret. Rapporten som väntas är registrets rapportnummer, annars "
            "rapportperiodens slutdatum, annars vilken rapport som helst från insatsen. Filer som inte "
            f"hör till någon insats i registret står sist: {NOT_IN_REGISTER}."
        ),
    )
    counts = _state_counts(
        "register_counts",
        "Registret: antal insatser per läge",
        "register_antal",
        (Column("register_rows", "Rader i registret", "int"), len(coverage.rows)),
        "register.state",
        [(f"count_{s.name.lower()}", COVERAGE_PLURAL[s], s.value, coverage.count(s)) for s in Coverage],
        "Summa (ska vara lika med antalet rader i registret)",
        [("count_not_in_register", "Filer som inte finns i registret", NOT_IN_REGISTER, len(coverage.unmatched))],
    )
    return counts, table


def _about(c: Consolidation) -> tuple[Table, Table]:
    versions = sorted({o.result.form_version for o in c.files if o.result.form_version})
    items = [
        ("run_at", "Körd", c.started.replace(microsecond=0), "datetime"),
        ("program", "Program", f"{PROGRAM} {__version__}", "text"),
        ("form_version", "Formulärversion (programmets)", c.spec.version, "text"),
        ("file_versions", "Formulärversioner i filerna", ", ".join(versions), "text"),
        ("inputs", "Inkorg (mappar och filer)", "\n".join(c.inputs), "text"),
        *([("register", REGISTER_INPUT, c.register_file, "text")] if c.register_file else []),
        ("files", "Antal filer", len(c.files), "int"),
        ("accepted", "Antal godkända rapporter", sum(1 for o in c.files if o.accepted), "int"),
        ("tolerance", "Tolerans för tidsandel (±)", c.tolerance, "pct"),
    ]
    about = make_table(
        "about",
        ABOUT,
        "Om sammanställningen",
        "om",
        [Column("item", "Uppgift"), Column("value", "Värde", "auto")],
        [{"item": label, "value": value, "_name": key, "_kind": kind} for key, label, value, kind in items],
    )
    files = make_table(
        "about_files",
        ABOUT,
        "Indata: varje fil med sin kontrollsumma (SHA-256)",
        "om_filer",
        [
            Column("file", "Fil"),
            Column("size", "Storlek (byte)", "int"),
            Column("modified", "Ändrad", "datetime"),
            Column("sha256", "SHA-256"),
            Column("status", "Status"),
        ],
        [
            {
                "file": o.name,
                "size": o.result.size,
                "modified": o.result.modified.replace(microsecond=0) if o.result.modified else None,
                "sha256": o.result.sha256,
                "status": o.status.value,
            }
            for o in c.files
        ]
        + _register_input(c),
    )
    return about, files


REGISTER_INPUT = "Register över insatser"


def _register_input(c: Consolidation) -> list[Row]:
    """The register, when one was used, as one more input with its checksum (it is not a report)."""
    if not c.register_file:
        return []
    from .batch import file_digest  # consolidate imports this module

    sha256, size, modified = file_digest(c.register_file)
    return [{
        "file": c.register_file,
        "size": size,
        "modified": modified.replace(microsecond=0) if modified else None,
        "sha256": sha256,
        "status": REGISTER_INPUT,
    }]



def _overview_table(ctx: _Context, participants: Table, time_share: Table) -> Table:
    columns = _overview_columns(ctx.spec)
    rows = []
    for index, outcome in enumerate(ctx.reports):
        answers = outcome.answers or {}
        row = {c.key: answers.get(c.key) for c in columns if c.key in answers}
        row.update(
            budget_in_line_computed=time_share.value(index, "computed_in_line"),
            planned_min=participants.value(index, "total_planned_min"),
            planned_max=participants.value(index, "total_planned_max"),
            actual=participants.value(index, "total_actual"),
            warnings=len(outcome.result.warnings),
            source_file=outcome.name,
        )
        rows.append(row)
    return make_table(
        "overview",
        OVERVIEW,
        "Godkända lägesrapporter",
        "oversikt",
        columns,
        rows,
        note="En rad per godkänd rapport. Avvisade och ersatta filer finns på bladet Kontroll.",
    )



def build_tables(consolidation: Consolidation, reports: list[FileOutcome], latest: list[int]) -> dict[str, Table]:
    """Every table of the master, by key, in the order the master writes them.

    `reports` are the accepted reports in the order of the per-report tables, `latest` the index
    in `reports` of each insats' latest report.
    """
    ctx = _Context(consolidation.spec, consolidation.tolerance, reports, latest)
    participants, participants_latest = _participants(ctx)
    time_share = _time_share(ctx)
    overview = _overview_table(ctx, participants, time_share)
    tables = [
        overview,
        participants,
        participants_latest,
        *_budget(ctx, time_share),
        time_share,
        _texts(ctx),
        _history(ctx, participants, time_share),
        *_control(consolidation.files, consolidation.spec),
    ]
    if consolidation.coverage is not None:  # --register: who has reported for the period
        tables += _register(consolidation, consolidation.coverage)
    built = {t.key: t for t in tables}
    consolidation.tables = built  # _about counts and describes what is there so far
    for table in _about(consolidation):
        built[table.key] = table
    return built
