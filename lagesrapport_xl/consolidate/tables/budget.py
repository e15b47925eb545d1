"""The Budget sheet: budget and utfall per insats and cost line of each insats' latest report, the
sums per insats and per cost line, and the financing lines."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any

from ...form.spec import FormSpec
from .base import (
    BUDGET,
    CELLS,
    SOURCE_CELLS,
    SOURCE_FILE,
    SOURCE_KEYS,
    STORED_FILE,
    TRACE_KEYS,
    Column,
    Context,
    Row,
    Table,
    TableBuilder,
    id_columns,
    make_table,
    n,
    ratio,
    share_formula,
    sheet_cell,
)

if TYPE_CHECKING:
    from ..statuses import FileOutcome


def _budget_amount_columns(spec: FormSpec, *, sums_of: str | None = None) -> list[Column]:
    """Granted, period budget, period utfall and cumulative utfall, then deviation and shares.

    With `sums_of` (a column of the detail table to match), each amount is a SUMPRODUCT over the
    detail table, so a per-insats or per-line total can be traced to the rows it adds up; without,
    each amount is taken from one cell of the report (traced: the master links it there).
    """
    amounts = [c for c in spec.budget.columns if c.is_input and c.type.name == "amount"]
    columns = []
    for column in amounts:
        formula = None
        if sums_of:
            formula = f"SUMPRODUCT(--EXACT({{budget.{sums_of}}},{{{sums_of}}}),{{budget.{column.key}}})"
        traced = not sums_of
        columns.append(Column(column.key, column.label, "kr", formula=formula, total="sum", traced=traced))
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
def _line_cells(spec: FormSpec, line_key: str) -> tuple[str, ...]:
    """('Budget!B6', 'Budget!C6', …): the cell of each amount of one line in the coordinator's
    file, in the order of the amount columns (the form spec says where each field sits)."""
    keys = spec.budget_keys
    return tuple(
        sheet_cell(field.sheet, field.cell)
        for column in spec.budget.columns
        if column.is_input and column.type.name == "amount"
        for field in [spec.fields[keys[line_key, column.key]]]
    )


@cache
def _line_span(spec: FormSpec, line_key: str) -> str:
    """'Budget!B6, C6, D6, E6': each amount's cell, one by one in the order of the columns (the
    sheet named once, as all of a line's cells are on one sheet)."""
    cells = _line_cells(spec, line_key)
    sheet = cells[0].rsplit("!", 1)[0] + "!" if cells else ""
    return ", ".join(cell[len(sheet):] if at and cell.startswith(sheet) else cell
                     for at, cell in enumerate(cells))


@cache
def _line_fields(spec: FormSpec, line_key: str) -> tuple[tuple[str, str, bool], ...]:
    """(column, the line's field in that column, whether it is an amount) of each input column."""
    keys = spec.budget_keys
    return tuple(
        (column.key, keys[line_key, column.key], column.type.name == "amount")
        for column in spec.budget.columns
        if column.is_input
    )


def _budget_rows(ctx: Context, outcome: FileOutcome, answers: dict[str, Any],
                 lines: Sequence[Any]) -> list[Row]:
    """One report's rows of a budget table: one per line."""
    spec = ctx.spec
    identity = ctx.identity(outcome, answers)
    rows = []
    for line in lines:
        row = {**identity, "line": line.label}
        for key, field, amount in _line_fields(spec, line.key):
            value = answers.get(field)
            row[key] = float(value) if amount and value.__class__ is Decimal else value  # an amount as a float
        row["source"] = _line_span(spec, line.key)
        row[CELLS] = _line_cells(spec, line.key)
        rows.append(row)
    return rows


def _text_budget_columns(spec: FormSpec) -> list[Column]:
    return [Column(c.key, c.label, "text") for c in spec.budget.columns if c.is_input and c.type.name == "text"]


