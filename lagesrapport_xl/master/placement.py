"""Where every table of the master goes: its sheet, title, header and data rows, first column, and
the row below each sheet's tables where its chart goes. Decided once, before anything is written:
formulas refer to other tables' cells, so every position must be known first."""

from __future__ import annotations

from dataclasses import dataclass

from ..consolidate.consolidation import Consolidation
from ..consolidate.tables import Table
from .sheets import MASTER_SHEETS


@dataclass(frozen=True)
class Placement:
    """Where one table sits: its sheet, header row and data rows (0-based)."""

    table: Table
    title_row: int
    header_row: int
    rows: int  # data rows written (at least 1: Excel tables need one)
    first_col: int = 0

    @property
    def first_data_row(self) -> int:
        return self.header_row + 1

    @property
    def last_data_row(self) -> int:
        return self.header_row + self.rows

    @property
    def total_row(self) -> int | None:
        return self.last_data_row + 1 if self.table.totals is not None else None

    @property
    def last_row(self) -> int:
        return self.total_row if self.total_row is not None else self.last_data_row

    def col(self, key: str) -> int:
        """The sheet column of a table column."""
        return self.first_col + self.table.column_index(key)

    @property
    def last_col(self) -> int:
        return self.first_col + len(self.table.columns) - 1


def place_tables(consolidation: Consolidation) -> tuple[dict[str, Placement], dict[str, int]]:
    """Every table's position, and the row where each sheet's chart goes (below its tables, so
    that it prints within the tables' width and never covers a table when filters hide rows)."""
    placements: dict[str, Placement] = {}
    chart_rows: dict[str, int] = {}
    for sheet in MASTER_SHEETS:
        row = 0
        linked = sheet.jump_in(consolidation.tables) is not None
        for key in sheet.keys(consolidation.tables):
            table = consolidation.tables[key]
            header = row + 1 + (1 if table.note or linked and key == sheet.tables[0] else 0)
            placement = Placement(table, row, header, max(1, len(table.rows)), sheet.first_col(key))
            placements[key] = placement
            row = placement.last_row + 3
        if sheet.chart is not None:
            chart_rows[sheet.name] = row
    return placements, chart_rows
