"""The count of required answers still empty: the Excel formula the status box shows, and its
Python twin (`count_missing`) that gives the formula's cached value and the same wording.

The twin must agree with Excel cell for cell: a previewer shows the cached value, never recalculating.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..form.conditions import holds
from ..form.spec import Field, FormSpec

MISSING_COUNT_NAME = "missing_count"  # the workbook name of the count, on the Data sheet


def as_excel_sees(field: Field, value: Any) -> Any:
    """The value as the template's formulas see it once `cells.write_value` has stored it.

    Text stays text (ISNUMBER is false for "5"), numbers stay numbers, and a Ja/Nej answer
    compares like Excel's TRIM(x)="Nej": spaces trimmed, letter case ignored.
    """
    if isinstance(value, bool):
        return "Ja" if value else "Nej"
    if isinstance(value, (int, float, Decimal)):
        number = float(value)
        return int(number) if number.is_integer() else number
    if isinstance(value, str) and field.type.name == "yes_no":
        word = " ".join(value.split(" ")).strip(" ").casefold()
        return {"ja": "Ja", "nej": "Nej"}.get(word, value)
    return value


def _excel_blank(value: Any) -> bool:
    """LEN(TRIM(x))=0: Excel's TRIM removes spaces only, not tabs or line breaks."""
    return value is None or (isinstance(value, str) and value.strip(" ") == "")


def blank_test(name: str) -> str:
    """The Excel test that a cell (or named cell) is empty: the twin of `_excel_blank`."""
    return f"LEN(TRIM({name}))=0"


def missing_count_formula(spec: FormSpec) -> str:
    """Excel formula counting the required answers that are empty, conditions included."""
    terms = []
    for field in spec.fields.values():
        if field.required is True:
            terms.append(f"({blank_test(field.key)})")
        elif field.condition:
            condition = spec.conditions[field.condition].excel
            terms.append(f"AND({condition},{blank_test(field.key)})")
    return "=" + "+".join(f"IF({t},1,0)" for t in terms)


def status_formula(cell: str) -> str:
    """The status box's formula on the count in `cell`; the same wording as `status_text`."""
    return (
        f'=IF({cell}=0,"{status_text(0)}",'
        f'IF({cell}=1,"{status_text(1)}",'
        f'{cell}&" obligatoriska svar saknas – se röda celler."))'
    )


def status_text(missing: int) -> str:
    """The status cell's text for a given count; the same wording as the Excel formula."""
    if missing == 0:
        return "Alla obligatoriska svar är ifyllda."
    if missing == 1:
        return "1 obligatoriskt svar saknas – se röda celler."
    return f"{missing} obligatoriska svar saknas – se röda celler."


def count_missing(spec: FormSpec, values: dict[str, Any]) -> int:
    """Required answers that are empty, exactly as the template's status formula counts them.

    `values` are Python values as given to `write_template` (prefill and answers together).
    """
    seen = {
        key: as_excel_sees(spec.fields[key], value) for key, value in values.items() if key in spec.fields
    }
    missing = 0
    for field in spec.fields.values():
        if not _excel_blank(seen.get(field.key)):
            continue
        if field.required is True or (field.condition and holds(field.condition, seen)):
            missing += 1
    return missing
