"""The seam between "get the raw value of each named cell" and "parse and check".

A cell source (openpyxl, the fast calamine reader, an xlwings Book) produces a `WorkbookCells`;
the checking code (check.py) never knows which source it came from. Every source must give the
same `WorkbookCells` for the same file: tests read the whole bad-input corpus both ways.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from ..common.issues import Issue

CellValue = None | str | int | float | bool | dt.date | dt.datetime | dt.time


class RawCell(NamedTuple):
    """A cell as stored. Whole floats are given as int (5306.0 → 5306) by every source.
    A tuple: one is made for every answer of every report (a frozen dataclass costs 3× as much)."""

    value: CellValue
    formula: str | None = None  # "=10+6" when the cell holds a formula (value is then its cached result)
    error: str | None = None  # "#N/A", "#DIV/0!" … when the cell holds an Excel error


@dataclass(frozen=True)
class NameTarget:
    """Where a defined name points, as parsed from its text ('Lägesrapport'!$C$5)."""

    text: str
    sheet: str | None = None
    cell: str | None = None  # "C5" without $; None when the name is a range, a constant or #REF!


@dataclass
class WorkbookCells:
    """Everything a source read from one workbook, before any parsing."""

    sheets: list[str]  # sheet names in workbook order
    names: dict[str, NameTarget]  # workbook-scope defined names
    cells: dict[str, RawCell]  # defined name → the cell it points at (single-cell names only)
    hidden_sheets: set[str] = field(default_factory=set)
    form_version: str | None = None  # the document property "Lägesrapport formulärversion"
    merged: dict[str, str] = field(default_factory=dict)  # defined name → its merged range, "C23:D23"
    issues: list[Issue] = field(default_factory=list)  # what the source itself noticed
    extra: dict[str, Any] = field(default_factory=dict)


class CellSource(Protocol):
    """Reads one file into WorkbookCells. Raises nothing for a bad file: it reports issues."""

    def __call__(self, path: str) -> WorkbookCells: ...


def normalise_number(value: Any) -> Any:
    """The one rule every source applies: integral floats become int, so 5306.0 reads as 5306."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


_ADDRESS = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]{1,7})")


def cell_index(address: str) -> tuple[int, int]:
    """'C5' (or '$C$5') → (row 4, column 2), both 0-based; ValueError for anything else."""
    match = _ADDRESS.fullmatch(address)
    if not match:
        raise ValueError(f"not a cell address: {address!r}")
    return int(match.group(2)) - 1, column_number(match.group(1)) - 1


def column_number(letters: str) -> int:
    """'A' → 1, 'Z' → 26, 'AA' → 27 (1-based, as Excel counts columns)."""
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - 64
    return number
