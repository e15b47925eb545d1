"""The facts of the report before this one that the next report is checked against.

Written into a rolled-forward template (template/) and read back from it, or found in a batch
(consolidate/); the rule that compares them lives in reader/rules.py. It sits in form/ because the
template, the reader and the consolidation all use it and form/ is below all three.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .spec import FormSpec


@dataclass(frozen=True)
class Previous:
    """The report before this one of the same insats, as far as the rules compare with it.

    Carried in the file (a template rolled forward from it keeps these facts under the
    `previous_*` names of its Data sheet) or found in the same batch (consolidate/statuses.py); both are
    compared by `check_previous`. `cumulative` maps each carried cell (spec.carried, e.g.
    budget_staff_actual_cumulative) to the previous report's amount, None where it had none.
    """

    file: str
    report_number: int | None
    period_end: dt.date | None
    cumulative: Mapping[str, Decimal | None]
    sha256: str | None = None

    @classmethod
    def of(cls, answers: Mapping[str, Any], spec: FormSpec, file: str, sha256: str | None = None) -> Previous:
        """The facts of a report read without errors (its answers)."""
        cumulative = {key: answers.get(key) for key in spec.carried}
        return cls(file, answers.get("report_number"), answers.get("period_end"), cumulative, sha256)

    @property
    def named(self) -> str:
        """'nr 1 (rapport_1.xlsx)', as the messages name it (a carried fact may be missing)."""
        number = f"nr {self.report_number}" if self.report_number is not None else ""
        return " ".join(part for part in (number, f"({self.file})" if self.file else "") if part)