class BudgetRows:
    """The Budget sheet, from each insats' latest report as the reports come (add; the same
    report's row of the Tidsandel sheet added just before), then its tables."""

    def __init__(self, ctx: Context, time_share: TableBuilder):
        spec = ctx.spec
        self.ctx = ctx
        self.spec = spec
        self.time_share = time_share
        self.line_column = Column("line", "Kostnadsrad")
        self.amounts = [c.key for c in spec.budget.columns if c.is_input and c.type.name == "amount"]
        self.detail = TableBuilder([
            *id_columns(spec),
            self.line_column,
            *_budget_amount_columns(spec),
            *_text_budget_columns(spec),
            SOURCE_FILE,
            STORED_FILE,
            SOURCE_CELLS,
        ], hidden=TRACE_KEYS)
        self.by_insats = TableBuilder([
            *id_columns(spec),
            # under "Kostnadsrad" of the table above, so the amount columns line up: the stored
            # name, unique where two insatser may have sent files of the same name
            STORED_FILE,
            *_budget_amount_columns(spec, sums_of="stored_file"),
            Column("elapsed_share", "Förfluten tid av insatsens totala period (%)", "pct",
                   formula="{time_share.elapsed_share@_time_row}"),
            SOURCE_FILE,
        ], hidden=("_time_row", *SOURCE_KEYS))
        self.financing = TableBuilder([
            *id_columns(spec),
            Column("line", "Finansiering"),
            *_budget_amount_columns(spec),
            *_text_budget_columns(spec),
            SOURCE_FILE,
            STORED_FILE,
            SOURCE_CELLS,
        ], hidden=TRACE_KEYS)
        # per cost line and amount column: each insats' amount (N()), summed in the order of the insatser
        self.line_amounts = {(line.key, key): [] for line in spec.budget.lines for key in self.amounts}
        self.line_fields = [(values, spec.budget_keys[pair]) for pair, values in self.line_amounts.items()]

    def add(self, index: int, outcome: FileOutcome, answers: dict[str, Any]) -> None:
        """An insats' latest report (`index` in the per-report tables)."""
        spec = self.spec
        for row in _budget_rows(self.ctx, outcome, answers, spec.budget.lines):
            self.detail.add(row)
        row = {**self.ctx.identity(outcome, answers), "_time_row": index}
        for key in self.amounts:
            row[key] = report_sum(spec, answers, key)
        row["elapsed_share"] = self.time_share.latest("elapsed_share")
        self.by_insats.add(row)
        for values, field in self.line_fields:
            values.append(n(answers.get(field)))
        for row in _budget_rows(self.ctx, outcome, answers, spec.budget.financing):
            self.financing.add(row)

    def tables(self) -> list[Table]:
        spec = self.spec
        detail = self.detail.table(
            "budget",
            BUDGET,
            "Budget och utfall per insats och kostnadsrad (senaste rapporten per insats)",
            "budget",
            totals=True,
            note="Summaraden räknar bara synliga rader: filtrera på en insats eller en kostnadsrad för dess summa.",
        )
        by_insats = self.by_insats.table("budget_by_initiative", BUDGET, "Summa per insats", "budget_per_insats",
                                         totals=True)
        by_line_rows = []
        for line in spec.budget.lines:
            row: Row = {"line": line.label}
            for key in self.amounts:
                row[key] = float(sum(self.line_amounts[line.key, key]))
            by_line_rows.append(row)
        by_line = make_table(
            "budget_by_line",
            BUDGET,
            "Summa per kostnadsrad, alla insatser",
            "budget_per_kostnadsrad",
            [self.line_column, *_budget_amount_columns(spec, sums_of="line")],
            by_line_rows,
            totals=True,
        )
        financing = self.financing.table(
            "financing",
            BUDGET,
            "Finansiering per insats (senaste rapporten per insats)",
            "finansiering",
            totals=True,
        )
        return [detail, by_insats, by_line, financing]


def report_sum(spec: FormSpec, answers: dict[str, Any], column: str) -> float:
    """The sum of one budget column over the cost lines of one report (blanks count as 0)."""
    return float(sum(map(n, map(answers.get, _column_fields(spec, column)))))


@cache
def _column_fields(spec: FormSpec, column: str) -> tuple[str, ...]:
    """The fields of one budget column, cost line by cost line."""
    return tuple(spec.budget_keys[line.key, column] for line in spec.budget.lines)
