"""What xlwings' Excel client would send for a saved workbook: the `xw.Book(json=…)` payload.

Without Excel (Linux, CI) this is the way to run the Excel entry points on a real file: the
template filled and saved like a coordinator's report becomes the same JSON that xlwings Lite,
xlwings Server or the VBA client build inside Excel — values from A1 to the last used cell,
"" for empty cells, cells with a date format as ISO timestamps, range names with their sheet
index and address. Formulas are not part of that payload, only their cached values.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils.cell import range_boundaries

OFFICE_JS = "Office.js"  # xlwings Lite and the xlwings Server add-in
VBA = "VBA"  # the xlwings add-in's RunRemotePython


def iso_timestamp(value: dt.date | dt.datetime | dt.time) -> str:
    """A date cell as the JavaScript and VBA clients encode it: 2021-12-10T00:00:00.000Z."""
    if isinstance(value, dt.time):
        value = dt.datetime.combine(dt.date(1899, 12, 30), value)
    elif not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time())
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _cell_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return iso_timestamp(value)
    return value


def _sheet_values(ws: Any) -> list[list[Any]]:
    cells = ws.iter_rows(min_row=1, min_col=1, max_row=ws.max_row, max_col=ws.max_column, values_only=True)
    rows = [[_cell_value(v) for v in row] for row in cells]
    return rows or [[""]]


def _visibility(state: str) -> str:
    return {"visible": "Visible", "hidden": "Hidden", "veryHidden": "VeryHidden"}.get(state, "Visible")


def _name_entry(
    name: str, destinations: list[tuple[str, str]], sheets: list[str], scope: str | None
) -> dict[str, Any] | None:
    """Office.js lists only names that are one range; others (constants, #REF!) are left out."""
    if len(destinations) != 1:
        return None
    sheet, address = destinations[0]
    if sheet not in sheets:
        return None
    address = address.replace("$", "")
    try:
        range_boundaries(address)
    except ValueError:
        return None
    return {
        "name": name,
        "sheet_index": sheets.index(sheet),
        "address": address,
        "scope_sheet_name": scope,
        "scope_sheet_index": sheets.index(scope) if scope else None,
        "book_scope": scope is None,
    }


def book_payload(path: str | Path, *, client: str = OFFICE_JS, version: str | None = None) -> dict[str, Any]:
    """The JSON an xlwings client sends for the workbook at `path` (cached values, not formulas).

    `version` defaults to the installed xlwings version, which the VBA client must match exactly.
    """
    if version is None:
        from importlib.metadata import version as package_version

        version = package_version("xlwings")
    wb = load_workbook(path, data_only=True)
    sheets = wb.sheetnames
    names = []
    for name, defined in wb.defined_names.items():
        entry = _name_entry(name, list(defined.destinations), sheets, None)
        if entry:
            names.append(entry)
    for ws in wb.worksheets:
        for name, defined in ws.defined_names.items():
            entry = _name_entry(name, list(defined.destinations), sheets, ws.title)
            if entry:
                names.append(entry)
    return {
        "client": client,
        "version": version,
        "book": {"name": Path(path).name, "active_sheet_index": wb.index(wb.active), "selection": "A1"},
        "names": names,
        "sheets": [
            {
                "name": ws.title,
                "values": _sheet_values(ws),
                "visibility": _visibility(ws.sheet_state),
                "pictures": [],
                "tables": [],
                "shapes": [],
            }
            for ws in wb.worksheets
        ],
    }
