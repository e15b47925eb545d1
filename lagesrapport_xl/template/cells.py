"""The template's input cells: what goes in them (a pre-filled value, an answer or a carried
formula), the cell type Excel stores for a Python value, and each cell's validation and marks.

The report and the budget sheet write their answer cells through `write_input`, so both sheets
lock, validate and mark a cell the same way.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from xlsxwriter.worksheet import Worksheet

from ..form.previous import Previous
from ..form.spec import Carried, Field, FormSpec
from .formats import TemplateFormats
from .status import as_excel_sees, blank_test, invalid_test


def write_value(ws: Worksheet, row: int, col: int, value: Any, fmt: Any) -> None:
    """Write a Python value as the cell type Excel would store for it; text is never a formula."""
    if value is None:
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, (dt.date, dt.datetime)):
        stamp = value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())
        ws.write_datetime(row, col, stamp, fmt)
    elif isinstance(value, bool):
        ws.write_string(row, col, "Ja" if value else "Nej", fmt)
    elif isinstance(value, (int, float, Decimal)):
        ws.write_number(row, col, float(value), fmt)
    else:
        ws.write_string(row, col, str(value), fmt)


@dataclass(frozen=True)
class CellValues:
    """What goes into the input cells: pre-filled values (locked), answers (left open) and, in a
    template rolled forward from `previous`, the carried cells' formulas (left open too)."""

    prefill: dict[str, Any]
    answers: dict[str, Any]
    previous: Previous | None
    carried: dict[str, Carried]  # the cells written as formulas: spec.carried unless answered

    def get(self, key: str) -> tuple[Any, bool]:
        """(value, locked)."""
        if key in self.prefill:
            return self.prefill[key], True
        return self.answers.get(key), False

    def number(self, field: Field) -> float:
        """The number the budget formulas compute with: N() and SUM() count text and blanks as 0."""
        carried = self.carried.get(field.key)
        if carried is not None and self.previous is not None:  # N(previous)+N(plus), as the formula
            before = self.previous.cumulative.get(field.key)
            return _excel_number(before) + _excel_number(self.get(carried.plus)[0])
        return _excel_number(as_excel_sees(field, self.get(field.key)[0]))


def _excel_number(value: Any) -> float:
    """What N() and SUM() make of a value as stored: a number counts, anything else is 0."""
    return float(value) if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool) else 0.0


def write_input(
    ws: Worksheet, field: Field, spec: FormSpec, fmts: TemplateFormats, cells: CellValues
) -> None:
    """One answer cell: its value (or carried formula), format, validation and marks."""
    value, locked = cells.get(field.key)
    carried = cells.carried.get(field.key)
    if carried is not None:  # open: a coordinator may type the right amount over it
        ws.write_formula(field.row, field.col, carried.formula, fmts.input(field, False), cells.number(field))
    else:
        write_value(ws, field.row, field.col, value, fmts.input(field, locked))
    _add_input_rules(ws, field, spec, fmts, locked)


def _add_input_rules(
    ws: Worksheet, field: Field, spec: FormSpec, fmts: TemplateFormats, prefilled: bool
) -> None:
    """Validation, the red mark when a value is refused or a required answer is empty, the yellow
    mark when required now. The refused mark comes first: it wins over yellow."""
    cell = field.cell
    if field.type.validation and not prefilled:
        ws.data_validation(
            field.row, field.col, field.row, field.col, field.type.validation_options(field.label, field.hint)
        )
        refused = invalid_test(field, cell)
        if refused is not None:  # a pasted value the validation never saw
            ws.conditional_format(
                cell, {"type": "formula", "criteria": f"={refused}", "format": fmts.missing, "stop_if_true": True}
            )
    blank = blank_test(cell)
    if field.required is True and not prefilled:
        ws.conditional_format(cell, {"type": "formula", "criteria": f"={blank}", "format": fmts.missing})
    elif field.condition:
        condition = spec.conditions[field.condition].excel
        ws.conditional_format(
            cell,
            {
                "type": "formula",
                "criteria": f"=AND({condition},{blank})",
                "format": fmts.missing,
                "stop_if_true": True,
            },
        )
        ws.conditional_format(
            cell, {"type": "formula", "criteria": f"={condition}", "format": fmts.required_now}
        )
