"""The sheet "Budget": the budget lines and the financing, each with its "Summa" row, and the
balance row (costs minus financing, marked red when not 0).

Amounts are answer cells; the other columns are the form's formulas, written with cached values
computed here the way Excel computes them, so a previewer shows the right sums.
"""

from __future__ import annotations

import re
from typing import Any

from xlsxwriter.worksheet import Worksheet

from ..form.spec import FormSpec, cell_address, col_letter
from .cells import CellValues, write_input
from .formats import TemplateFormats
from .page import STATUS_HEIGHT, SUBTITLE_HEIGHT, TITLE_HEIGHT, print_scale, setup_print, text_height
from .status import INVALID_COUNT_NAMES, MISSING_COUNT_NAME, status_formula

BUDGET_LABEL_WIDTH = 30
BUDGET_AMOUNT_WIDTH = 12.5
BUDGET_SHARE_WIDTH = 10
BUDGET_COMMENT_WIDTH = 18


def write_budget_sheet(
    ws: Worksheet, spec: FormSpec, fmts: TemplateFormats, cells: CellValues, status: str
) -> None:
    """The whole sheet; `status` is the status box's cached text. No budget cell is required, so
    its box counts the refused values here and the report sheet's problems there."""
    budget = spec.budget
    widths = {0: BUDGET_LABEL_WIDTH} | {c.col: _budget_width(c.type.name) for c in budget.columns}
    for col, width in widths.items():
        ws.set_column(col, col, width)
    last_col = max(c.col for c in budget.columns)
    ws.write_string(0, 0, budget.title, fmts.title)
    ws.write_string(1, 0, budget.intro, fmts.subtitle)
    ws.merge_range(2, 0, 2, min(3, last_col), "", fmts.status)
    report_invalid, here = INVALID_COUNT_NAMES
    formula = status_formula(None, here, f"{MISSING_COUNT_NAME}+{report_invalid}", spec.report_sheet)
    ws.write_formula(2, 0, formula, fmts.status, status)
    ws.set_row(0, TITLE_HEIGHT)
    ws.set_row(1, SUBTITLE_HEIGHT)
    ws.set_row(2, STATUS_HEIGHT)
    # headers are 9 pt: a column holds 10/9 as many characters as the 10 pt estimate assumes
    header_height = max(
        text_height(c.label, _budget_width(c.type.name) * 10 / 9, bold=True) for c in budget.columns
    )

    totals: dict[str, dict[str, float]] = {"budget": {}, "financing": {}}
    for group, heading, header_row, lines, total_row in (
        ("budget", budget.lines_heading, budget.header_row, budget.lines, budget.lines_total_row),
        (
            "financing",
            budget.financing_heading,
            budget.financing_header_row,
            budget.financing,
            budget.financing_total_row,
        ),
    ):
        ws.write_string(header_row, 0, heading, fmts.header)
        for column in budget.columns:
            ws.write_string(header_row, column.col, column.label, fmts.header)
        ws.set_row(header_row, header_height)
        for line in lines:
            ws.write_string(line.row, 0, line.label, fmts.line_label)
            ws.set_row(line.row, text_height(line.label, BUDGET_LABEL_WIDTH))
            values: dict[str, float] = {}
            for column in budget.columns:
                if column.is_input:
                    field = spec.fields[spec.budget_key(line.key, column.key)]
                    write_input(ws, field, spec, fmts, cells)
                    if column.type.name == "amount":
                        values[column.key] = cells.number(field)
                else:
                    fmt = fmts.locked(column.type.number_format)
                    cached = _formula_value(column.key, values)
                    ws.write_formula(
                        line.row, column.col, _budget_formula(column.formula, spec, line.row), fmt, cached
                    )
            for key, value in values.items():
                totals[group][key] = totals[group].get(key, 0.0) + value
        _write_total_row(ws, spec, fmts, total_row, lines[0].row if lines else total_row, totals[group])

    label = budget.balance_label
    ws.write_string(budget.balance_row, 0, label, fmts.total_label)
    ws.set_row(budget.balance_row, text_height(label, BUDGET_LABEL_WIDTH, bold=True))
    for column in budget.columns:
        if column.type.name == "amount" and column.is_input:
            letter = col_letter(column.col)
            cell = f"{letter}{budget.balance_row + 1}"
            fmt = fmts.locked(column.type.number_format, bold=True)
            cached = totals["budget"].get(column.key, 0.0) - totals["financing"].get(column.key, 0.0)
            ws.write_formula(
                budget.balance_row,
                column.col,
                f"={letter}{budget.lines_total_row + 1}-{letter}{budget.financing_total_row + 1}",
                fmt,
                cached,
            )
            ws.conditional_format(
                cell, {"type": "formula", "criteria": f"=ROUND({cell},0)<>0", "format": fmts.warning}
            )
    ws.freeze_panes(budget.header_row + 1, 1)
    ws.print_area(0, 0, budget.balance_row, last_col)
    setup_print(ws, spec, print_scale(list(widths.values())), budget.header_row, budget.header_row)


def _budget_width(column_type: str) -> float:
    return {"text": BUDGET_COMMENT_WIDTH, "share": BUDGET_SHARE_WIDTH}.get(column_type, BUDGET_AMOUNT_WIDTH)


def _budget_formula(template: str, spec: FormSpec, row: int) -> str:
    def replace(match: re.Match[str]) -> str:
        return cell_address(row, spec.budget.column(match.group(1)).col)

    return "=" + re.sub(r"\{(\w+)\}", replace, template)


def _formula_value(column_key: str, values: dict[str, float]) -> Any:
    """Cached results of the two formula columns, matching their Excel formulas."""
    if column_key == "deviation_period":
        return values.get("budget_period", 0.0) - values.get("actual_period", 0.0)
    if column_key == "used_share":
        total = values.get("budget_total", 0.0)
        return "" if total == 0 else values.get("actual_cumulative", 0.0) / total
    return 0.0


def _write_total_row(
    ws: Worksheet, spec: FormSpec, fmts: TemplateFormats, total_row: int, first: int, totals: dict[str, float]
) -> None:
    """The "Summa" row: SUM over the lines above for amounts, the same formulas for the rest."""
    ws.write_string(total_row, 0, spec.budget.total_label, fmts.total_label)
    ws.set_row(total_row, 18)
    for column in spec.budget.columns:
        fmt = fmts.locked(column.type.number_format, bold=True)
        if column.type.name == "amount" and column.is_input:
            letter = col_letter(column.col)
            formula = f"=SUM({letter}{first + 1}:{letter}{total_row})"
            ws.write_formula(total_row, column.col, formula, fmt, totals.get(column.key, 0.0))
        elif column.formula:
            formula = _budget_formula(column.formula, spec, total_row)
            ws.write_formula(total_row, column.col, formula, fmt, _formula_value(column.key, totals))
        else:
            ws.write_blank(total_row, column.col, None, fmt)
