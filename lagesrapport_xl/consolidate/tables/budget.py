"""The Budget sheet: budget and utfall per insats and cost line of each insats' latest report, the
sums per insats and per cost line, and the financing lines."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from functools import cache
from typing import Any

from ...form.spec import FormSpec
from .base import (
    BUDGET,
    SOURCE_CELLS,
    SOURCE_FILE,
    Column,
    Context,
    Row,
    Table,
    id_columns,
    id_values,
    make_table,
    n,
    ratio,
    share_formula,
)


def _amount(value: Any) -> float | None:
    if value is None:
        return None
    return float(value) if isinstance(value, Decimal) else value


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
    keys = spec.budget_keys
    cells = [
        spec.fields[keys[line_key, c.key]].cell for c in spec.budget.columns if c.is_input and c.type.name == "amount"
    ]
    span = cells[0] if len(cells) == 1 else f"{cells[0]}:{cells[-1]}"
    return f"{spec.budget_sheet}!{span}"


def _budget_rows(ctx: Context, lines: Sequence[Any]) -> list[Row]:
    spec = ctx.spec
    keys = spec.budget_keys
    rows = []
    for index in ctx.latest:
        outcome = ctx.reports[index]
        answers = outcome.answers or {}
        for line in lines:
            row = {**id_values(outcome), "line": line.label}
            for column in spec.budget.columns:
                if column.is_input:
                    value = answers.get(keys[line.key, column.key])
                    row[column.key] = _amount(value) if column.type.name == "amount" else value
            row["source"] = _line_span(spec, line.key)
            rows.append(row)
    return rows


def _text_budget_columns(spec: FormSpec) -> list[Column]:
    return [Column(c.key, c.label, "text") for c in spec.budget.columns if c.is_input and c.type.name == "text"]


def budget_tables(ctx: Context, time_share: Table) -> list[Table]:
    spec = ctx.spec
    line_column = Column("line", "Kostnadsrad")
    detail_columns = [
        *id_columns(spec),
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
        row = {**id_values(outcome), "_time_row": index}
        for key in amounts:
            row[key] = report_sum(spec, outcome.answers or {}, key)
        row["elapsed_share"] = time_share.value(index, "elapsed_share")
        by_insats_rows.append(row)
    by_insats = make_table(
        "budget_by_initiative",
        BUDGET,
        "Summa per insats",
        "budget_per_insats",
        [
            *id_columns(spec),
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
            field_key = spec.budget_keys[line.key, key]
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
        *id_columns(spec),
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


def report_sum(spec: FormSpec, answers: dict[str, Any], column: str) -> float:
    """The sum of one budget column over the cost lines of one report (blanks count as 0)."""
    keys = spec.budget_keys
    return float(sum(n(answers.get(keys[line.key, column])) for line in spec.budget.lines))
