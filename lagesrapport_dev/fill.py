"""Fill a template's input cells the way a person does in a spreadsheet program (openpyxl).

Used by tests, the example reports and the benchmark. It follows what Excel does with typing:
in a cell formatted as Text ("@") whatever is typed stays text, even "=1+1"; in any other cell a
string starting with "=" becomes a formula, dates are stored as dates and numbers as numbers.
Cells are found through the defined names, as the reader finds them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import load_workbook


def fill_workbook(template: str | Path, target: str | Path, values: dict[str, Any]) -> Path:
    """Copy `template` to `target` with `values` (defined name → value) typed into their cells."""
    wb = load_workbook(template)
    for key, value in values.items():
        defined = wb.defined_names[key]
        (sheet, address), = defined.destinations
        cell = wb[sheet][address.replace("$", "")]
        if isinstance(value, Decimal):
            value = int(value) if value == value.to_integral_value() else float(value)
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            value = dt.datetime.combine(value, dt.time())
        cell.value = value
        if isinstance(value, str) and cell.number_format == "@":
            cell.data_type = "s"  # Excel keeps typed text as text in a Text cell
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    wb.save(target)
    return target
