"""The rules both cell sources give every value through, so that they agree on every file.

Where a defined name points, one representation per value (whole floats are int, midnight is a
date), dates and times derived from the number the file stores, error cells, and the merged
ranges of the named cells; and the one issue of a file neither source can read.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Collection
from typing import Any

from ...common import catalogue as codes
from ...form.spec import col_letter
from ..cells import CellValue, NameTarget, RawCell, WorkbookCells, cell_index, normalise_number

Wanted = Collection[str] | None  # defined names to read (None: every single-cell name)

_CELL_REF = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]{1,7})")
_SHEET_REF = re.compile(r"=?\s*(?:'((?:[^']|'')+)'|([^'!]+))!(.+)", re.DOTALL)


@functools.lru_cache(maxsize=4096)  # every report of a batch has the same ~90 names
def parse_name_target(text: str) -> NameTarget:
    """'Lägesrapport'!$C$5 → sheet and cell; a range, a constant or #REF! keeps cell None."""
    text = (text or "").strip()
    match = _SHEET_REF.fullmatch(text)
    if not match:
        return NameTarget(text=text)
    sheet = match.group(1).replace("''", "'") if match.group(1) is not None else match.group(2).strip()
    cell = _CELL_REF.fullmatch(match.group(3).strip())
    if not cell:
        return NameTarget(text=text, sheet=sheet)
    return NameTarget(text=text, sheet=sheet, cell=f"{cell.group(1).upper()}{int(cell.group(2))}")


def clean_value(value: Any) -> CellValue:
    """One representation per value: '' is empty, whole floats are int, midnight is a date."""
    if value == "" or value is None:
        return None
    if isinstance(value, dt.datetime) and value.time() == dt.time() and value.tzinfo is None:
        return value.date()
    return normalise_number(value)


# Excel shows numbers from 0 to 2 958 465 in a date-formatted cell as dates (1900-01-00 …
# 9999-12-31); outside that range it shows ##### and the readers disagree (calamine gives a time
# or the number, openpyxl a date of 1899 or #VALUE!). Inside it they round milliseconds
# differently. Both sources therefore derive dates and times from the stored number, one way.
_LAST_DATE_SERIAL = 2_958_465
_MS_PER_DAY = 86_400_000


def as_stored(number: float | None, value: Any) -> Any:
    """The cell's value by one rule from the number the file stores (None: not a numeric cell).

    A number no date format can show is the number; a date or time (as the library saw the
    cell's format) is recomputed from it to the millisecond, with Excel's 1900 calendar.
    """
    if number is None:
        return value
    if not 0 <= number <= _LAST_DATE_SERIAL + 1:  # also NaN and infinity, which compare false
        return number
    days, millis = divmod(round(number * _MS_PER_DAY), _MS_PER_DAY)
    if days > _LAST_DATE_SERIAL:
        return number
    if not isinstance(value, (dt.date, dt.time)):
        return value
    time_of_day = dt.timedelta(milliseconds=millis)
    if isinstance(value, dt.time):
        return (dt.datetime.min + time_of_day).time()
    if days == 60:  # Excel's 1900-02-29, a day that never was: both libraries show 1900-02-28
        day = dt.datetime(1900, 2, 28)
    else:  # serial 1 is 1900-01-01; from serial 61 on, the fictitious 29 February shifts the count
        day = dt.datetime(1899, 12, 31 if days < 60 else 30) + dt.timedelta(days=days)
    return day + time_of_day


def raw_cell(value: Any, formula: str | None, error: str | None) -> RawCell:
    """The RawCell both sources give. An error cell has no value, and '=#N/A' (LibreOffice's way
    of storing a typed #N/A, which has no error constants) is the error itself, not a formula."""
    if error is not None and formula is not None and formula.strip().upper() == "=" + error.upper():
        formula = None
    return RawCell(None if error is not None else clean_value(value), formula, error)


def wanted_names(names: dict[str, NameTarget], wanted: Wanted) -> dict[str, NameTarget]:
    """The single-cell names to read, matched without regard to case as Excel does."""
    if wanted is None:
        return {k: t for k, t in names.items() if t.cell}
    lowered = {k.lower(): k for k in names}
    chosen = {}
    for key in wanted:
        actual = lowered.get(key.lower())
        if actual is not None and names[actual].cell:
            chosen[actual] = names[actual]
    return chosen


cell_position = functools.lru_cache(maxsize=4096)(cell_index)  # the same addresses in every report


def merged_names(
    targets: dict[str, NameTarget], sheet: str, ranges: list[tuple[int, int, int, int]]
) -> dict[str, str]:
    """Names whose cell lies in a merged range of `sheet` (0-based first row, col, last row, col)."""
    merged: dict[str, str] = {}
    if not ranges:
        return merged
    for key, target in targets.items():
        if target.sheet != sheet:
            continue
        row, col = cell_position(target.cell)
        for first_row, first_col, last_row, last_col in ranges:
            if first_row <= row <= last_row and first_col <= col <= last_col:
                merged[key] = f"{col_letter(first_col)}{first_row + 1}:{col_letter(last_col)}{last_row + 1}"
    return merged


def unreadable() -> WorkbookCells:
    """One issue, the same from both sources (the libraries' exceptions differ, the file's fault does not)."""
    return WorkbookCells(sheets=[], names={}, cells={}, issues=[codes.UNREADABLE_FILE.issue()])
