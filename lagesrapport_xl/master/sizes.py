"""Column widths and row heights of the master's sheets, from the tables' headers and contents.

Heights are set explicitly: Excel fits rows with wrapped text itself, LibreOffice not always.
"""

from __future__ import annotations

import math
from itertools import islice
from typing import Any

from ..consolidate.tables import Column, Table
from .placement import Placement

BASE_WIDTHS = {"int": 8, "days": 8, "kr": 13, "pct": 9, "date": 11, "datetime": 17, "flag": 8, "long_text": 60}
MAX_TEXT_WIDTH = 48
POINTS_PER_LINE = 12.75
MAX_ROW_HEIGHT = 409  # Excel's limit


def _text_length(table: Table, key: str, enough: int) -> int:
    """The longest line of the texts among the column's first 2 000 values, or at least `enough` as
    soon as one line is that long (a wider column is not made). Only those rows are read: a table
    may keep its rows on disk (common.memory.SpooledSequence)."""
    longest = 0
    at = table.names.index(key)
    for row in islice(table.rows, 2000):
        value = row[at]
        if isinstance(value, str) and len(value) > longest:  # a shorter text has no longer line
            longest = max(longest, max((len(line) for line in value.splitlines()), default=0))
            if longest >= enough:
                break
    return longest


def _column_width(column: Column, table: Table) -> float:
    header_word = max((len(word) for word in column.header.split()), default=6) + 2
    if column.kind in BASE_WIDTHS:
        return max(BASE_WIDTHS[column.kind], header_word)
    if column.kind == "auto":
        return MAX_TEXT_WIDTH
    content = _text_length(table, column.key, MAX_TEXT_WIDTH - 2) + 2 if column.key in table.names else 8
    return max(8, header_word, min(content, MAX_TEXT_WIDTH), min(len(column.header) / 3, MAX_TEXT_WIDTH))


def _lines(text: str, width: float) -> int:
    """Lines a wrapped text needs in a column (Arial 10 fits about 1.3 characters per width unit)."""
    per_line = max(1, int(width * 1.3))
    return sum(max(1, math.ceil(len(part) / per_line)) for part in text.splitlines() or [""])


def column_widths(placements: list[Placement]) -> dict[int, float]:
    """Column widths of a sheet, from its tables' headers and contents."""
    widths: dict[int, float] = {}
    for placement in placements:
        for column in placement.table.columns:
            col = placement.col(column.key)
            widths[col] = max(widths.get(col, 0), _column_width(column, placement.table))
    return widths


def header_height(placement: Placement, widths: dict[int, float]) -> float:
    """The height of a table's header row, from its wrapped headers."""
    lines = max(_lines(c.header, widths[placement.col(c.key)]) for c in placement.table.columns)
    return POINTS_PER_LINE * lines + 4


def wrapped_columns(placement: Placement, widths: dict[int, float]) -> tuple[tuple[int, float], ...]:
    """(position in the rows, width) of each column whose long texts make a row taller."""
    table = placement.table
    return tuple(
        (table.names.index(c.key), widths[placement.col(c.key)])
        for c in table.columns
        if c.kind in ("long_text", "auto") and c.key in table.names
    )


def row_height(values: tuple[Any, ...], wrapped: tuple[tuple[int, float], ...]) -> float | None:
    """The height of a data row whose wrapped texts need more than one line (None: the default).
    A text long enough to need _CAP_LINES lines whatever its line breaks makes the row as tall as
    Excel allows without being split into lines (most rows of the benchmark's Texter sheet)."""
    lines = 1
    for at, width in wrapped:
        text = values[at]
        if isinstance(text, str):
            if len(text) >= _CAP_LINES * (max(1, int(width * 1.3)) + 2):
                return MAX_ROW_HEIGHT  # lines ≥ its parts, and ≥ (its length − 2 a break) / a line's length
            lines = max(lines, _lines(text, width))
    return min(MAX_ROW_HEIGHT, POINTS_PER_LINE * lines + 3) if lines > 1 else None


_CAP_LINES = math.ceil((MAX_ROW_HEIGHT - 3) / POINTS_PER_LINE)  # lines that make a row MAX_ROW_HEIGHT tall
