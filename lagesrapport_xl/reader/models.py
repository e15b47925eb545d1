"""Pydantic models of a report, generated from the form specification.

Every input cell of the form (every defined name) is one field of `Report`, typed by its field
type: a new question or budget line in form.toml is a new field here without code changes.
Budget values are `Decimal` kronor so that sums are exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, create_model

from ..common.issues import json_answers
from ..form.spec import FormSpec, default_spec


class ReportBase(BaseModel):
    """Fields every report has besides the answers: where it came from and which form it used."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=False)

    form_version: Optional[str] = None
    source_file: str = ""
    source_sha256: str = ""

    def answers(self) -> dict[str, Any]:
        """Field key → value for every input cell (the 'report' object of the JSON contract)."""
        skip = set(ReportBase.model_fields)
        return {k: v for k, v in self.__dict__.items() if k not in skip}

    def answers_json(self) -> dict[str, Any]:
        return json_answers(self.answers())


@dataclass(frozen=True)
class BudgetRow:
    """One cost line or financing line of one report, columns by key (input columns only)."""

    key: str
    label: str
    group: str  # budget | financing
    values: dict[str, Any]

    def amount(self, column: str) -> Decimal:
        value = self.values.get(column)
        return value if isinstance(value, Decimal) else Decimal(0)


@cache
def report_model(spec: FormSpec) -> type[ReportBase]:
    """The Report class for a specification (cached: one class per spec)."""
    fields: dict[str, Any] = {
        f.key: (Optional[f.type.python_type], None) for f in spec.fields.values()  # noqa: UP045
    }
    return create_model("Report", __base__=ReportBase, **fields)


def budget_rows(report: ReportBase, spec: FormSpec) -> list[BudgetRow]:
    """The report's budget as rows: cost lines first, then financing, in the form's order."""
    rows = []
    for line in spec.budget.lines + spec.budget.financing:
        values = {
            column.key: getattr(report, spec.budget_key(line.key, column.key))
            for column in spec.budget.columns
            if column.is_input
        }
        rows.append(BudgetRow(key=line.key, label=line.label, group=line.group, values=values))
    return rows


Report = report_model(default_spec())

__all__ = ["BudgetRow", "Report", "ReportBase", "budget_rows", "report_model"]
