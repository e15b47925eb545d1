"""One problem found in one workbook, pointing at its cell; the shape of `validate --format json`."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from decimal import Decimal
from enum import Enum
from typing import Any


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"


SEVERITY_SV = {Severity.ERROR: "Fel", Severity.WARNING: "Varning"}


@dataclass(frozen=True)
class Issue:
    """A problem with a file or a cell. `message` is plain Swedish and says what to do.

    `code` is a stable machine-readable kind (e.g. "not_a_number") for tests and statistics;
    it is not part of the public JSON contract.
    """

    severity: Severity
    message: str
    code: str
    sheet: str | None = None
    cell: str | None = None
    field: str | None = None
    label: str | None = None
    value: Any = None

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    @property
    def where(self) -> str:
        """'Lägesrapport!C9' or '' for problems of the whole file."""
        if self.sheet and self.cell:
            return f"{self.sheet}!{self.cell}"
        return self.sheet or ""

    def to_json(self) -> dict[str, Any]:
        """The public contract: severity, sheet, cell, field, label, value, message."""
        data = asdict(self)
        return {
            "severity": self.severity.value,
            "sheet": data["sheet"],
            "cell": data["cell"],
            "field": data["field"],
            "label": data["label"],
            "value": json_value(self.value),
            "message": self.message,
        }

    def describe(self) -> str:
        """One line for a terminal or a list: 'Fel Lägesrapport!C9 (Datum): …'."""
        parts = [SEVERITY_SV[self.severity]]
        if self.where:
            parts.append(self.where)
        if self.label:
            parts.append(f"({self.label})")
        return " ".join(parts) + ": " + self.message


def json_value(value: Any) -> Any:
    """Values as JSON understands them: ISO dates, whole numbers as int, Decimal as number."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def json_answers(answers: dict[str, Any]) -> dict[str, Any]:
    """Answers (field key → value) as the JSON contract has them."""
    return {key: json_value(value) for key, value in answers.items()}


def kronor(amount: Decimal) -> str:
    """1234567.5 → '1 234 567,50 kr' (no-break spaces), as amounts are written in Swedish."""
    whole = f"{amount:,.2f}" if amount != amount.to_integral_value() else f"{amount:,.0f}"
    return whole.replace(",", "\u00a0").replace(".", ",") + "\u00a0kr"


def shown_value(value: Any) -> str:
    """An issue's value as the lists show it beside the message (the Kontroll sheets, the receipt):
    an amount (the reader's only Decimal) as the messages write it, '30 000 kr', never '30000'."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return kronor(value)
    if isinstance(value, bool):
        return "SANT" if value else "FALSKT"
    if isinstance(value, float):
        return str(json_value(value)).replace(".", ",")
    return str(json_value(value))

