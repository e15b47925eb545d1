"""The status boxes: every problem the template itself can see, as Excel formulas and their Python
twins (`count_missing`, `count_invalid`, `status_text`) that give the formulas' cached values.

The template sees two kinds of problem: a required answer that is empty (conditions included), and
a value its data validation would refuse (text in a date or amount cell, a negative count, a
pasted "Kanske" in a Ja/Nej cell: pasting or a program's writing bypass the validation). Both mark
their cell red, and each sheet's box counts them and says where: here (red cells) or on the
other sheet. Everything else (a date that does not exist, a budget line without utfall) needs
RAR's check, and the box says that it is only what the template sees.

The twins must agree with Excel cell for cell: a previewer shows the cached value, never
recalculating (tests/test_template_libreoffice.py recalculates and compares).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ..form.conditions import holds
from ..form.fieldtypes import EXCEL_EPOCH, MAX_CELL_TEXT
from ..form.spec import Field, FormSpec

MISSING_COUNT_NAME = "missing_count"  # the workbook name of the count, on the Data sheet (B2)
# The values each sheet's validation would refuse, per form sheet: Data!B3 and Data!B4.
INVALID_COUNT_NAMES = ("invalid_report_count", "invalid_budget_count")
NOTHING_SEEN = "Mallen ser inga problem: alla obligatoriska svar är ifyllda och alla värden godtas."


def as_excel_sees(field: Field, value: Any) -> Any:
    """The value as the template's formulas see it once `cells.write_value` has stored it.

    Text stays text (ISNUMBER is false for "5"), numbers and dates are numbers, and a Ja/Nej
    answer compares like Excel's TRIM(x)="Nej": spaces trimmed, letter case ignored.
    """
    if isinstance(value, bool):
        return "Ja" if value else "Nej"
    if isinstance(value, dt.date):  # a date cell holds its serial number
        day = value.date() if isinstance(value, dt.datetime) else value
        return (day - EXCEL_EPOCH).days
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


# --- required answers that are empty ------------------------------------------------------------


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


# --- values the validation refuses ---------------------------------------------------------------


def _serial(value: Any) -> Any:
    return (value - EXCEL_EPOCH).days if isinstance(value, dt.date) else value


def invalid_test(field: Field, cell: str) -> str | None:
    """The Excel test (TRUE when refused) of the value in `cell` against the field's validation;
    None for a field whose validation nothing can break (long text, computed shares)."""
    rule = field.type.validation
    kind = rule.get("validate")
    if kind in ("decimal", "integer", "date"):
        low, high = _serial(rule["minimum"]), _serial(rule["maximum"])
        whole = f"{cell}<>INT({cell})," if kind == "integer" else ""
        return f"IF(ISNUMBER({cell}),OR({whole}{cell}<{low},{cell}>{high}),LEN(TRIM({cell}))>0)"
    if kind == "list":
        allowed = ",".join(f'TRIM({cell})<>"{choice}"' for choice in rule["source"])
        return f"AND(LEN(TRIM({cell}))>0,{allowed})"
    if kind == "length" and rule["value"] < MAX_CELL_TEXT:
        return f"LEN({cell})>{rule['value']}"
    return None


def is_invalid(field: Field, value: Any) -> bool:
    """Python's `invalid_test`, on the value as Excel sees it."""
    rule = field.type.validation
    kind = rule.get("validate")
    seen = as_excel_sees(field, value)
    number = isinstance(seen, (int, float)) and not isinstance(seen, bool)
    if kind in ("decimal", "integer", "date"):
        if not number:
            return not _excel_blank(seen)
        low, high = _serial(rule["minimum"]), _serial(rule["maximum"])
        return (kind == "integer" and seen != int(seen)) or not low <= seen <= high
    if kind == "list":
        return not _excel_blank(seen) and seen not in rule["source"]
    if kind == "length" and rule["value"] < MAX_CELL_TEXT:
        return seen is not None and len(str(seen)) > rule["value"]
    return False


def invalid_count_formula(spec: FormSpec, sheet: str) -> str:
    """Excel formula counting the refused values on `sheet`: a sum of the cells' tests (TRUE is 1).
    Sheet-qualified cell references, not the longer names: the budget's 48 cells stay far below
    Excel's 8 192 characters per formula."""
    terms = [
        test for field in spec.fields.values() if field.sheet == sheet
        if (test := invalid_test(field, f"'{sheet}'!{field.cell}")) is not None
    ]
    return "=0" + "".join(f"+({term})" for term in terms)  # "+" binds before ">": each term in brackets


def count_invalid(spec: FormSpec, values: dict[str, Any], sheet: str) -> int:
    """Refused values on `sheet`, exactly as `invalid_count_formula` counts them."""
    return sum(
        1 for key, value in values.items()
        if key in spec.fields and spec.fields[key].sheet == sheet and is_invalid(spec.fields[key], value)
    )


# --- the boxes' text -----------------------------------------------------------------------------


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def status_formula(missing: str | None, invalid: str, other: str, other_sheet: str) -> str:
    """A sheet's status box over the counts' names: this sheet's empty required answers
    (`missing`, None on a sheet without any), its refused values, and the other sheet's problems
    (`other`, an Excel sum). The same wording as `status_text`."""
    m = missing or "0"
    k, o = invalid, f"({other})"
    missing_text = f'IF({m}=0,"",IF({m}=1,"1 obligatoriskt svar saknas",{m}&" obligatoriska svar saknas"))'
    invalid_text = f'IF({k}=0,"",IF({k}=1,"1 värde godtas inte",{k}&" värden godtas inte"))'
    here = (f'IF({m}+{k}=0,"",{missing_text}&IF(AND({m}>0,{k}>0)," och ","")&{invalid_text}'
            '&" här (röda celler)")')
    elsewhere = f'IF({o}=0,"",IF({m}+{k}>0,", ","")&{o}&{_quoted(" på bladet " + other_sheet)})'
    total = f"{m}+{k}+{o}"
    return f'=IF({total}=0,{_quoted(NOTHING_SEEN)},"Mallen ser "&({total})&" problem: "&{here}&{elsewhere}&".")'


def status_text(missing: int, invalid: int, other: int, other_sheet: str) -> str:
    """The status box's text for given counts; the same wording as the Excel formula."""
    if missing + invalid + other == 0:
        return NOTHING_SEEN
    parts = []
    if missing:
        parts.append("1 obligatoriskt svar saknas" if missing == 1 else f"{missing} obligatoriska svar saknas")
    if invalid:
        parts.append("1 värde godtas inte" if invalid == 1 else f"{invalid} värden godtas inte")
    here = " och ".join(parts) + " här (röda celler)" if parts else ""
    elsewhere = f"{other} på bladet {other_sheet}" if other else ""
    joined = ", ".join(part for part in (here, elsewhere) if part)
    return f"Mallen ser {missing + invalid + other} problem: {joined}."


def sheet_statuses(spec: FormSpec, values: dict[str, Any]) -> dict[str, str]:
    """Each form sheet's status text for `values` (the cached values of both boxes)."""
    missing = count_missing(spec, values)
    report, budget = (count_invalid(spec, values, sheet) for sheet in (spec.report_sheet, spec.budget_sheet))
    return {
        spec.report_sheet: status_text(missing, report, budget, spec.budget_sheet),
        spec.budget_sheet: status_text(0, budget, missing + report, spec.report_sheet),
    }
